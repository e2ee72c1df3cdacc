/*
 * Where a clustered backend keeps each node's hub presences, so a join on
 * any node lists everyone: one record per (node, topic), entries by
 * `phx_ref`, each the JSON of `[key, meta]`. Imports nothing.
 */

/** Entries of one node's presences in one topic: `[phx_ref, json]`. */
export type PresenceEntries = ReadonlyArray<readonly [ref: string, json: string]>

/**
 * A backend's cluster-wide presence storage (`backend.presence`); absent,
 * presence is this node's only. Obligations:
 * - `write`/`replace` change only this node's record of the topic; a record
 *   expires when this node stops calling `refresh` (or its heartbeat stops)
 *   for the backend's TTL, so a dead node's presences go away by themselves.
 * - `others` lists the other live nodes (the same liveness as the backend's
 *   queries); `read` gives what each of them holds in the topic, in order.
 * - Every method rejects promptly while the backend's server is unreachable.
 */
export interface PresenceStore {
  /** How often the hub should check which nodes are alive (and refresh its records), in ms. */
  readonly checkMs: number
  /** The other nodes alive now. */
  others (): Promise<string[]>
  /** Sets and removes entries of this node's record of `topic`. */
  write (topic: string, set: PresenceEntries, removed: readonly string[]): Promise<void>
  /** Replaces this node's record of `topic` (after an outage, when it may be gone). */
  replace (topic: string, entries: PresenceEntries): Promise<void>
  /** Keeps this node's records of `topics` from expiring; false when one had expired already (then it is republished). */
  refresh (topics: readonly string[]): Promise<boolean>
  /** The entries each of `nodes` holds in `topic`. */
  read (nodes: readonly string[], topic: string): Promise<PresenceEntries[]>
}

/** The transport's half: the same, for a node given by id, with the TTL given. */
export interface PresenceTransport {
  /** Sets and removes entries of `node`'s record of `topic`, which expires after `ttlMs` unless refreshed. */
  write (node: string, topic: string, set: PresenceEntries, removed: readonly string[], ttlMs: number): Promise<void>
  /** Replaces `node`'s record of `topic`. */
  replace (node: string, topic: string, entries: PresenceEntries, ttlMs: number): Promise<void>
  /** Extends `node`'s records of `topics` by `ttlMs`; false when one had expired already. */
  refresh (node: string, topics: readonly string[], ttlMs: number): Promise<boolean>
  /** The entries each of `nodes` holds in `topic`, in the order of `nodes`. */
  read (nodes: readonly string[], topic: string): Promise<PresenceEntries[]>
}
