import type { FastifyInstance } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocketLike as WebSocket } from '../connection/websocket-like.js'
import type { ErrorBody } from '../messages/wire-errors.js'
import type { UpgradeProbe } from '../routing/route-runtime.js'
import { kUpgradeProbe } from '../symbols.js'
import { onTeardown, type TeardownContext } from './teardown.js'
import type { ServerMessage, ServerTag } from '../client/contract-types.js'

/**
 * A received frame: parsed JSON for text frames that hold JSON, the text otherwise, a Buffer for binary frames.
 * The server's error frames carry `error`; any other field is `unknown` until you say what you expect:
 * `connect<MyFrame>()` for every frame, or `client.expect<MyFrame>(tag)` for one.
 */
export interface Frame {
  [field: string]: unknown
  error?: ErrorBody
}

/** An error frame, as docs/reference/close-codes.md lists them. */
export interface ErrorFrame extends Frame {
  error: ErrorBody
}

/** One frame in either direction, in the order they happened. */
export interface TraceEntry {
  direction: 'in' | 'out'
  data: unknown
  binary: boolean
}

/** How a connection ended. */
export interface CloseInfo {
  code: number
  reason: string
}

/** Options of `connect()`. */
export interface ConnectOptions {
  /** Upgrade request headers (auth tokens, cookies…). */
  headers?: IncomingHttpHeaders
  /** Query string parameters appended to the path. */
  query?: Record<string, string | number | boolean>
  /**
   * The field `expect(tag)` reads.
   * @default the route's `discriminator` ('type' unless the plugin or route says otherwise)
   */
  discriminator?: string
  /**
   * Default wait of `receive()` and `expect()`, in ms.
   * @default 2000
   */
  timeout?: number
  /**
   * A test (tap's `t`, node:test's `TestContext`): the connection is closed when it ends.
   * @default none: close it yourself, or `app.close()` does
   */
  t?: TeardownContext
}

/** A WebSocket connected to the app in-process, with helpers to script a conversation. */
export interface TestConnection<In = Frame> {
  /** The client-side `ws` socket. */
  readonly socket: WebSocket
  /** Every frame sent and received so far. */
  readonly trace: readonly TraceEntry[]
  /** Resolves when the connection has closed, with the close code and reason. */
  readonly closed: Promise<CloseInfo>
  /** JSON-encodes and sends a message. */
  send (message: unknown): void
  /** Sends a string (text frame) or Buffer (binary frame unless `{ binary: false }`). */
  sendRaw (data: string | Buffer, options?: { binary?: boolean }): void
  /** The next frame not yet taken by `receive` or `expect`. */
  receive<T = In> (options?: { timeout?: number }): Promise<T>
  /** The first untaken frame whose tag is `tag` (other frames stay for later); fails with the trace of what did arrive. */
  expect (tag: 'error', options?: { timeout?: number }): Promise<ErrorFrame>
  /** The first untaken frame tagged `tag`, typed `T` (your claim, not checked at run time). */
  expect<T = In> (tag: string, options?: { timeout?: number }): Promise<T>
  /** Closes from the client side and resolves once closed. */
  close (code?: number, reason?: string): Promise<CloseInfo>
}

/** A reply frame: the answer to a message that carried a ref. */
export interface ReplyFrame extends Frame {
  ref: string | number
  payload?: unknown
}

type Emitted<R, T> = [ServerMessage<R>] extends [never] ? Frame : Extract<ServerMessage<R>, { type: T }>

/** A test connection typed from a resource class (`connect<typeof ChatRoom>`): `expect(tag)` takes the tags its `static emits` declares. */
export interface ResourceTestConnection<R> extends Omit<TestConnection<Frame>, 'expect'> {
  /** The first untaken error frame. */
  expect (tag: 'error', options?: { timeout?: number }): Promise<ErrorFrame>
  /** The first untaken reply frame. */
  expect (tag: 'reply', options?: { timeout?: number }): Promise<ReplyFrame>
  /** The first untaken frame tagged `tag`, typed from the resource's `static emits`. */
  expect<T extends ServerTag<R>> (tag: T, options?: { timeout?: number }): Promise<Emitted<R, T>>
}

/** What `connect<In>()` gives: typed from a resource class, or frames of type `In`. */
export type TestConnectionOf<In> = In extends abstract new (...args: never[]) => unknown ? ResourceTestConnection<In> : TestConnection<In>

/** An upgrade the server answered with an HTTP status instead of 101. */
export class UpgradeRefusedError extends Error {
  constructor (readonly statusCode: number) {
    super(`WebSocket upgrade refused with HTTP ${statusCode}`)
    this.name = 'UpgradeRefusedError'
  }
}

interface Waiter {
  match: (frame: unknown) => boolean
  resolve: (frame: unknown) => void
  reject: (error: Error) => void
  describe: string
  timer: NodeJS.Timeout
}

/**
 * Connects to a WebSocket route of `app` without a network port (over
 * `app.injectWS`), running the route's Fastify hooks like a real upgrade.
 * `connect<typeof ChatRoom>()` types `expect(tag)` from the class's `static emits`.
 * @example
 * const alice = await connect(app, '/ws/chat/general', { query: { user: 'alice' } })
 * alice.send({ type: 'sendMessage', payload: { text: 'hi' } })
 * const msg = await alice.expect('newMessage')
 */
export async function connect<In = Frame> (app: FastifyInstance, path: string, options: ConnectOptions = {}): Promise<TestConnectionOf<In>> {
  const teardown = options.t
  const opened: { client?: TestConnection<In> } = {}
  // checked before the upgrade, so a wrong `t` fails without leaving a socket open
  if (teardown !== undefined) onTeardown(teardown, async () => await opened.client?.close(), 'connect() option t')
  await app.ready()
  const probe: UpgradeProbe = {}
  const defaultTimeout = options.timeout ?? 2000
  const trace: TraceEntry[] = []
  const inbox: unknown[] = []
  const waiters: Waiter[] = []
  let closeInfo: CloseInfo | undefined
  let resolveClosed!: (info: CloseInfo) => void
  const closed = new Promise<CloseInfo>((resolve) => { resolveClosed = resolve })

  const onInit = (socket: WebSocket): void => {
    // listeners go on before the handshake completes: frames sent by onConnect must not be missed
    socket.on('message', (data: Buffer, binary: boolean) => {
      const frame = binary ? data : decode(data.toString())
      trace.push({ direction: 'in', data: frame, binary })
      const waiter = waiters.find((w) => w.match(frame))
      if (waiter === undefined) {
        inbox.push(frame)
        return
      }
      waiters.splice(waiters.indexOf(waiter), 1)
      clearTimeout(waiter.timer)
      waiter.resolve(frame)
    })
    socket.on('close', (code: number, reason: Buffer) => {
      closeInfo = { code, reason: reason.toString() }
      for (const waiter of waiters.splice(0)) {
        clearTimeout(waiter.timer)
        waiter.reject(new Error(`connection closed (${code}${closeInfo.reason === '' ? '' : ` "${closeInfo.reason}"`}) before ${waiter.describe} arrived; received: ${received(trace)}`))
      }
      resolveClosed(closeInfo)
      setImmediate(() => finishServerSockets(app))
    })
    socket.on('error', () => {}) // a 'close' always follows; the code tells the story
  }

  let socket: WebSocket
  try {
    socket = await app.injectWS(withQuery(path, options.query), { headers: options.headers, [kUpgradeProbe]: probe } as never, { onInit })
  } catch (err) {
    const status = /Unexpected server response: (\d+)/.exec((err as Error).message)
    // injectWS rejects only with an HTTP status today; anything else is passed on untouched
    /* c8 ignore next */
    if (status === null) throw err
    throw new UpgradeRefusedError(Number(status[1]))
  }

  // the frame's type is the caller's to state, as with `inject().json<T>()`: nothing here can check it
  const wait = <T>(match: (frame: unknown) => boolean, describe: string, timeout: number): Promise<T> => {
    const index = inbox.findIndex(match)
    if (index !== -1) return Promise.resolve(inbox.splice(index, 1)[0] as T)
    if (closeInfo !== undefined) return Promise.reject(new Error(`connection already closed (${closeInfo.code}); ${describe} never arrived; received: ${received(trace)}`))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (frame) => resolve(frame as T),
        reject,
        describe,
        timer: setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1)
          reject(new Error(`no ${describe} within ${timeout} ms; received: ${received(trace)}`))
        }, timeout)
      }
      waiters.push(waiter)
    })
  }

  const discriminator = options.discriminator ?? probe.discriminator ?? 'type'
  const client: TestConnection<In> = {
    socket,
    trace,
    closed,
    send (message) {
      trace.push({ direction: 'out', data: message, binary: false })
      socket.send(JSON.stringify(message))
    },
    sendRaw (data, sendOptions = {}) {
      const binary = sendOptions.binary ?? typeof data !== 'string'
      trace.push({ direction: 'out', data, binary })
      socket.send(data, { binary })
    },
    receive<T> (receiveOptions: { timeout?: number } = {}) {
      return wait<T>(() => true, 'frame', receiveOptions.timeout ?? defaultTimeout)
    },
    expect<T> (tag: string, expectOptions: { timeout?: number } = {}) {
      return wait<T>((frame) => isObject(frame) && frame[discriminator] === tag, `"${tag}" frame`, expectOptions.timeout ?? defaultTimeout)
    },
    async close (code, reason) {
      if (closeInfo === undefined) socket.close(code, reason)
      return await closed
    }
  }
  opened.client = client
  // one object either way: the resource-typed view only narrows what expect() takes and returns
  return client as TestConnectionOf<In>
}

/**
 * injectWS joins client and server with in-memory streams that never emit
 * 'close' after both halves ended, which a TCP socket does; `ws` waits for that
 * 'close' (up to 30 s) before the server side sees the disconnect. Finishing
 * those half-dead streams makes in-process tests see what production sees.
 */
function finishServerSockets (app: FastifyInstance): void {
  // every server-side socket of the app, the plain WebSocket routes' too (ws tracks them unless told not to)
  const tracked = app.websocketServer.clients as Set<WebSocket> | undefined
  const sockets = new Set([...(tracked ?? []), ...[...app.ws.local()].map((connection) => connection.socket)])
  for (const socket of sockets) {
    // duplexify is built on readable-stream 3, which predates `readableEnded`/`writableFinished`
    const stream = (socket as unknown as { _socket: Duplex & { _readableState: { endEmitted: boolean }, _writableState: { finished: boolean } } })._socket
    if (stream._readableState.endEmitted && stream._writableState.finished && !stream.destroyed) stream.destroy()
  }
}

function decode (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Buffer.isBuffer(value)
}

function withQuery (path: string, query: ConnectOptions['query']): string {
  if (query === undefined) return path
  const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
  return search === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${search}`
}

function received (trace: TraceEntry[]): string {
  const frames = trace.filter((entry) => entry.direction === 'in').map((entry) => entry.binary ? `<binary ${(entry.data as Buffer).length} bytes>` : JSON.stringify(entry.data))
  if (frames.length === 0) return 'nothing'
  const shown = frames.slice(-10).map((f) => f.length > 200 ? f.slice(0, 197) + '...' : f)
  return (frames.length > 10 ? `${frames.length} frames, last 10: ` : '') + shown.join(', ')
}
