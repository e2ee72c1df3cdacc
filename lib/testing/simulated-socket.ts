import { EventEmitter } from 'node:events'
import type { WebSocketLike as WebSocket } from '../connection/websocket-like.js'

/*
 * The `ws` socket a simulated connection writes to: no network, no protocol.
 * What the library sends lands in `onSend`; a server-side close is reported
 * to `onClose`, and the simulator emits `'close'` when the connection would
 * have seen the peer's answer.
 */

const OPEN = 1
const CLOSING = 2
const CLOSED = 3

/** What a simulated socket reports to its simulator. */
export interface SocketObserver {
  onSend (data: string | Buffer, binary: boolean): void
  onClose (code: number, reason: string): void
}

/** A stand-in for the `ws` socket under a Connection. */
export class SimulatedSocket extends EventEmitter {
  readyState = OPEN
  readonly bufferedAmount = 0
  /** Connection reads the transport here (ws's own field) to cork writes and check its buffer. */
  readonly _socket = { writableLength: 0, cork () {}, uncork () {} }

  constructor (private readonly observer: SocketObserver) { super() }

  /** Connection checks `readyState` before every send. */
  send (data: string | Buffer, options: { binary: boolean }): void {
    this.observer.onSend(data, options.binary)
  }

  close (code: number, reason: string): void {
    if (this.readyState !== OPEN) return
    this.readyState = CLOSING
    this.observer.onClose(code, reason)
  }

  terminate (): void {
    this.close(1006, '')
  }

  /** Ends the connection as the peer's close frame (or the lost transport) would: `'close'` for the session (once: the simulator sees to it). */
  finish (code: number, reason: string): void {
    this.readyState = CLOSED
    this.emit('close', code, Buffer.from(reason))
  }

  /** Typed as the `ws` socket the library expects. */
  asWebSocket (): WebSocket {
    return this as unknown as WebSocket
  }
}
