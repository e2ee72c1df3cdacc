import type { FastifyInstance } from 'fastify'
import { ERR_HOOK_AFTER_READY, ERR_OPTION_INVALID } from '../errors.js'
import { HOOK_EVENTS, type HookEvent, type WebSocketHook } from './hook-chain.js'
import type { PluginState } from '../plugin-state.js'
import type { HookTier } from '../routing/route-runtime.js'
import { kHooks, kState } from '../symbols.js'

/*
 * WebSocket hooks follow Fastify's encapsulation: hooks added to an instance
 * apply to the WebSocket routes declared in it and in the contexts it
 * registers, not to its siblings or parent. Each encapsulation level is its
 * own tier, so the onion runs outer contexts' before hooks first and their
 * after hooks last. Contexts inherit the list through Fastify's prototype chain.
 */

interface ContextTier { owner: FastifyInstance, tier: HookTier }
type Carrier = FastifyInstance & { [kHooks]?: ContextTier[], [kState]: PluginState }

/** The hook tiers that apply to routes declared in `instance`, outermost context first (the plugin always sets the first). */
export function contextHooks (instance: FastifyInstance): HookTier[] {
  return ((instance as Carrier)[kHooks] as ContextTier[]).map((entry) => entry.tier)
}

/** Adds hooks to `instance`'s own tier. */
export function addContextHooks (instance: FastifyInstance, tier: HookTier): void {
  const tiers = (instance as Carrier)[kHooks] ?? []
  const last = tiers[tiers.length - 1]
  const mine = last?.owner === instance
  const own = mine ? last.tier : {}
  const merged: HookTier = { ...own }
  for (const event of Object.keys(tier) as HookEvent[]) merged[event] = [...(own[event] ?? []), ...tier[event] as WebSocketHook[]]
  const kept = mine ? tiers.slice(0, -1) : tiers
  ;(instance as Carrier)[kHooks] = [...kept, { owner: instance, tier: merged }]
}

/**
 * `app.addWebSocketHook(event, hook)`: runs `hook` at `event` for every
 * WebSocket route of this encapsulation context.
 * @example app.addWebSocketHook('beforeMessage', (ctx) => { ctx.log.debug({ tag: ctx.tag }, 'message') })
 */
export function addWebSocketHook (this: FastifyInstance, event: HookEvent, hook: WebSocketHook): FastifyInstance {
  if (!(HOOK_EVENTS as readonly string[]).includes(event)) throw new ERR_OPTION_INVALID('event', `must be one of ${HOOK_EVENTS.join(', ')}, got ${String(event)}`)
  if (typeof hook !== 'function') throw new ERR_OPTION_INVALID('hook', 'must be a function')
  if ((this as Carrier)[kState].ready) throw new ERR_HOOK_AFTER_READY(event)
  addContextHooks(this, { [event]: [hook] })
  return this
}
