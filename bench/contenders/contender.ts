/*
 * The contract every benchmark contender implements: a module that starts one
 * server on loopback speaking the bench protocol (see protocol.ts) and hands
 * back how to reach it, count its connections, and stop it.
 */

/** Where and how a contender listens. */
export interface StartOptions {
  /** 0 (the default) picks a free port. */
  port?: number
  host?: string
  /** For the two-node contenders: the Redis server and a per-run key/channel prefix. */
  redis?: { url: string, prefix: string }
}

/** A running contender. */
export interface ContenderServer {
  readonly port: number
  /** The WebSocket path clients connect to (socket.io clients use their own path). */
  readonly path: string
  /** Open connections as the server sees them. */
  connections (): number
  /** Frames the server has written so far, when its framework counts them (pachinko's `app.ws.metrics.messagesOut`). */
  framesOut? (): number
  /** Stops listening and closes every connection and client it created. */
  close (): Promise<void>
}

/** What each `bench/contenders/<name>.ts` module exports. */
export interface ContenderModule {
  start (options?: StartOptions): Promise<ContenderServer>
}

/** The client library a contender is driven with. */
export type ClientKind = 'ws' | 'socket.io' | 'ws-deflate' | 'phoenix'
