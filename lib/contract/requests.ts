import type { WebSocketLike as WebSocket } from '../connection/websocket-like.js'
import { ERR_OPTION_INVALID, ERR_REQUEST_CLOSED, ERR_REQUEST_FAILED, ERR_REQUEST_TIMEOUT, ERR_SEND_DROPPED } from '../errors.js'
import { kRequests, kWire } from '../symbols.js'
import { ERROR_TAG, REPLY_TAG, isRef, type Ref, type WireNames } from './wire.js'

/*
 * Server → client requests on one connection: a fresh ref per request, a
 * waiter until the client's `reply` (or `error`) with that ref arrives, the
 * timeout, or the close. Refs are numbers counted per connection and never
 * reused, so a late reply can never settle a newer request.
 */

/** The body of the error frame a client answered a request with. */
export interface ClientErrorBody {
  code: string
  message: string
}

interface Waiter {
  resolve: (payload: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

/** A connection's outstanding requests. */
export class PendingRequests {
  next = 1
  readonly waiting = new Map<Ref, Waiter>()
}

/** What a request needs of a connection (structural, so this module does not depend on Connection). */
export interface Requestable {
  readonly id: string
  readonly isOpen: boolean
  readonly socket: WebSocket
  readonly bufferedAmount: number
  send (message: unknown): boolean
  [kRequests]: PendingRequests | undefined
  [kWire]: WireNames | undefined
}

const MAX_ERROR_TEXT = 200

/** Sends `message` with a fresh ref and resolves with the payload of the client's reply. */
export async function request (connection: Requestable, message: object, timeoutMs: number): Promise<unknown> {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new ERR_OPTION_INVALID('message', 'must be an object such as { type, payload }')
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new ERR_OPTION_INVALID('timeoutMs', `must be a positive integer, got ${String(timeoutMs)}`)
  if (!connection.isOpen) throw new ERR_REQUEST_CLOSED(connection.id)
  const wire = wireOf(connection)
  const pending = connection[kRequests] ?? watch(connection)
  const ref = pending.next++
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.waiting.delete(ref)
      reject(new ERR_REQUEST_TIMEOUT(connection.id, timeoutMs))
    }, timeoutMs)
    pending.waiting.set(ref, { resolve, reject, timer })
    const buffered = connection.bufferedAmount
    let sent = false
    try {
      sent = connection.send({ ...message, [wire.replyField]: ref })
    } catch (err) {
      settle(pending, ref)?.reject(err as Error)
      return
    }
    // the connection was open a moment ago: a send that did not go out was held back by backpressure
    if (!sent) settle(pending, ref)?.reject(new ERR_SEND_DROPPED(connection.id, buffered))
  })
}

/**
 * The session's fast path, taken only while the connection has requests out:
 * a `reply`/`error` frame that answers one settles it at once, ahead of the
 * connection's queue (a handler awaiting a request would otherwise wait for
 * its own reply behind itself). Anything else returns false and is dispatched.
 */
export function takeAnswer (connection: Requestable, data: Buffer, isBinary: boolean): boolean {
  const pending = connection[kRequests]
  if (pending === undefined || pending.waiting.size === 0 || isBinary) return false
  const text = data.toString()
  // frames that could hide a poisoned key go the normal way, where the route's onProtoPoisoning applies
  if (text.includes('__proto__') || text.includes('constructor')) return false
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return false
  }
  if (message === null || typeof message !== 'object') return false
  return answer(connection, message as Record<string, unknown>)
}

/** Settles the request a `reply` or `error` frame answers; false when it answers none (unknown, late or not a ref). */
export function answer (connection: Requestable, message: Record<string, unknown>): boolean {
  const pending = connection[kRequests]
  const wire = wireOf(connection)
  const tag = message[wire.discriminator]
  const ref = message[wire.replyField]
  if (pending === undefined || (tag !== REPLY_TAG && tag !== ERROR_TAG) || !isRef(ref)) return false
  const waiter = settle(pending, ref)
  if (waiter === undefined) return false
  if (tag === REPLY_TAG) {
    waiter.resolve(message.payload)
  } else {
    const body = clientError(message.error)
    waiter.reject(Object.assign(new ERR_REQUEST_FAILED(connection.id, body.code, body.message), { clientError: body }))
  }
  return true
}

/** Every connection gets its route's names when it is accepted, before anything can send a request on it. */
function wireOf (connection: Requestable): WireNames {
  return connection[kWire] as WireNames
}

function watch (connection: Requestable): PendingRequests {
  const pending = new PendingRequests()
  connection[kRequests] = pending
  connection.socket.once('close', () => {
    for (const ref of [...pending.waiting.keys()]) settle(pending, ref)?.reject(new ERR_REQUEST_CLOSED(connection.id))
  })
  return pending
}

function settle (pending: PendingRequests, ref: Ref): Waiter | undefined {
  const waiter = pending.waiting.get(ref)
  if (waiter === undefined) return undefined
  pending.waiting.delete(ref)
  clearTimeout(waiter.timer)
  return waiter
}

/** A client's error body, cut down to two short strings whatever it sent. */
function clientError (error: unknown): ClientErrorBody {
  const body = (error !== null && typeof error === 'object' ? error : {}) as Record<string, unknown>
  const text = (value: unknown, fallback: string): string => typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_ERROR_TEXT) : fallback
  return { code: text(body.code, 'UNKNOWN'), message: text(body.message, 'no message') }
}
