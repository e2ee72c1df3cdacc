import type { FastifyInstance } from 'fastify'
import { ERR_HOOK_AFTER_READY, ERR_OPTION_INVALID } from './errors.js'
import { HOOK_EVENTS, type HookEvent, type WebSocketHook } from './hooks.js'
import type { PluginState } from './plugin-state.js'
import type { HookTier } from './route-runtime.js'
import { kHooks, kState } from './symbols.js'

/*
 * WebSocket hooks follow Fastify's encapsulation: hooks added to an instance
 * apply to the WebSocket routes declared in it and in the contexts it
 * registers, not to its siblings or parent. Each context keeps its own copy
 * of the lists (Fastify contexts inherit through their prototype chain).
 */

type Carrier = FastifyInstance & { [kHooks]?: HookTier, [kState]: PluginState }

/** The hooks that apply to routes declared in `instance`. */
export function contextHooks (instance: FastifyInstance): HookTier {
  return (instance as Carrier)[kHooks] ?? {}
}

/** Adds hooks to `instance`'s context. */
export function addContextHooks (instance: FastifyInstance, tier: HookTier): void {
  const current = contextHooks(instance)
  const next: HookTier = { ...current }
  for (const event of Object.keys(tier) as HookEvent[]) next[event] = [...(current[event] ?? []), ...(tier[event] ?? [])]
  ;(instance as Carrier)[kHooks] = next
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
