import type { FastifyRequest } from 'fastify'
import { Connection } from '../connection/connection.js'
import { parameterTokens, type Container, type ConnectionScope, type Token } from './container.js'
import { ERR_ROUTE_BAD_FACTORY_RESULT } from '../errors.js'
import { bindResource, WebSocketResource, withConstructionContext, type ConnectionContext } from './resource.js'
import { paramsByPosition } from '../routing/subroutes.js'

/** A resource class as `addWebSocketRoute` takes it. */
export type ResourceClass<A extends unknown[] = never[]> = new (...args: A) => WebSocketResource<object, object>

/** How this module calls a resource class or factory once its arguments are known. */
type Construct = new (...args: unknown[]) => WebSocketResource
type Make = (context: FactoryContext, ...args: unknown[]) => WebSocketResource | Promise<WebSocketResource>

/** What a resource factory receives first, before the route's `args`. */
export interface FactoryContext {
  readonly request: FastifyRequest
  readonly params: Record<string, string>
  readonly connection: Connection
  /** For a nested resource: the resource it is nested in. */
  readonly parent: WebSocketResource | undefined
}

/** A function that makes the resource for a connection (sync or async). */
export type ResourceFactory<A extends unknown[] = never[]> =
  (context: FactoryContext, ...args: A) => WebSocketResource<object, object> | Promise<WebSocketResource<object, object>>

/** What the `resourceFactory` option receives besides the default way to make the resource. */
export interface ResourceFactoryContext extends FactoryContext {
  /** The class or factory the route declared. */
  readonly resource: ResourceClass | ResourceFactory
  /** The arguments the default construction would pass first (child context, then the route's `args`). */
  readonly args: readonly unknown[]
  /** This connection's scope of the built-in container. */
  readonly container: ConnectionScope
}

/** The seam for any DI container: make the instance yourself, or call `make()` for the default. */
export type ResourceFactoryOption = (make: () => Promise<WebSocketResource<object, object>>, context: ResourceFactoryContext) =>
WebSocketResource<object, object> | Promise<WebSocketResource<object, object>>

/** One resource of a route's chain (one level unless resources are nested). */
export interface Level {
  readonly resource: ResourceClass | ResourceFactory
  readonly isClass: boolean
  readonly args: readonly unknown[]
  /** The full path of this level, prefix included. */
  readonly pattern: string
  /** For classes: the tokens of the constructor parameters the container provides (read once, at declaration). */
  readonly injected: ReadonlyArray<Token | undefined>
  /** Whether the parent level defines getChildContext (its result is the first constructor argument). */
  readonly takesChildContext: boolean
}

/** Describes one level at declaration. */
export function level (resource: ResourceClass | ResourceFactory, isClass: boolean, args: readonly unknown[], pattern: string, parent: Level | undefined): Level {
  const takesChildContext = parent !== undefined && parent.isClass &&
    typeof (parent.resource as ResourceClass).prototype.getChildContext === 'function'
  const leading = args.length + (takesChildContext ? 1 : 0)
  return { resource, isClass, args, pattern, takesChildContext, injected: isClass ? parameterTokens(resource as ResourceClass, leading) : [] }
}

/** Makes the resource of a one-level route whose class needs no injection and no factory: synchronously, the common case. */
export function buildPlain (current: Level, root: ConnectionContext): WebSocketResource {
  const Cls = current.resource as unknown as Construct
  const resource = withConstructionContext(root, () => new Cls(...current.args))
  bindResource(resource, root)
  return resource
}

/** Makes every resource of a connection's chain, outermost first. */
export async function buildChain (levels: readonly Level[], root: ConnectionContext, container: Container, factoryOption: ResourceFactoryOption | undefined): Promise<WebSocketResource[]> {
  const resources: WebSocketResource[] = []
  const url = root.request.url
  // one scope per connection, on the root context, so nested levels share connection-scoped services
  const scope = (): ConnectionScope => (root.scope ??= container.scope(new Map<Token, unknown>([[Connection, root.connection]])))
  for (let i = 0; i < levels.length; i++) {
    const current = levels[i]
    const parent = resources[i - 1]
    let context = root
    if (levels.length > 1) {
      context = Object.create(root) as ConnectionContext
      context.params = i === levels.length - 1
        ? { ...paramsByPosition(current.pattern, url), ...root.params }
        : paramsByPosition(current.pattern, url)
      context.parent = parent
      context.log = undefined
    }
    const leading: unknown[] = [...current.args]
    if (current.takesChildContext && parent !== undefined) {
      const childContext = parent.getChildContext?.()
      leading.unshift(childContext)
      const ownState = (childContext as { state?: unknown } | null)?.state
      if (ownState !== null && typeof ownState === 'object') context.box = { state: ownState }
    }
    resources.push(await buildOne(current, context, leading, container, scope, factoryOption))
  }
  return resources
}

async function buildOne (
  current: Level,
  context: ConnectionContext,
  leading: unknown[],
  container: Container,
  scope: () => ConnectionScope,
  factoryOption: ResourceFactoryOption | undefined
): Promise<WebSocketResource> {
  const make = async (): Promise<WebSocketResource> => {
    if (!current.isClass) {
      const info: FactoryContext = { request: context.request, params: context.params, connection: context.connection, parent: context.parent }
      const made = withConstructionContext(context, () => (current.resource as unknown as Make)(info, ...leading))
      return made instanceof Promise ? await made : made
    }
    const Cls = current.resource as unknown as Construct
    if (current.injected.length === 0) return withConstructionContext(context, () => new Cls(...leading))
    return await container.construct(Cls, leading, scope(), (args) => withConstructionContext(context, () => new Cls(...args)))
  }
  const resource: unknown = factoryOption === undefined
    ? await make()
    : await factoryOption(make, {
      request: context.request,
      params: context.params,
      connection: context.connection,
      parent: context.parent,
      resource: current.resource,
      args: leading,
      container: scope()
    })
  if (!(resource instanceof WebSocketResource)) throw new ERR_ROUTE_BAD_FACTORY_RESULT(context.routePath)
  bindResource(resource, context)
  return resource
}
