// types only: ioredis is loaded when a Redis backend starts
import type { Redis } from 'ioredis'
import type { PresenceEntries, PresenceTransport } from './presence-store.js'

/**
 * Hub presences in Redis: a hash per (node, topic), field `phx_ref`, value
 * `[key, meta]` as JSON, expiring `ttlMs` after this node's last write or
 * refresh, so a dead node's presences go away by themselves.
 */
export class RedisPresence implements PresenceTransport {
  /** `client` gives the transport's command connection once it is connected. */
  constructor (private readonly client: () => Redis, private readonly prefix: string) {}

  async write (node: string, topic: string, set: PresenceEntries, removed: readonly string[], ttlMs: number): Promise<void> {
    const key = this.key(node, topic)
    const batch = this.client().multi()
    if (set.length > 0) batch.hset(key, Object.fromEntries(set))
    if (removed.length > 0) batch.hdel(key, ...removed)
    await batch.pexpire(key, ttlMs).exec()
  }

  async replace (node: string, topic: string, entries: PresenceEntries, ttlMs: number): Promise<void> {
    const key = this.key(node, topic)
    const batch = this.client().multi().del(key)
    if (entries.length > 0) batch.hset(key, Object.fromEntries(entries)).pexpire(key, ttlMs)
    await batch.exec()
  }

  async refresh (node: string, topics: readonly string[], ttlMs: number): Promise<boolean> {
    const batch = this.client().pipeline()
    for (const topic of topics) batch.pexpire(this.key(node, topic), ttlMs)
    const results = await batch.exec() as Array<[Error | null, unknown]>
    // PEXPIRE answers 0 for a key that is gone
    return results.every(([err, found]) => err === null && found === 1)
  }

  async read (nodes: readonly string[], topic: string): Promise<PresenceEntries[]> {
    const client = this.client()
    return await Promise.all(nodes.map(async (node) => Object.entries(await client.hgetall(this.key(node, topic)))))
  }

  private key (node: string, topic: string): string {
    return `${this.prefix}:p:${node}:${topic}`
  }
}
