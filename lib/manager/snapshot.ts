import type { Connection, Metrics } from '../connection/connection.js'

/** A point-in-time view of the manager, for an introspection route. */
export interface ManagerSnapshot {
  nodeId: string
  backend: string
  connections: number
  rooms: number
  metrics: Metrics
}

/** Counts this node's connections and the distinct rooms they are in. */
export function snapshotOf (nodeId: string, backend: string, registry: ReadonlyMap<string, Connection>, metrics: Metrics): ManagerSnapshot {
  const rooms = new Set<string>()
  for (const connection of registry.values()) for (const room of connection.rooms) rooms.add(room)
  return { nodeId, backend, connections: registry.size, rooms: rooms.size, metrics: { ...metrics } }
}

/** Tells the backend of a membership change the manager already recorded; undoes the record if the backend refuses it. */
export async function told (tell: Promise<void>, undo: () => void): Promise<void> {
  await tell.catch((err: unknown) => {
    undo()
    throw err
  })
}
