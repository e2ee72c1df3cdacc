import type { FastifyInstance } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { connect, type CloseInfo, type TraceEntry } from './connect.js'
import type { TeardownContext } from './teardown.js'

/** Options of `connectHub()`. */
export interface ConnectHubOptions {
  /** The socket's params (what the official client's `params` option sends): the hub's `connect` receives them; nested objects become `a[b]=1`. */
  params?: Record<string, unknown>
  headers?: IncomingHttpHeaders
  /**
   * How long `join`, `push`, `leave` and `expect` wait, in ms.
   * @default 2000
   */
  timeout?: number
  /** A test (tap's `t`, node:test's `TestContext`): the socket is closed when it ends. */
  t?: TeardownContext
}

/** An `error` reply to a join, push or leave: `response` is what the server sent (`{ reason, … }`). */
export class HubReplyError extends Error {
  constructor (readonly topic: string, readonly event: string, readonly response: Record<string, unknown>) {
    super(`${event} on "${topic}" got an error reply: ${JSON.stringify(response)}`)
    this.name = 'HubReplyError'
  }
}

/** A joined topic of a test hub socket. */
export interface TestChannel {
  readonly topic: string
  readonly joinRef: string
  /** The join's `ok` response. */
  readonly response: Record<string, unknown>
  /** Resolves with the ok response; rejects with `HubReplyError` on an error reply. */
  push<T = Record<string, unknown>> (event: string, payload?: object): Promise<T>
  /** The next `event` on this topic not yet taken (broadcasts and pushes). */
  expect<T = Record<string, unknown>> (event: string, options?: { timeout?: number }): Promise<T>
  /** Leaves and resolves once the server closed the channel. */
  leave (): Promise<void>
  /** Resolves when the server closes the channel (`phx_close`: a leave or a kick). */
  readonly closed: Promise<void>
}

/** A socket on a hub, speaking the Phoenix protocol (V2). */
export interface TestHubSocket {
  /** Every frame in both directions, as `[join_ref, ref, topic, event, payload]` arrays. */
  readonly trace: readonly TraceEntry[]
  readonly closed: Promise<CloseInfo>
  /** Joins `topic`; rejects with `HubReplyError` on an error reply. */
  join (topic: string, payload?: object): Promise<TestChannel>
  /** Sends a heartbeat and resolves on its reply. */
  heartbeat (): Promise<void>
  /** Closes the socket and resolves with the close the server saw. */
  close (code?: number, reason?: string): Promise<CloseInfo>
}

const FOREVER = 2 ** 31 - 1

type Frame = [string | null, string | null, string, string, Record<string, unknown>]

interface Waiting { match: (frame: Frame) => boolean, resolve: (frame: Frame) => void, reject: (error: Error) => void, timer: NodeJS.Timeout, what: string }

/**
 * Connects to a hub of `app` without a port (over `app.injectWS`), the way the
 * official client does (`/websocket?vsn=2.0.0`), and drives it with promises.
 * @example
 * const s = await connectHub(app, '/socket', { params: { token: 'ok' } })
 * const room = await s.join('room:1', { token: 'ok' })
 * await room.push('shout', { body: 'hi' })
 * await room.expect('shout')
 */
export async function connectHub (app: FastifyInstance, path: string, options: ConnectHubOptions = {}): Promise<TestHubSocket> {
  const timeout = options.timeout ?? 2000
  const base = path.endsWith('/') ? path + 'websocket' : path + '/websocket'
  const query = encodeParams(options.params ?? {})
  const client = await connect(app, `${base}?vsn=2.0.0${query === '' ? '' : '&' + query}`, { headers: options.headers, t: options.t, timeout })
  const inbox: Frame[] = []
  const waiting: Waiting[] = []
  let ref = 0
  let closedWith: CloseInfo | undefined
  client.socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Frame
    const waiter = waiting.find((w) => w.match(frame))
    if (waiter === undefined) {
      inbox.push(frame)
      return
    }
    waiting.splice(waiting.indexOf(waiter), 1)
    clearTimeout(waiter.timer)
    waiter.resolve(frame)
  })
  void client.closed.then((info) => {
    closedWith = info
    for (const waiter of waiting.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error(`hub socket closed (${info.code}) before ${waiter.what} arrived`))
    }
  })

  const wait = async (match: (frame: Frame) => boolean, what: string, ms = timeout): Promise<Frame> => {
    const index = inbox.findIndex(match)
    if (index !== -1) return inbox.splice(index, 1)[0]
    if (closedWith !== undefined) throw new Error(`hub socket already closed (${closedWith.code}); ${what} never arrived`)
    return await new Promise((resolve, reject) => {
      const waiter: Waiting = {
        match,
        resolve,
        reject,
        what,
        timer: setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1)
          reject(new Error(`no ${what} within ${ms} ms`))
        }, ms)
      }
      // the watch for phx_close waits as long as the channel lives: it must not hold the process
      if (ms === FOREVER) waiter.timer.unref()
      waiting.push(waiter)
    })
  }
  const send = (frame: Frame): void => client.send(frame)
  const request = async (joinRef: string | null, topic: string, event: string, payload: object): Promise<Record<string, unknown>> => {
    const mine = String(++ref)
    send([joinRef, mine, topic, event, payload as Record<string, unknown>])
    const reply = await wait((f) => f[1] === mine && f[3] === 'phx_reply', `the reply to ${event} on "${topic}"`)
    const { status, response } = reply[4] as { status: string, response: Record<string, unknown> }
    if (status !== 'ok') throw new HubReplyError(topic, event, response)
    return response
  }

  return {
    trace: client.trace,
    closed: client.closed,
    async join (topic, payload = {}) {
      const joinRef = String(ref + 1)
      const response = await request(joinRef, topic, 'phx_join', payload)
      const closed = wait((f) => f[0] === joinRef && f[2] === topic && f[3] === 'phx_close', `phx_close of "${topic}"`, FOREVER).then(() => {}, () => {})
      return {
        topic,
        joinRef,
        response,
        closed,
        push: async <T>(event: string, body: object = {}) => await request(joinRef, topic, event, body) as T,
        expect: async <T>(event: string, expectOptions: { timeout?: number } = {}) => {
          const frame = await wait((f) => f[2] === topic && f[3] === event && (f[0] === null || f[0] === joinRef), `"${event}" on "${topic}"`, expectOptions.timeout)
          return frame[4] as T
        },
        async leave () {
          await request(joinRef, topic, 'phx_leave', {})
          await closed
        }
      }
    },
    async heartbeat () {
      await request(null, 'phoenix', 'heartbeat', {})
    },
    close: async (code, reason) => await client.close(code, reason)
  }
}

/** `{ a: { b: 1 } }` → `a[b]=1`, as the official client's `serialize` writes params. */
function encodeParams (params: Record<string, unknown>, prefix?: string): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(params)) {
    const name = prefix === undefined ? key : `${prefix}[${key}]`
    if (value !== null && typeof value === 'object') parts.push(encodeParams(value as Record<string, unknown>, name))
    else parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
  }
  return parts.filter((part) => part !== '').join('&')
}
