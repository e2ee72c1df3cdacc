import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Connection } from '../connection/connection.js'
import { ERR_OPTION_INVALID } from '../errors.js'
import type { WebSocketResource } from '../resources/resource.js'
import { checkCloseCode, closeReason, CloseCode } from '../connection/close-codes.js'

/** The moments hooks run at: around connect, around each received message, around disconnect. */
export const HOOK_EVENTS = ['beforeConnect', 'afterConnect', 'beforeMessage', 'afterMessage', 'beforeDisconnect', 'afterDisconnect'] as const

/** One of `HOOK_EVENTS`. */
export type HookEvent = typeof HOOK_EVENTS[number]

/** What a hook sees, and what a `before*` hook may change. */
export interface HookContext {
  readonly event: HookEvent
  readonly connection: Connection
  readonly request: FastifyRequest
  /** The deepest resource's params. */
  readonly params: Record<string, string>
  /** The deepest resource of the connection. */
  readonly resource: WebSocketResource
  /** The connection's state (the resource's `this.state`): where hooks add context, e.g. `ctx.state.user`. */
  readonly state: Record<string, unknown>
  readonly log: FastifyBaseLogger
  /** beforeMessage/afterMessage: the message; a beforeMessage hook may replace it (it is validated afterwards). */
  message: Record<string, unknown> | undefined
  /** beforeMessage/afterMessage: the tag it was dispatched on. */
  readonly tag: string | undefined
  /** after* hooks: what failed (a before hook, onConnect, the handler), if anything. */
  readonly error: unknown
  /** afterConnect: the connection was refused. */
  readonly refused: boolean
  /** beforeMessage: the message was dropped. */
  readonly dropped: boolean
  /** Disconnect events: the close code and reason. */
  readonly code: number | undefined
  readonly reason: string | undefined
  /** beforeMessage: skip the handler and send nothing. */
  drop (): void
  /** beforeConnect: refuse the connection (close 1008 unless another code is given; an invalid code throws `FST_PACHINKO_CLOSE_CODE_INVALID`). */
  refuse (code?: number, reason?: string): void
}

/** A WebSocket hook; it may be async. */
export type WebSocketHook = (context: HookContext) => void | Promise<void>

/** Hooks by event, as plugin, route and resource (`static hooks`) options take them. */
export type WebSocketHooks = { [E in HookEvent]?: WebSocketHook | WebSocketHook[] }

/** Validates a hooks option at declaration and returns it as lists. */
export function normalizeHooks (hooks: unknown, where: string): Partial<Record<HookEvent, WebSocketHook[]>> {
  if (hooks === undefined) return {}
  if (hooks === null || typeof hooks !== 'object') throw new ERR_OPTION_INVALID(where, 'must be an object of hooks by event')
  const out: Partial<Record<HookEvent, WebSocketHook[]>> = {}
  for (const [event, value] of Object.entries(hooks)) {
    if (!(HOOK_EVENTS as readonly string[]).includes(event)) throw new ERR_OPTION_INVALID(`${where}.${event}`, `is not a hook event; use one of ${HOOK_EVENTS.join(', ')}`)
    const list = Array.isArray(value) ? value : [value]
    if (list.some((hook) => typeof hook !== 'function')) throw new ERR_OPTION_INVALID(`${where}.${event}`, 'must be a function or an array of functions')
    out[event as HookEvent] = list
  }
  return out
}

/** The mutable context behind `HookContext`, one per event occurrence. */
export class EventContext implements HookContext {
  message: Record<string, unknown> | undefined = undefined
  tag: string | undefined = undefined
  error: unknown = undefined
  refused = false
  dropped = false
  code: number | undefined = undefined
  reason: string | undefined = undefined
  refusal: { code: number, reason: string } | undefined = undefined

  constructor (
    readonly event: HookEvent,
    readonly resource: WebSocketResource,
    readonly log: FastifyBaseLogger
  ) {}

  get connection (): Connection { return this.resource.connection }
  get request (): FastifyRequest { return this.resource.request }
  get params (): Record<string, string> { return this.resource.params as Record<string, string> }
  get state (): Record<string, unknown> { return this.resource.state }

  drop (): void {
    this.dropped = true
  }

  refuse (code: number = CloseCode.POLICY_VIOLATION, reason = 'connection refused'): void {
    this.refusal = { code: checkCloseCode(code, 'refuse'), reason: closeReason(reason) }
  }
}

/**
 * The hooks one connection runs, tiers outermost first (plugin and its
 * encapsulation contexts, route, parent resources, the resource): `before*`
 * hooks run outer to inner, `after*` hooks inner to outer.
 */
export class HookChain {
  private constructor (private readonly tiers: Array<Partial<Record<HookEvent, WebSocketHook[]>>>) {}

  /** A chain for these tiers, or undefined when none has a hook (the common, free case). */
  static of (tiers: Array<Partial<Record<HookEvent, WebSocketHook[]>>>): HookChain | undefined {
    const used = tiers.filter((tier) => Object.keys(tier).length > 0)
    return used.length === 0 ? undefined : new HookChain(used)
  }

  has (event: HookEvent): boolean {
    return this.tiers.some((tier) => tier[event] !== undefined)
  }

  /** Runs `before*` hooks outer to inner; stops at the first that throws (rethrown), drops or refuses. */
  async before (event: HookEvent, context: EventContext): Promise<void> {
    for (const tier of this.tiers) {
      for (const hook of tier[event] ?? []) {
        await hook(context)
        if (context.dropped || context.refusal !== undefined) return
      }
    }
  }

  /** Runs `after*` hooks inner to outer; every hook runs, and a failing one is logged, never thrown. */
  async after (event: HookEvent, context: EventContext): Promise<void> {
    for (let i = this.tiers.length - 1; i >= 0; i--) {
      for (const hook of this.tiers[i][event] ?? []) {
        try {
          await hook(context)
        } catch (err) {
          context.log.error({ err, event }, 'WebSocket hook failed')
        }
      }
    }
  }
}
