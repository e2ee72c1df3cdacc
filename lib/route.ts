import type { FastifyInstance, FastifyRequest, RouteShorthandOptions, preValidationAsyncHookHandler } from 'fastify'
import { ERR_OPTION_INVALID, ERR_ROUTE_NOT_RESOURCE } from './errors.js'
import type { PluginState } from './plugin-state.js'
import { WebSocketResource } from './resource.js'
import { RouteRuntime, type ResourceClass, type ResourceFactory } from './route-runtime.js'
import { kState } from './symbols.js'

/** The Fastify route options an upgrade request goes through (hooks run before the upgrade). */
export type UpgradeRouteOptions = Pick<RouteShorthandOptions,
'onRequest' | 'preParsing' | 'preValidation' | 'preHandler' | 'schema' | 'config' | 'constraints' | 'logLevel' | 'prefixTrailingSlash'>

/** Options of `app.addWebSocketRoute`. */
export interface WebSocketRouteBaseOptions extends UpgradeRouteOptions {
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
   * Decides before the upgrade: false answers HTTP 403, a thrown error with a
   * `statusCode` answers that status; the socket is never opened.
   */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>
}

/** `args` is required exactly when the constructor or factory needs arguments. */
export type WebSocketRouteOptions<A extends readonly unknown[]> = WebSocketRouteBaseOptions &
  ([] extends A ? { args?: A } : { args: A })

type OptionsArg<A extends readonly unknown[]> = [] extends A ? [options?: WebSocketRouteOptions<A>] : [options: WebSocketRouteOptions<A>]

/** The type of `app.addWebSocketRoute`. */
export interface AddWebSocketRoute {
  <A extends unknown[]>(path: string, factory: ResourceFactory<A>, ...options: OptionsArg<A>): FastifyInstance
  <C extends ResourceClass>(path: string, resource: C, ...options: OptionsArg<ConstructorParameters<C>>): FastifyInstance
}

const HTTP_FORBIDDEN = 403

/**
 * Binds a path to a resource: a GET route with `websocket: true` in the
 * calling encapsulation context, so its prefix and hooks apply to the upgrade.
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
  const { name, discriminator, strict, authorize, args = [], ...fastifyOptions } = options
  if (!Array.isArray(args)) throw new ERR_OPTION_INVALID('args', 'must be an array of constructor arguments')
  if (discriminator !== undefined && (typeof discriminator !== 'string' || discriminator.length === 0)) {
    throw new ERR_OPTION_INVALID('discriminator', 'must be a non-empty string')
  }
  if (authorize !== undefined && typeof authorize !== 'function') throw new ERR_OPTION_INVALID('authorize', 'must be a function')

  const fullPath = joinPrefix(this.prefix, path)
  const runtime = new RouteRuntime({
    path: fullPath,
    name,
    resource,
    isClass,
    args,
    strict: strict ?? state.options.strict,
    frames: { discriminator: discriminator ?? state.options.discriminator, protoAction: state.options.onProtoPoisoning }
  }, state.manager)
  runtime.interceptor = state.interceptorFor(runtime)
  if (name !== undefined) state.manager.nameRoute(name, fullPath)

  const preValidation = authorize === undefined
    ? fastifyOptions.preValidation
    : appendHook(fastifyOptions.preValidation, authorizeHook(authorize))
  this.route({ ...fastifyOptions, preValidation, method: 'GET', url: path, websocket: true, handler: runtime.accept } as never)
  return this
}

function isResourceClass (resource: unknown, path: string): boolean {
  if (typeof resource !== 'function') throw new ERR_ROUTE_NOT_RESOURCE(path, describe(resource))
  if (resource.prototype instanceof WebSocketResource) return true
  if (/^class[\s{]/.test(Function.prototype.toString.call(resource))) throw new ERR_ROUTE_NOT_RESOURCE(path, `class ${resource.name || '(anonymous)'}`)
  return false
}

function describe (value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value
}

function authorizeHook (authorize: (request: FastifyRequest) => boolean | Promise<boolean>): preValidationAsyncHookHandler {
  return async function authorizeUpgrade (request, reply) {
    if (await authorize(request) === false) {
      return await reply.code(HTTP_FORBIDDEN).send({ statusCode: HTTP_FORBIDDEN, error: 'Forbidden', message: 'connection not authorized' })
    }
  }
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
