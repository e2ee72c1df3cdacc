import type { BackendContext } from '../backends/backend.js'
import type { Connection, ConnectionSettings } from '../connection/connection.js'
import { deliver, deliverOne } from '../connection/delivery.js'
import type { ConnectionManager } from './connection-manager.js'
import { encode } from './send-options.js'

/** What the backend is started with: this node's registry of connections, the delivery functions and references. */
export function backendContext (manager: ConnectionManager, registry: ReadonlyMap<string, Connection>, settings: ConnectionSettings, log: BackendContext['log']): BackendContext {
  return {
    nodeId: manager.nodeId,
    log,
    local: registry,
    deliver: (recipients, frame, options) => deliver(recipients, frame, options.exclude, settings, options.timeoutMs),
    deliverOne: async (connection, frame, options) => await deliverOne(connection, frame, settings, options.timeoutMs),
    refOf: (connection) => ({
      id: connection.id,
      nodeId: manager.nodeId,
      user: connection.user,
      labels: [...connection.labels],
      local: true,
      send: async (message) => await deliverOne(connection, encode(message), settings),
      close: async (code, reason) => connection.close(code, reason)
    }),
    refFor: (id, nodeId, user, labels) => ({
      id,
      nodeId,
      user,
      labels,
      local: false,
      send: async (message) => await manager.sendTo(id, message),
      close: async (code, reason) => await manager.disconnect(id, code, reason)
    })
  }
}
