import type { FastifyBaseLogger } from 'fastify'
import type { Connection } from '../connection/connection.js'
import { ERR_CONNECTION_NOT_FOUND, ERR_REQUEST_CLOSED, ERR_REQUEST_FAILED, ERR_REQUEST_TIMEOUT } from '../errors.js'
import type { EnvelopeHeader } from './envelope.js'

/*
 * Server → client requests across nodes. The asking node keeps a waiter per
 * request and publishes `request` (its id `q`, the timeout, the message) on
 * the connection's node channel; that node runs an ordinary
 * `connection.request()` and publishes the `answer` (the reply's payload, or
 * the error code) back on the asking node's channel. The asker times out on
 * its own too (a second later, so the connection's node normally has the
 * last word), and a node that dies mid-request cannot leave a waiter behind.
 */

interface Waiter {
  readonly id: string
  readonly timeoutMs: number
  readonly resolve: (payload: unknown) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout
}

/** Publishes a header and frame on a node's channel. */
export type NodePublish = (node: string, header: EnvelopeHeader, frame?: Buffer) => Promise<unknown>

const EMPTY = Buffer.alloc(0)
/** The asker waits this much longer than the connection's node, so that node's verdict (timeout, close, failure) is the one heard. */
export const REMOTE_GRACE_MS = 1000

export class ClusterRequests {
  private next = 1
  private readonly waiting = new Map<string, Waiter>()

  constructor (private readonly nodeId: string, private readonly publish: NodePublish, private readonly log: () => FastifyBaseLogger) {}

  /** Registers a waiter for a request to `id`; `settled` already has a handler, so a rejection before the caller awaits it is not unhandled. */
  open (id: string, timeoutMs: number): { q: string, settled: Promise<unknown> } {
    const q = String(this.next++)
    const settled = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(q, new ERR_REQUEST_TIMEOUT(id, timeoutMs)), timeoutMs + REMOTE_GRACE_MS)
      this.waiting.set(q, { id, timeoutMs, resolve, reject, timer })
    })
    settled.catch(() => {})
    return { q, settled }
  }

  /** Rejects a waiter (a failed publish, a timeout). */
  fail (q: string, error: Error): void {
    const waiter = this.take(q)
    waiter?.reject(error)
  }

  /** An answer from the connection's node: the reply's payload, or why it failed. */
  answered (header: EnvelopeHeader, frame: Buffer): undefined {
    const waiter = this.take(header.q ?? '')
    if (waiter === undefined) return undefined
    try {
      if (header.e === undefined) waiter.resolve(frame.length === 0 ? undefined : JSON.parse(frame.toString()))
      else waiter.reject(remoteError(header.e, waiter, frame))
    } catch {
      waiter.reject(new ERR_REQUEST_FAILED(waiter.id, 'BAD_ANSWER', 'the connection\'s node sent an answer that is not JSON'))
    }
    return undefined
  }

  /** Another node's request to one of this node's connections: ask the client, publish the answer back. */
  serve (target: Connection | undefined, header: EnvelopeHeader, frame: Buffer): undefined {
    const answer = (extra: Partial<EnvelopeHeader>, body: Buffer = EMPTY): void => {
      this.publish(header.n, { n: this.nodeId, op: 'answer', q: header.q, ...extra }, body).catch((err: unknown) => {
        this.log().debug({ err }, 'could not publish the answer to a cross-node request')
      })
    }
    if (target === undefined) {
      answer({ e: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
      return undefined
    }
    let message: object
    try {
      message = JSON.parse(frame.toString()) as object
    } catch {
      answer({ e: 'FST_PACHINKO_REQUEST_FAILED' })
      return undefined
    }
    target.request(message, { timeoutMs: header.t }).then(
      (payload) => answer({}, payload === undefined ? EMPTY : Buffer.from(JSON.stringify(payload))),
      (err: Error & { code?: string, clientError?: unknown }) => {
        // every way a request fails is a coded error
        answer({ e: err.code as string }, err.clientError === undefined ? EMPTY : Buffer.from(JSON.stringify(err.clientError)))
      }
    )
    return undefined
  }

  private take (q: string): Waiter | undefined {
    const waiter = this.waiting.get(q)
    if (waiter === undefined) return undefined
    this.waiting.delete(q)
    clearTimeout(waiter.timer)
    return waiter
  }
}

/** The coded error a failed answer stands for, made again on the asking node. */
function remoteError (code: string, waiter: Waiter, frame: Buffer): Error {
  if (code === 'FST_PACHINKO_REQUEST_TIMEOUT') return new ERR_REQUEST_TIMEOUT(waiter.id, waiter.timeoutMs)
  if (code === 'FST_PACHINKO_REQUEST_CLOSED') return new ERR_REQUEST_CLOSED(waiter.id)
  if (code === 'FST_PACHINKO_CONNECTION_NOT_FOUND') return new ERR_CONNECTION_NOT_FOUND(waiter.id)
  if (frame.length > 0) {
    const body = JSON.parse(frame.toString()) as { code: string, message: string }
    return Object.assign(new ERR_REQUEST_FAILED(waiter.id, body.code, body.message), { clientError: body })
  }
  return new ERR_REQUEST_FAILED(waiter.id, code, 'the request failed on the connection\'s node')
}
