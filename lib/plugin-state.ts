import type { ConnectionManager } from './manager/connection-manager.js'
import type { ResolvedOptions } from './options.js'
import type { ResourceFactoryOption } from './resources/resource-builder.js'

/** What the plugin keeps on the Fastify instance for `addWebSocketRoute` and friends to find. */
export class PluginState {
  /** Set once the app is ready: hooks can no longer be added. */
  ready = false

  constructor (
    readonly manager: ConnectionManager,
    readonly options: ResolvedOptions,
    readonly resourceFactory: ResourceFactoryOption | undefined
  ) {}
}
