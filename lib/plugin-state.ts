import type { MessageInterceptor } from './dispatch.js'
import type { ConnectionManager } from './manager.js'
import type { ResolvedOptions } from './options.js'
import type { RouteRuntime } from './route-runtime.js'

/** What the plugin keeps on the Fastify instance for `addWebSocketRoute` to find. */
export class PluginState {
  constructor (readonly manager: ConnectionManager, readonly options: ResolvedOptions) {}

  /** The message hooks a route's handlers run inside, if any apply to it. */
  interceptorFor (_route: RouteRuntime): MessageInterceptor | undefined {
    return undefined
  }
}
