import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { DuplexOptions } from 'node:stream'
import type { WebSocketLike } from './connection/websocket-like.js'

/**
 * ws `WebSocketServer` options, as `@fastify/websocket` takes them (`path`
 * excepted): the common ones typed, the rest passed through as given.
 */
export interface WebSocketServerOptions {
  /**
   * Largest frame accepted, in bytes.
   * @default the plugin's `maxPayload`
   */
  maxPayload?: number
  /** Per-message compression: `true`, or ws's `PerMessageDeflateOptions`. */
  perMessageDeflate?: boolean | object
  /** Whether the server keeps its clients in a set. */
  clientTracking?: boolean
  /** Skips the UTF-8 check of text frames. */
  skipUTF8Validation?: boolean
  /** Picks the subprotocol from those the client offers. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false
  /** Any other ws server option. */
  [option: string]: unknown
}

/**
 * What the plugin passes to `@fastify/websocket` when it registers it: that
 * plugin's `WebsocketPluginOptions`, declared here so the types need no `@types/ws`.
 */
export interface WebsocketOptions {
  /** ws `WebSocketServer` options. */
  options?: WebSocketServerOptions
  /** Options of the duplex stream around each socket. */
  connectionOptions?: DuplexOptions
  /**
   * Called when a socket of a plain `websocket: true` route errors (the plugin's own routes log their errors themselves).
   * @default does nothing
   */
  errorHandler? (this: FastifyInstance, error: Error, socket: WebSocketLike, request: FastifyRequest, reply: FastifyReply): void
  /**
   * Replaces `@fastify/websocket`'s `preClose` hook, which closes every client.
   * @default @fastify/websocket's
   */
  preClose? (this: FastifyInstance, done: (err?: Error) => void): void | Promise<unknown>
}
