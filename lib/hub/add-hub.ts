import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import { ERR_OPTION_INVALID } from '../errors.js'
import { normalizeHooks, type WebSocketHooks } from '../hooks/hook-chain.js'
import type { PluginState } from '../plugin-state.js'
import type { UpgradeRouteOptions } from '../routing/add-route.js'
import { kHubAssigns, kState } from '../symbols.js'
import type { JoinHook } from './channel-spec.js'
import { versionOf } from './codec.js'
import { connectParams } from './connect-params.js'
import { serveHub, WebSocketHub } from './hub.js'
import { HubRuntime, type HubAdmission } from './hub-runtime.js'
import { resolveRateLimit, type RateLimitOptions } from '../rate-limit/options.js'
import { addChangeMirror } from '../change-feed/publish.js'

/** Decides a socket before the upgrade from its params (the query string, nested as `a[b]=1`): `false` answers HTTP 403; an object becomes the socket's assigns. */
export type HubConnect = (params: Record<string, unknown>, request: FastifyRequest) => boolean | object | Promise<boolean | object>

/** Options of `app.addWebSocketHub(path, options)`. */
export interface WebSocketHubOptions extends UpgradeRouteOptions {
  /** Decides the socket before the upgrade: only `true` or an object (the assigns every channel sees) admit it; anything else is HTTP 403. */
  connect?: HubConnect
  /**
   * Channels one socket may have joined at once; a join over it gets `{ reason: 'too many channels joined' }`.
   * @default 100 (Phoenix's)
   */
  maxChannels?: number
  /**
   * A socket that sends nothing, not even a heartbeat, for this long is closed (1001); 0 never closes one.
   * @default 60000 (Phoenix's; the client sends a heartbeat every 30 s)
   */
  idleTimeoutMs?: number
  /**
   * Longest topic accepted, in characters.
   * @default 1024
   */
  maxTopicLength?: number
  /** WebSocket hooks of this hub: `beforeMessage`/`afterMessage` run around every event (between the context's and the channel class's). */
  hooks?: WebSocketHooks
  /** Runs before every channel's `onJoin`; it may refuse the join. */
  beforeJoin?: JoinHook | JoinHook[]
  /**
   * Per-socket rate limit of events (heartbeats are free), and of joins apart with `joins`:
   * over it, an `error` reply `{ reason: 'rate limited', code: 'RATE_LIMITED', retryAfterMs }`;
   * sustained abuse (`closeAfter`) closes with 1008. `false`: none.
   * @default the plugin's `rateLimit` (none)
   */
  rateLimit?: RateLimitOptions | false
  /**
   * Mirrors the change feed's events (docs/change-feed.md) as hub topics: each
   * event is broadcast as `change` on `<prefix><model>` and `<prefix>all`, so a
   * Phoenix client joins `changes:author` like any topic. Declare a channel for
   * those topics (e.g. `hub.channel('changes:{model}', ChangesChannel)`): its
   * `onJoin` decides who may subscribe.
   * @default false; `true` is `{ prefix: 'changes:' }`
   */
  changes?: boolean | { prefix?: string }
}

const HTTP_FORBIDDEN = 403
const DEFAULTS = { maxChannels: 100, idleTimeoutMs: 60_000, maxTopicLength: 1024 }

/**
 * Serves a channels hub speaking the Phoenix protocol at `path` and at
 * `path + '/websocket'` (where the official client connects), in the calling
 * encapsulation context: its prefix and Fastify hooks apply to the upgrade.
 * @example
 * const hub = app.addWebSocketHub('/socket', { connect: (params) => params.token === 'ok' })
 * hub.channel('room:{id}', RoomChannel)
 */
export function addWebSocketHub (this: FastifyInstance, path: string, options: WebSocketHubOptions = {}): WebSocketHub {
  const state = (this as unknown as { [kState]: PluginState })[kState]
  if (typeof path !== 'string' || path.length === 0 || !path.startsWith('/')) throw new ERR_OPTION_INVALID('path', 'must be a string starting with "/"')
  const { connect, maxChannels, idleTimeoutMs, maxTopicLength, hooks, beforeJoin, rateLimit, changes, ...fastifyOptions } = options
  const changesPrefix = changeTopicPrefix(changes)
  if (connect !== undefined && typeof connect !== 'function') throw new ERR_OPTION_INVALID('connect', 'must be a function')
  const joinHooks = beforeJoin === undefined ? [] : Array.isArray(beforeJoin) ? beforeJoin : [beforeJoin]
  if (joinHooks.some((hook) => typeof hook !== 'function')) throw new ERR_OPTION_INVALID('beforeJoin', 'must be a function or an array of functions')
  const fullPath = joinPrefix(this.prefix, path)
  const runtime = new HubRuntime(new WebSocketHub(), state.manager, this, {
    path: fullPath,
    maxChannels: count('maxChannels', maxChannels, DEFAULTS.maxChannels, 1),
    idleTimeoutMs: count('idleTimeoutMs', idleTimeoutMs, DEFAULTS.idleTimeoutMs, 0),
    maxTopicLength: count('maxTopicLength', maxTopicLength, DEFAULTS.maxTopicLength, 1),
    protoAction: state.options.onProtoPoisoning,
    hooks: normalizeHooks(hooks, 'hooks'),
    beforeJoin: joinHooks,
    rateLimit: rateLimit === false ? undefined : rateLimit === undefined ? state.options.rateLimit : resolveRateLimit(rateLimit)
  })
  const hub = runtime.hub
  serveHub(hub, runtime)
  const preValidation = appendHook(fastifyOptions.preValidation, admissionHook(connect))
  const websocketPath = path.endsWith('/') ? path + 'websocket' : path + '/websocket'
  for (const url of [path, websocketPath]) {
    this.route({ ...fastifyOptions, preValidation, method: 'GET', url, websocket: true, handler: runtime.accept } as never)
  }
  if (changesPrefix !== undefined) {
    const stopMirror = addChangeMirror(state.manager, async (event) => {
      await Promise.all([hub.broadcast(changesPrefix + event.model, 'change', event), hub.broadcast(changesPrefix + 'all', 'change', event)])
    })
    this.addHook('onClose', async () => stopMirror())
  }
  this.addHook('onClose', async () => runtime.stop())
  this.log.debug({ hub: fullPath }, 'WebSocket hub declared')
  return hub
}

function admissionHook (connect: HubConnect | undefined): preValidationAsyncHookHandler {
  return async function admitHubSocket (request: FastifyRequest, reply: FastifyReply) {
    const url = request.raw.url as string
    const at = url.indexOf('?')
    const version = versionOf(at === -1 ? undefined : new URLSearchParams(url.slice(at + 1)).get('vsn') ?? undefined)
    if (version === undefined) return await forbid(reply, 'unsupported protocol version (vsn): use 1.0.0 or 2.0.0')
    let assigns: Record<string, unknown> = {}
    if (connect !== undefined) {
      const result = await connect(connectParams(url), request)
      // fails closed, like authorize: a forgotten return refuses
      if (result === null || (result !== true && typeof result !== 'object')) return await forbid(reply, 'connection not authorized')
      if (typeof result === 'object') assigns = result as Record<string, unknown>
    }
    const admission: HubAdmission = { version, assigns }
    ;(request.raw as { [kHubAssigns]?: HubAdmission })[kHubAssigns] = admission
  }
}

async function forbid (reply: FastifyReply, message: string): Promise<FastifyReply> {
  return await reply.code(HTTP_FORBIDDEN).send({ statusCode: HTTP_FORBIDDEN, error: 'Forbidden', message })
}

function count (name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new ERR_OPTION_INVALID(name, `must be an integer ≥ ${min}`)
  return value
}

function appendHook<H> (existing: H | H[] | undefined, hook: H): H[] {
  if (existing === undefined) return [hook]
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook]
}

function joinPrefix (prefix: string, path: string): string {
  if (prefix.length === 0) return path
  if (path === '/') return prefix
  return prefix + path
}

/** The topic prefix of the `changes` option, or undefined when it is off. */
function changeTopicPrefix (changes: WebSocketHubOptions['changes']): string | undefined {
  if (changes === undefined || changes === false) return undefined
  if (changes === true) return 'changes:'
  if (changes === null || typeof changes !== 'object' || (changes.prefix !== undefined && typeof changes.prefix !== 'string')) {
    throw new ERR_OPTION_INVALID('changes', 'must be true, false or { prefix: string }')
  }
  return changes.prefix ?? 'changes:'
}
