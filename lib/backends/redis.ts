// types only: the published declarations name none of them, and ioredis is loaded when a Redis backend starts
import type { Redis } from 'ioredis'
import { ERR_BACKEND_DEPENDENCY_MISSING, ERR_OPTION_INVALID } from '../errors.js'
import { ClusterBackend } from './cluster.js'
import { describeValue, type ClusterOptions } from './cluster-options.js'
import type { ClusterTransport, ConnectionRecord, NodeState, NodeStateUpdate } from './cluster-transport.js'
import { RedisPresence } from './redis-presence.js'
import { defineHistoryCommands, RedisHistory, type HistoryClient } from './redis-history.js'
import { ALIVE, HEARTBEAT, PUBLISH_IF_CONNECTION } from './redis-scripts.js'

/**
 * An ioredis client (`new Redis(…)`), as far as `redisBackend({ client })` uses
 * it: a template it `duplicate()`s. Declared here so the types need no ioredis.
 */
export interface RedisClientLike {
  /** Makes a new client with this one's settings (and the overrides given). */
  duplicate (override?: object): unknown
  /** Adds a Lua command; its presence tells an ioredis client from another library's. */
  defineCommand (name: string, definition: { lua: string, numberOfKeys?: number }): void
}

/** Options of `redisBackend()`. */
export interface RedisBackendOptions extends ClusterOptions {
  /** Where to connect (`redis://…`, `rediss://…`); give this or `client`. */
  url?: string
  /**
   * An ioredis client of yours, as a template: the backend connects with two
   * `duplicate()`s of it and quits them on close; yours is never used, changed or quit.
   */
  client?: RedisClientLike
  /**
   * Prefix of every key and channel, so apps (or tests) can share one Redis: a non-empty string without spaces.
   * @default 'pachinko'
   */
  prefix?: string
  /** Extra ioredis `RedisOptions` (`password`, `tls`, `db`, …) for the backend's clients. */
  redisOptions?: object
}

/** What the transport needs, once checked. */
interface TransportOptions {
  url: string | undefined
  client: RedisClientLike | undefined
  prefix: string
  redisOptions: object | undefined
}

/**
 * The Redis backend: rooms and fan-out across processes and machines over
 * Redis pub/sub (ioredis, an optional peer dependency: `npm install ioredis`),
 * cluster-wide membership kept in Redis with heartbeats. Options are checked
 * here, before anything connects.
 * @example await app.register(pachinko, { backend: redisBackend({ url: process.env.REDIS_URL }) })
 */
export function redisBackend (options: RedisBackendOptions): ClusterBackend {
  if (options === null || typeof options !== 'object') throw new ERR_OPTION_INVALID('redisBackend', `takes an options object ({ url } or { client }), got ${describeValue(options)}`)
  const { heartbeatMs, ttlMs, url, client, prefix = 'pachinko', redisOptions } = options
  if (url !== undefined && (typeof url !== 'string' || url === '')) throw new ERR_OPTION_INVALID('url', `must be a Redis URL string (redis://host:port), got ${describeValue(url)}`)
  if (client !== undefined && !isIoredisClient(client)) throw new ERR_OPTION_INVALID('client', `must be an ioredis client (new Redis(…)), with duplicate() and defineCommand(); got ${describeValue(client)}`)
  if (url === undefined && client === undefined) throw new ERR_OPTION_INVALID('redisBackend', 'needs { url } or { client }')
  if (url !== undefined && client !== undefined) throw new ERR_OPTION_INVALID('redisBackend', 'takes { url } or { client }, not both')
  if (typeof prefix !== 'string' || prefix === '' || /\s/.test(prefix)) throw new ERR_OPTION_INVALID('prefix', `must be a non-empty string without spaces, got ${describeValue(prefix)}`)
  if (redisOptions !== undefined && (redisOptions === null || typeof redisOptions !== 'object' || Array.isArray(redisOptions))) {
    throw new ERR_OPTION_INVALID('redisOptions', `must be an object of ioredis options, got ${describeValue(redisOptions)}`)
  }
  return new ClusterBackend(new RedisTransport({ url, client, prefix, redisOptions }), 'redis', { heartbeatMs, ttlMs })
}

function isIoredisClient (client: unknown): client is RedisClientLike {
  const candidate = client as Partial<Record<keyof RedisClientLike, unknown>> | null
  return typeof candidate === 'object' && candidate !== null && typeof candidate.duplicate === 'function' && typeof candidate.defineCommand === 'function'
}

/** Loads the optional peer dependency, or says how to install it. */
async function loadIoredis (): Promise<{ Redis: typeof Redis }> {
  try {
    return await import('ioredis')
  } catch (err) {
    throw new ERR_BACKEND_DEPENDENCY_MISSING('redis', 'ioredis', (err as Error).message, 'ioredis', { cause: err })
  }
}

const SCAN_COUNT = 500
const SUBSCRIBE_BATCH = 1000

type ScriptedRedis = Redis & {
  pachinkoHeartbeat: (nodes: string, c: string, r: string, u: string, node: string, ttl: number) => Promise<number>
  pachinkoAlive: (nodes: string, ttl: number) => Promise<string[]>
  pachinkoPublishIf: (c: string, id: string, channel: string, payload: Buffer) => Promise<number>
}

/**
 * The Redis side of the cluster: two connections of its own (publish + store,
 * subscribe) and a handful of keys per node. A client passed in is only the
 * template of both, so nothing is ever added to it (listeners, commands).
 */
class RedisTransport implements ClusterTransport {
  readonly description: string
  // set by connect(); close() may come first (a failed start), hence its ?.
  private pub!: ScriptedRedis
  private sub!: Redis
  private readonly prefix: string
  // set by ClusterBackend before connect(), so before any message or status change
  private messageHandler!: (channel: string, payload: Buffer) => void
  private statusHandler!: (status: 'up' | 'down', error?: Error) => void
  private lastError: Error | undefined
  private usable = false
  readonly history = new RedisHistory(() => this.pub as unknown as HistoryClient, this.options.prefix, (name) => this.channel(name))

  readonly presence: RedisPresence

  constructor (private readonly options: TransportOptions) {
    this.prefix = options.prefix
    this.presence = new RedisPresence(() => this.pub, options.prefix)
    this.description = options.url === undefined ? 'the Redis client passed in' : redact(options.url)
  }

  async connect (): Promise<void> {
    // fail fast while Redis is down (no offline queue); the backend resubscribes itself
    const settings = { ...this.options.redisOptions, lazyConnect: true, enableOfflineQueue: false, autoResubscribe: false, maxRetriesPerRequest: 1 }
    let pub: Redis
    let sub: Redis
    if (this.options.client === undefined) {
      const { Redis } = await loadIoredis()
      pub = new Redis(this.options.url as string, { retryStrategy: (times: number) => Math.min(100 * times, 2000), enableAutoPipelining: true, ...settings })
      sub = pub.duplicate()
    } else {
      pub = this.options.client.duplicate(settings) as Redis
      sub = this.options.client.duplicate(settings) as Redis
    }
    this.pub = pub as ScriptedRedis
    this.sub = sub
    for (const client of [pub, sub]) {
      client.on('error', (err: Error) => { this.lastError = err })
      client.on('close', () => this.changed())
      client.on('ready', () => this.changed())
    }
    pub.defineCommand('pachinkoHeartbeat', { numberOfKeys: 4, lua: HEARTBEAT })
    pub.defineCommand('pachinkoAlive', { numberOfKeys: 1, lua: ALIVE })
    pub.defineCommand('pachinkoPublishIf', { numberOfKeys: 1, lua: PUBLISH_IF_CONNECTION })
    defineHistoryCommands(pub)
    sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      this.messageHandler(channel.toString().slice(this.prefix.length + 4), payload)
    })
    await pub.connect()
    await sub.connect()
    await pub.ping()
    this.usable = true
  }

  async close (): Promise<void> {
    this.usable = false
    this.sub?.disconnect()
    this.pub?.disconnect()
  }

  onMessage (handler: (channel: string, payload: Buffer) => void): void {
    this.messageHandler = handler
  }

  onStatus (handler: (status: 'up' | 'down', error?: Error) => void): void {
    this.statusHandler = handler
  }

  async publish (channel: string, payload: Buffer): Promise<number> {
    return await this.pub.publish(this.channel(channel), payload)
  }

  async publishIfConnection (node: string, id: string, channel: string, payload: Buffer): Promise<number> {
    return await this.pub.pachinkoPublishIf(this.key(node, 'c'), id, this.channel(channel), payload)
  }

  async subscribe (channels: string[]): Promise<void> {
    for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) await this.sub.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH).map((c) => this.channel(c)))
  }

  async unsubscribe (channels: string[]): Promise<void> {
    for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) await this.sub.unsubscribe(...channels.slice(i, i + SUBSCRIBE_BATCH).map((c) => this.channel(c)))
  }

  async updateNode (node: string, update: NodeStateUpdate, ttlMs: number): Promise<void> {
    const batch = this.pub.multi()
    for (const [id, rec] of update.connections) {
      if (rec === null) batch.hdel(this.key(node, 'c'), id)
      else batch.hset(this.key(node, 'c'), id, JSON.stringify(rec))
    }
    for (const [field, count] of update.rooms ?? []) this.setCount(batch, this.key(node, 'r'), field, count)
    for (const [field, count] of update.users ?? []) this.setCount(batch, this.key(node, 'u'), field, count)
    for (const part of ['c', 'r', 'u']) batch.pexpire(this.key(node, part), ttlMs)
    await batch.exec()
  }

  async replaceNode (node: string, state: NodeState, ttlMs: number): Promise<void> {
    const [c, r, u] = ['c', 'r', 'u'].map((part) => this.key(node, part))
    const batch = this.pub.multi().del(c, r, u)
    if (state.connections.length > 0) batch.hset(c, Object.fromEntries(state.connections.map(([id, rec]) => [id, JSON.stringify(rec)])))
    if (state.rooms.length > 0) batch.hset(r, Object.fromEntries(state.rooms))
    if (state.users.length > 0) batch.hset(u, Object.fromEntries(state.users))
    for (const key of [c, r, u]) batch.pexpire(key, ttlMs)
    await batch.exec()
  }

  async heartbeat (node: string, ttlMs: number): Promise<boolean> {
    return await this.pub.pachinkoHeartbeat(this.nodesKey(), this.key(node, 'c'), this.key(node, 'r'), this.key(node, 'u'), node, ttlMs) === 1
  }

  async removeNode (node: string): Promise<void> {
    await this.pub.multi().del(this.key(node, 'c'), this.key(node, 'r'), this.key(node, 'u')).zrem(this.nodesKey(), node).exec()
  }

  async aliveNodes (ttlMs: number): Promise<string[]> {
    return await this.pub.pachinkoAlive(this.nodesKey(), ttlMs)
  }

  async connectionCounts (nodes: string[]): Promise<number[]> {
    return await Promise.all(nodes.map(async (node) => await this.pub.hlen(this.key(node, 'c'))))
  }

  async roomCounts (nodes: string[], room: string): Promise<number[]> {
    return await Promise.all(nodes.map(async (node) => Number(await this.pub.hget(this.key(node, 'r'), room) ?? 0)))
  }

  async userCounts (nodes: string[], user: string): Promise<number[]> {
    return await Promise.all(nodes.map(async (node) => Number(await this.pub.hget(this.key(node, 'u'), user) ?? 0)))
  }

  async connection (node: string, id: string): Promise<ConnectionRecord | undefined> {
    const raw = await this.pub.hget(this.key(node, 'c'), id)
    return raw === null ? undefined : JSON.parse(raw) as ConnectionRecord
  }

  async * rooms (node: string, prefix: string): AsyncIterable<string> {
    for await (const [room] of this.scan(this.key(node, 'r'), escapeGlob(prefix) + '*')) yield room
  }

  async * connections (node: string): AsyncIterable<[string, ConnectionRecord]> {
    for await (const [id, raw] of this.scan(this.key(node, 'c'), '*')) yield [id, JSON.parse(raw) as ConnectionRecord]
  }

  async revoke (key: string, forMs: number): Promise<void> {
    await this.pub.set(this.revocationKey(key), '1', 'PX', forMs)
  }

  async revoked (keys: readonly string[]): Promise<boolean> {
    return keys.length > 0 && await this.pub.exists(...keys.map((key) => this.revocationKey(key))) > 0
  }

  private async * scan (key: string, match: string): AsyncIterable<[string, string]> {
    let cursor = '0'
    do {
      const [next, flat] = await this.pub.hscan(key, cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
      for (let i = 0; i < flat.length; i += 2) yield [flat[i], flat[i + 1]]
      cursor = next
    } while (cursor !== '0')
  }

  private setCount (batch: ReturnType<Redis['multi']>, key: string, field: string, count: number): void {
    if (count > 0) batch.hset(key, field, count)
    else batch.hdel(key, field)
  }

  private changed (): void {
    if (!this.usable) return
    const ready = this.pub.status === 'ready' && this.sub.status === 'ready'
    this.statusHandler(ready ? 'up' : 'down', ready ? undefined : this.lastError)
  }

  private channel (name: string): string {
    return `${this.prefix}:ch:${name}`
  }

  private key (node: string, part: string): string {
    return `${this.prefix}:n:${node}:${part}`
  }

  private revocationKey (key: string): string {
    return `${this.prefix}:rv:${key}`
  }

  private nodesKey (): string {
    return `${this.prefix}:nodes`
  }
}

function redact (url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@')
}

function escapeGlob (text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
