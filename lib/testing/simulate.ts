import type { FastifyRequest } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import { ERR_TESTING_BAD_STATE } from '../errors.js'
import type { ResourceClass } from '../resources/resource-builder.js'
import type { CloseInfo, Frame } from './connect.js'
import type { RecordedSend } from './recording-backend.js'
import { recordingLogger, type LogEntry } from './recording-logger.js'
import { SimulatedSocket } from './simulated-socket.js'
import { SimulationRoute, type SimulatedConnection } from './simulation-route.js'
import { checkOptions, fakeRequest, type SimulateOptions } from './simulate-options.js'

/** How `sim.connect()` ended. */
export interface ConnectResult {
  /** False when onConnect returned false or threw, a beforeConnect hook refused, or the resource could not be made. */
  accepted: boolean
  /** What threw (onConnect, a hook, the constructor or DI), if anything. */
  error?: unknown
  /** The close the server started, when refused: 1008, 1011, or a hook's or ClientError's own code. */
  close?: CloseInfo
}

type State = 'new' | 'connecting' | 'open' | 'closed'

/**
 * One resource run without Fastify or a socket, for unit tests: the real
 * lifecycle and dispatch path, with what it sends recorded in `sent` and what
 * it asks `app.ws` to deliver recorded in `broadcasts`.
 */
export class Simulation<R = unknown, In = Frame> {
  /** What the resource sent to its own connection, in order: parsed JSON, text that is not JSON, Buffers for binary. */
  readonly sent: In[] = []
  /** Every line the resource, its hooks and the library logged for this connection (with the default logger). */
  readonly logs: LogEntry[] = []
  private state: State = 'new'
  private tail: Promise<unknown> = Promise.resolve()
  private live: SimulatedConnection | undefined
  private closeInfo: CloseInfo | undefined
  private serverClose: CloseInfo | undefined
  /** True while connect() or a receive() is running: a server close then waits for it to settle. */
  private busy = false
  private readonly route: SimulationRoute
  private readonly socket: SimulatedSocket
  private readonly request: FastifyRequest

  constructor (resource: ResourceClass, options: SimulateOptions) {
    checkOptions(options)
    const log = options.logger ?? recordingLogger(this.logs)
    this.route = new SimulationRoute(resource, {
      args: (options.args ?? []) as unknown[],
      discriminator: options.discriminator ?? 'type',
      replyField: options.replyField ?? 'ref',
      strict: options.strict ?? true,
      hooks: options.hooks,
      onProtoPoisoning: options.onProtoPoisoning ?? 'error',
      services: options.services ?? [],
      log
    })
    this.socket = new SimulatedSocket({
      onSend: (data, binary) => this.sent.push((binary ? data : decode(data.toString())) as In),
      onClose: (code, reason) => this.closedByServer(code, reason)
    })
    this.request = fakeRequest(options, log)
  }

  /** Requests to `app.ws`'s delivery methods (broadcasts, `sendToUser`, `sendTo`), in order: recorded, never delivered. */
  get broadcasts (): ReadonlyArray<RecordedSend<In>> {
    return this.route.backend.sends as Array<RecordedSend<In>>
  }

  /** The rooms the connection is in now. */
  get rooms (): ReadonlySet<string> {
    return this.live?.connection.rooms ?? new Set()
  }

  /** The resource instance (after `connect()`). */
  get resource (): R {
    const resource = this.live?.resource
    if (resource === undefined) throw new ERR_TESTING_BAD_STATE('read sim.resource', this.state === 'new' ? 'is not connected yet; await sim.connect() first' : 'has no resource: it could not be made')
    return resource as R
  }

  /** The connection handle the resource sees as `this.connection` (after `connect()`). */
  get connection (): Connection {
    if (this.live === undefined) throw new ERR_TESTING_BAD_STATE('read sim.connection', 'is not connected yet; await sim.connect() first')
    return this.live.connection
  }

  /** The connection manager the resource sees as `this.ws`: one node, deliveries recorded. */
  get ws (): ConnectionManager {
    return this.route.manager
  }

  /** How the connection ended, once it has. */
  get closed (): CloseInfo | undefined {
    return this.closeInfo
  }

  /** Creates the resource and runs the connect hooks and onConnect; resolves with the outcome. */
  async connect (): Promise<ConnectResult> {
    if (this.state !== 'new') throw new ERR_TESTING_BAD_STATE('connect()', 'was already connected; make a new simulation for another connection')
    this.state = 'connecting'
    this.busy = true
    const live = this.route.open(this.socket.asWebSocket(), this.request)
    this.live = live
    const run = live.opened.then((outcome): ConnectResult => {
      this.settle()
      if (!outcome.accepted) return outcome.error === undefined ? { accepted: false, close: this.closeInfo } : { accepted: false, error: outcome.error, close: this.closeInfo }
      return { accepted: true }
    })
    this.tail = run
    return await run
  }

  /**
   * Delivers one frame, as if the client sent it, and resolves once its handler
   * (and hooks) settled, with what the resource sent meanwhile. An object is
   * sent as JSON; a string as a text frame; a Buffer as a binary frame unless `{ binary: false }`.
   */
  async receive (message: unknown, options: { binary?: boolean } = {}): Promise<In[]> {
    if (this.state !== 'open' && this.state !== 'connecting') {
      throw new ERR_TESTING_BAD_STATE('receive()', this.state === 'new' ? 'is not connected yet; await sim.connect() first' : 'is closed')
    }
    const [data, binary] = encodeFrame(message, options.binary)
    const run = this.tail.then(async () => {
      const from = this.sent.length
      if (this.state !== 'open') return []
      this.busy = true
      await (this.live as SimulatedConnection).dispatch(data, binary)
      this.settle()
      return this.sent.slice(from)
    })
    this.tail = run
    return await run
  }

  /** Closes from the client side, after the messages already received, and resolves once onDisconnect and the cleanup ran. */
  async disconnect (code = 1000, reason = ''): Promise<CloseInfo> {
    if (this.state === 'new') throw new ERR_TESTING_BAD_STATE('disconnect()', 'is not connected yet; await sim.connect() first')
    await this.tail
    if (this.closeInfo === undefined) this.finish(code, reason)
    await this.route.released()
    return this.closeInfo as CloseInfo
  }

  /** The server closed (this.close(), a refusal, backpressure): the peer's answer comes once the work in progress settled. */
  private closedByServer (code: number, reason: string): void {
    this.serverClose = { code, reason }
    // outside connect() and receive() (a timer, app.ws.disconnect): the answer comes as from a peer, later
    if (!this.busy) queueMicrotask(() => this.finish(code, reason))
  }

  /** The end of connect() or of one receive(): open unless the server closed meanwhile, which then completes. */
  private settle (): void {
    this.busy = false
    if (this.serverClose !== undefined) this.finish(this.serverClose.code, this.serverClose.reason)
    else this.state = 'open'
  }

  /** Called once: every caller checks that the connection has not closed yet. */
  private finish (code: number, reason: string): void {
    this.closeInfo = { code, reason }
    this.state = 'closed'
    this.socket.finish(code, reason)
  }
}

/**
 * Runs one resource without a Fastify server or a socket: `await sim.connect()`,
 * `await sim.receive(message)`, then read `sim.sent`, `sim.broadcasts`, `sim.rooms`.
 * @example
 * const sim = simulate(ChatRoom, { params: { room: 'general' }, query: { user: 'ann' } })
 * await sim.connect()
 * await sim.receive({ type: 'sendMessage', payload: { text: 'hi' } })
 * sim.broadcasts[0] // { kind: 'room', room: 'general', message: { type: 'newMessage', … }, exclude: [] }
 */
export function simulate<C extends ResourceClass, In = Frame> (resource: C, options: SimulateOptions<ConstructorParameters<C>> = {}): Simulation<InstanceType<C>, In> {
  return new Simulation<InstanceType<C>, In>(resource, options as SimulateOptions)
}

function encodeFrame (message: unknown, binary: boolean | undefined): [Buffer, boolean] {
  if (Buffer.isBuffer(message)) return [message, binary ?? true]
  if (typeof message === 'string') return [Buffer.from(message), binary ?? false]
  return [Buffer.from(JSON.stringify(message) ?? 'null'), binary ?? false]
}

function decode (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
