/**
 * A `ws` WebSocket as the public types name it (`connection.socket`, the
 * testing helper's `socket`): the members most code needs, declared here so a
 * project type-checks without `@types/ws`, which would pull the newest
 * `@types/node` into it. At run time it is ws's `WebSocket`; with `@types/ws`
 * installed, cast to `import('ws').WebSocket` for the rest.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number
  /** Bytes queued by `send()` that are not yet written to the network. */
  readonly bufferedAmount: number
  /** The subprotocol the server selected (`''` when none). */
  readonly protocol: string
  /** Sends a frame: text for a string unless `{ binary: true }`. */
  send (data: string | Buffer | ArrayBuffer | ArrayBufferView, options?: { binary?: boolean, compress?: boolean, fin?: boolean }, callback?: (err?: Error) => void): void
  /** Sends a ping; the peer answers with a pong event. */
  ping (data?: string | Buffer, mask?: boolean, callback?: (err: Error) => void): void
  /** Starts the closing handshake. */
  close (code?: number, reason?: string | Buffer): void
  /** Destroys the transport at once. */
  terminate (): void
  /** Stops reading from the network (backpressure on the peer). */
  pause (): void
  /** Reads from the network again after `pause()`. */
  resume (): void
  /** Listens to a ws event (`message`, `close`, `error`, `ping`, `pong`, …); type the listener's arguments yourself. */
  on (event: string, listener: (...args: never[]) => void): this
  /** Listens to the next occurrence of a ws event. */
  once (event: string, listener: (...args: never[]) => void): this
  /** Removes a listener added with `on` or `once`. */
  off (event: string, listener: (...args: never[]) => void): this
  /** Emits an event to this socket's own listeners. */
  emit (event: string, ...args: unknown[]): boolean
  /** How many listeners an event has. */
  listenerCount (event: string): number
}
