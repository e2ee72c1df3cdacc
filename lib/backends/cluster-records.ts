import type { Connection } from '../connection/connection.js'
import type { ConnectionFilter } from './backend.js'
import type { ConnectionRecord } from './cluster-transport.js'

/* How a node's connections look in the cluster's published state. */

/** What this node publishes about a connection. */
export function record (connection: Connection): ConnectionRecord {
  return { u: connection.user ?? null, l: [...connection.labels], r: [...connection.rooms] }
}

/** Whether a published record passes a `connections()` filter. */
export function matches (rec: ConnectionRecord, filter: ConnectionFilter): boolean {
  if (filter.room !== undefined && !rec.r.includes(filter.room)) return false
  if (filter.user !== undefined && rec.u !== filter.user) return false
  if (filter.label !== undefined && !rec.l.includes(filter.label)) return false
  return true
}

/** The sum of per-node counts. */
export function sum (values: number[]): number {
  let total = 0
  for (const value of values) total += value
  return total
}
