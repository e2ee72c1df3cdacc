import type { PresenceEntries } from '../../backends/presence-store.js'
import type { PresenceList, PresenceMeta } from './presence-types.js'

/** One presence as this node holds it, and as the store keeps it (`json` is `[key, meta]`). */
export interface PresenceEntry {
  readonly ref: string
  readonly key: string
  readonly meta: PresenceMeta
  readonly json: string
  /** The channel (or the server) that tracks it: its end untracks it. */
  readonly owner: object
}

/**
 * Presences grouped by key. Keys are chosen by the app and may be
 * `__proto__` or `constructor`: the maps have no prototype (the client
 * builds its own the same way).
 */
export function group (...sources: Array<Iterable<{ readonly key: string, readonly meta: PresenceMeta }>>): PresenceList {
  const list: PresenceList = Object.create(null)
  for (const source of sources) {
    for (const { key, meta } of source) {
      const found = list[key]
      if (found === undefined) list[key] = { metas: [meta] }
      else found.metas.push(meta)
    }
  }
  return list
}

/** Other nodes' entries, as read from the store; anything that is not `[key, { phx_ref }]` is skipped. */
export function * remoteEntries (records: readonly PresenceEntries[]): Iterable<{ key: string, meta: PresenceMeta }> {
  for (const record of records) {
    for (const [, json] of record) {
      let value: unknown
      try {
        value = JSON.parse(json)
      } catch {
        continue
      }
      if (!Array.isArray(value) || typeof value[0] !== 'string') continue
      const meta = value[1] as PresenceMeta | null
      if (meta === null || typeof meta !== 'object' || typeof meta.phx_ref !== 'string') continue
      yield { key: value[0], meta }
    }
  }
}
