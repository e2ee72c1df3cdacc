import type { PresenceStore, PresenceTransport } from './presence-store.js'

export type { PresenceStore }

/** A clustered backend's presence store: its transport's, for this node, with the backend's timing and liveness; none when the transport keeps no presence. */
export function clusterPresenceStore (transport: PresenceTransport | undefined, node: string, heartbeatMs: number, ttlMs: number, others: () => Promise<string[]>): PresenceStore | undefined {
  if (transport === undefined) return undefined
  return {
    checkMs: heartbeatMs,
    others,
    write: async (topic, set, removed) => await transport.write(node, topic, set, removed, ttlMs),
    replace: async (topic, entries) => await transport.replace(node, topic, entries, ttlMs),
    refresh: async (topics) => await transport.refresh(node, topics, ttlMs),
    read: async (nodes, topic) => await transport.read(nodes, topic)
  }
}
