import type { Backend } from '../backends/backend.js'

/**
 * Subjects refused for a while (`app.ws.revoke(…, { forMs })`), by key:
 * `user:<id>` or `label:<label>`. Kept by the backend when it keeps them
 * (the memory backend in-process, Redis for the whole cluster); a backend
 * without `revoke`/`revoked` gets one of these per node.
 */
export interface RevocationStore {
  /** Refuses `key` for `forMs` from now (a later call for the same key replaces the window). */
  revoke (key: string, forMs: number): Promise<void>
  /** Whether any of `keys` is refused now. */
  revoked (keys: readonly string[]): Promise<boolean>
}

/** Revocations in this process: a key and when it lapses, dropped when read after that. */
export class LocalRevocations implements RevocationStore {
  private readonly until = new Map<string, number>()

  async revoke (key: string, forMs: number): Promise<void> {
    this.until.set(key, Date.now() + forMs)
  }

  async revoked (keys: readonly string[]): Promise<boolean> {
    if (this.until.size === 0) return false
    const now = Date.now()
    let found = false
    for (const key of keys) {
      const until = this.until.get(key)
      if (until === undefined) continue
      if (until > now) found = true
      else this.until.delete(key)
    }
    return found
  }
}

/** The store revocations go to: the backend's own, or one of this node's. */
export function revocationsOf (backend: Backend): RevocationStore {
  if (typeof backend.revoke === 'function' && typeof backend.revoked === 'function') {
    return { revoke: backend.revoke.bind(backend), revoked: backend.revoked.bind(backend) }
  }
  return new LocalRevocations()
}

/** The keys a subject is refused under. */
export function subjectKeys (user: string | undefined, labels: Iterable<string>): string[] {
  const keys = user === undefined ? [] : [`user:${user}`]
  for (const label of labels) keys.push(`label:${label}`)
  return keys
}
