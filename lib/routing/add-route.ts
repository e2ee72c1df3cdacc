import type { FastifyInstance, FastifyRequest, RouteShorthandOptions, preValidationAsyncHookHandler } from 'fastify'
import { Connection } from '../connection/connection.js'
import { contextHooks } from '../hooks/context-hooks.js'
import { isClass, type Token } from '../resources/container.js'
import { ERR_OPTION_INVALID, ERR_ROUTE_NOT_RESOURCE } from '../errors.js'
import { normalizeHooks, type WebSocketHooks } from '../hooks/hook-chain.js'
import type { PluginState } from '../plugin-state.js'
import { level, type Level, type ResourceClass, type ResourceFactory, type ResourceFactoryOption } from '../resources/resource-builder.js'
import { dispatchTableOf, nameOf } from '../messages/dispatch-table.js'
import { WebSocketResource } from '../resources/resource.js'
import { RouteRuntime, type HookTier } from './route-runtime.js'
import { joinPath, subroutesOf } from './subroutes.js'
import { kRouteNames, kState } from '../symbols.js'
import { checkSubprotocols, subprotocolHook } from '../protocol/subprotocols.js'
import { resolveRateLimit, type RateLimitOptions, type RateLimits } from '../rate-limit/options.js'
import type { AdmissionRouteOptions } from '../admission/admission-options.js'

/** The Fastify route options an upgrade request goes through (hooks run before the upgrade). */
export type UpgradeRouteOptions = Pick<RouteShorthandOptions,
'onRequest' | 'preParsing' | 'preValidation' | 'preHandler' | 'schema' | 'config' | 'constraints' | 'logLevel' | 'prefixTrailingSlash'>

/** Options of `app.addWebSocketRoute`; `origins`, `requireOrigin` and `identify` override the plugin's for this route (docs/security.md). */
export interface WebSocketRouteBaseOptions extends UpgradeRouteOptions, AdmissionRouteOptions {
  /** A name for `app.ws.urlFor(name, params)`; unique across the app. */
  name?: string
  /**
   * The message field that carries the tag.
   * @default the plugin's `discriminator` ('type')
   */
  discriminator?: string
  /**
   * Refuse properties a handler's schema does not declare.
   * @default the plugin's `strict` (true)
   */
  strict?: boolean
  /**
   * Decides before the upgrade: only `true` admits; anything else answers HTTP
   * 403, a thrown error with a `statusCode` answers that status; the socket is never opened.
   */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>
  /** WebSocket hooks of this route (between the context's and the resource's). */
  hooks?: WebSocketHooks
  /** Makes the resource instead of `new Resource(...args)`: the seam for another DI container. Overrides the plugin's. */
  resourceFactory?: ResourceFactoryOption
  /**
   * The message field that carries a request's ref.
   * @default the plugin's `replyField` ('ref')
   */
  replyField?: string
  /**
   * The subprotocols this route speaks: the first of the client's
   * `Sec-WebSocket-Protocol` offers that is listed here is chosen
   * (`this.connection.protocol`); a client offering none of them gets HTTP 400.
   * @default none: every offer is accepted as ws does, the first one
   */
  subprotocols?: string[]
  /**
   * This route's per-connection message rate limit; `false` turns the plugin's off here. See docs/rate-limits.md.
   * @default the plugin's `rateLimit` (none)
   */
  rateLimit?: RateLimitOptions | false
}

/** `args` is required exactly when the constructor or factory needs arguments. */
export type WebSocketRouteOptions<A extends readonly unknown[]> = WebSocketRouteBaseOptions &
  ([] extends A ? { args?: A } : { args: A })

type OptionsArg<A extends readonly unknown[]> = [] extends A ? [options?: WebSocketRouteOptions<A>] : [options: WebSocketRouteOptions<A>]

/** Leading constructor arguments: the rest may come from the container, so every element is optional. */
export type LeadingArgs<A extends readonly unknown[]> = { [K in keyof A]?: A[K] }

/** The type of `app.addWebSocketRoute`. */
export interface AddWebSocketRoute {
  <A extends unknown[]>(path: string, factory: ResourceFactory<A>, ...options: OptionsArg<A>): FastifyInstance
  <C extends ResourceClass>(path: string, resource: C, options?: WebSocketRouteBaseOptions & { args?: LeadingArgs<ConstructorParameters<C>> }): FastifyInstance
}

const HTTP_FORBIDDEN = 403
/** Tokens the container does not hold but every connection provides. */
const BUILT_INS = new Set<Token>([Connection])

type RouteDeclaration = Omit<WebSocketRouteBaseOptions, 'name' | 'discriminator' | 'strict' | 'authorize' | 'hooks' | 'resourceFactory' | 'replyField' | 'subprotocols' | 'rateLimit' | keyof AdmissionRouteOptions>

/**
 * Binds a path to a resource: a GET route with `websocket: true` in the
 * calling encapsulation context, so its prefix and hooks apply to the upgrade.
 * A resource with `static subroutes` also gets one route per nested resource.
 */
export function addWebSocketRoute (
  this: FastifyInstance,
  path: string,
  resource: ResourceClass | ResourceFactory,
  options: WebSocketRouteBaseOptions & { args?: readonly unknown[] } = {}
): FastifyInstance {
  const state = (this as unknown as { [kState]: PluginState })[kState]
  if (typeof path !== 'string' || path.length === 0) throw new ERR_OPTION_INVALID('path', 'must be a non-empty string')
  const isClass = isResourceClass(resource, path)
  const { name, discriminator, strict, authorize, hooks, resourceFactory, replyField, subprotocols, rateLimit, origins, requireOrigin, identify, args = [], ...routeOptions } = options
  const fastifyOptions = withAdmission(routeOptions, { origins, requireOrigin, identify })
  if (!Array.isArray(args)) throw new ERR_OPTION_INVALID('args', 'must be an array of constructor arguments')
  if (discriminator !== undefined && (typeof discriminator !== 'string' || discriminator.length === 0)) {
    throw new ERR_OPTION_INVALID('discriminator', 'must be a non-empty string')
  }
  if (authorize !== undefined && typeof authorize !== 'function') throw new ERR_OPTION_INVALID('authorize', 'must be a function')
  if (resourceFactory !== undefined && typeof resourceFactory !== 'function') throw new ERR_OPTION_INVALID('resourceFactory', 'must be a function')
  if (replyField !== undefined && (typeof replyField !== 'string' || replyField.length === 0)) throw new ERR_OPTION_INVALID('replyField', 'must be a non-empty string')
  const protocols = checkSubprotocols(subprotocols)
  const limits = rateLimit === false ? undefined : rateLimit === undefined ? state.options.rateLimit : resolveRateLimit(rateLimit)
  const authorized = authorize === undefined
    ? fastifyOptions.preValidation
    : appendHook(fastifyOptions.preValidation, authorizeHook(authorize))
  const preValidation = protocols === undefined ? authorized : appendHook(authorized, subprotocolHook(protocols))
  const instance = this
  const shared = {
    state,
    instance,
    fastifyOptions: { ...fastifyOptions, preValidation },
    routeHooks: normalizeHooks(hooks, 'hooks'),
    discriminator: discriminator ?? state.options.discriminator,
    replyField: replyField ?? state.options.replyField,
    subprotocols: protocols,
    strict: strict ?? state.options.strict,
    resourceFactory: resourceFactory ?? state.resourceFactory,
    rateLimit: limits
  }
  if (shared.replyField === shared.discriminator) throw new ERR_OPTION_INVALID('replyField', `cannot be the discriminator "${shared.discriminator}"`)
  declare(shared, [], path, joinPrefix(this.prefix, path), resource, isClass, args, name)
  return this
}

interface Shared {
  state: PluginState
  instance: FastifyInstance
  fastifyOptions: RouteDeclaration
  routeHooks: HookTier
  discriminator: string
  replyField: string
  subprotocols: string[] | undefined
  strict: boolean
  resourceFactory: ResourceFactoryOption | undefined
  rateLimit: RateLimits | undefined
}

function declare (
  shared: Shared, parents: readonly Level[], url: string, fullPath: string,
  resource: ResourceClass | ResourceFactory, isClass: boolean, args: readonly unknown[], name: string | undefined
): void {
  const { state, instance } = shared
  const current = level(resource, isClass, args, fullPath, parents[parents.length - 1])
  // with a resourceFactory, another container may provide what ours does not know: a miss shows when make() is called
  if (isClass && current.injected.length > 0 && shared.resourceFactory === undefined) {
    state.manager.container.check(resource as ResourceClass, args.length + (current.takesChildContext ? 1 : 0), BUILT_INS)
  }
  const levels = [...parents, current]
  const runtime = new RouteRuntime({
    path: fullPath,
    levels,
    strict: shared.strict,
    frames: { discriminator: shared.discriminator, protoAction: state.options.onProtoPoisoning, replyField: shared.replyField },
    hooks: shared.routeHooks,
    contextHooks: () => contextHooks(instance),
    resourceFactory: shared.resourceFactory,
    rateLimit: shared.rateLimit?.messages
  }, state.manager)
  if (name !== undefined) state.manager[kRouteNames].add(name, fullPath)
  const { discriminator, replyField, strict, subprotocols } = shared
  const table = isClass ? dispatchTableOf(resource as ResourceClass, discriminator, strict, WebSocketResource.prototype, replyField) : undefined
  state.manager.contract.addRoute({ path: fullPath, name, resource, isClass, discriminator, replyField, strict, subprotocols, schema: shared.fastifyOptions.schema, table })
  instance.route({ ...shared.fastifyOptions, method: 'GET', url, websocket: true, handler: runtime.accept } as never)
  instance.log.debug({ route: fullPath, tags: runtime.tags ?? 'decided by the factory, per connection' }, 'WebSocket route declared')
  if (!isClass) return
  for (const sub of subroutesOf(resource)) {
    if (!(sub.resource.prototype instanceof WebSocketResource)) throw new ERR_ROUTE_NOT_RESOURCE(joinPath(fullPath, sub.path), `subroute ${nameOf(sub.resource)}`)
    if (levels.some((l) => l.resource === sub.resource)) throw new ERR_OPTION_INVALID(`${resource.name}.subroutes`, `${sub.resource.name} is already an ancestor: nesting cannot loop`)
    declare(shared, levels, joinPath(url, sub.path), joinPath(fullPath, sub.path), sub.resource as ResourceClass, true, sub.args, sub.name)
  }
}

function isResourceClass (resource: unknown, path: string): boolean {
  if (typeof resource !== 'function') throw new ERR_ROUTE_NOT_RESOURCE(path, describe(resource))
  if (resource.prototype instanceof WebSocketResource) return true
  if (isClass(resource)) throw new ERR_ROUTE_NOT_RESOURCE(path, `class ${nameOf(resource)}`)
  return false
}

function describe (value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value
}

function authorizeHook (authorize: (request: FastifyRequest) => boolean | Promise<boolean>): preValidationAsyncHookHandler {
  return async function authorizeUpgrade (request, reply) {
    // fails closed, like authorizeJoin: only `true` admits (an undefined from a forgotten return refuses)
    if (await authorize(request) !== true) {
      return await reply.code(HTTP_FORBIDDEN).send({ statusCode: HTTP_FORBIDDEN, error: 'Forbidden', message: 'connection not authorized' })
    }
  }
}

/** The route's admission settings travel in its Fastify config, where the plugin's onRoute hook reads them (with a plain route's). */
function withAdmission (options: RouteDeclaration, admission: AdmissionRouteOptions): RouteDeclaration {
  const given = Object.fromEntries(Object.entries(admission).filter(([, value]) => value !== undefined))
  if (Object.keys(given).length === 0) return options
  const config = (options.config ?? {}) as { admission?: AdmissionRouteOptions | false }
  return { ...options, config: { ...config, admission: { ...config.admission, ...given } } }
}

function appendHook<H> (existing: H | H[] | undefined, hook: H): H[] {
  if (existing === undefined) return [hook]
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook]
}

/** The path Fastify registers for `path` under `prefix` (a bare '/' under a prefix is the prefix itself). */
function joinPrefix (prefix: string, path: string): string {
  if (prefix.length === 0) return path
  if (path === '/') return prefix
  return prefix + path
}
