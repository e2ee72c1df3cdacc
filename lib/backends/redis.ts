import type { Redis, RedisOptions } from 'ioredis'
import { ERR_OPTION_INVALID } from '../errors.js'
import { ClusterBackend, type ClusterOptions } from './cluster.js'
import type { ClusterTransport, ConnectionRecord, NodeState, NodeStateUpdate } from './cluster-transport.js'

/** Options of `redisBackend()`. */
export interface RedisBackendOptions extends ClusterOptions {
  /** Where to connect (`redis://…`); the backend creates, owns and quits its clients. */
  url?: string
  /** A client of yours to publish with; the backend duplicates it to subscribe, and quits only the duplicate. */
  client?: Redis
  /**
   * Prefix of every key and channel, so apps (or tests) can share one Redis.
   * @default 'pachinko'
   */
  prefix?: string
  /** Extra ioredis options for clients the backend creates from `url`. */
  redisOptions?: RedisOptions
}

/**
 * The Redis backend: rooms and fan-out across processes and machines over
 * Redis pub/sub (ioredis), cluster-wide membership kept in Redis with heartbeats.
 * @example await app.register(pachinko, { backend: redisBackend({ url: process.env.REDIS_URL }) })
 */
export function redisBackend (options: RedisBackendOptions): ClusterBackend {
  if (options?.client === undefined && typeof options?.url !== 'string') throw new ERR_OPTION_INVALID('redisBackend', 'needs { url } or { client }')
  const { heartbeatMs, ttlMs, ...transport } = options
  return new ClusterBackend(new RedisTransport(transport), 'redis', { heartbeatMs, ttlMs })
}

const HEARTBEAT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * tonumber(ARGV[2]))
local intact = redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return intact`
const ALIVE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')`
const PUBLISH_IF_CONNECTION = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return -1`

const SCAN_COUNT = 500
const SUBSCRIBE_BATCH = 1000

type ScriptedRedis = Redis & {
  pachinkoHeartbeat: (nodes: string, c: string, r: string, u: string, node: string, ttl: number) => Promise<number>
  pachinkoAlive: (nodes: string, ttl: number) => Promise<string[]>
  pachinkoPublishIf: (c: string, id: string, channel: string, payload: Buffer) => Promise<number>
}

/** The Redis side of the cluster: two connections (publish + store, subscribe) and a handful of keys per node. */
class RedisTransport implements ClusterTransport {
  readonly description: string
  private pub!: ScriptedRedis
  private sub!: Redis
  private readonly ownsPublisher: boolean
  private readonly prefix: string
  // set by ClusterBackend before connect(), so before any message or status change
  private messageHandler!: (channel: string, payload: Buffer) => void
  private statusHandler!: (status: 'up' | 'down', error?: Error) => void
  private lastError: Error | undefined
  private usable = false

  constructor (private readonly options: Omit<RedisBackendOptions, 'heartbeatMs' | 'ttlMs'>) {
    this.prefix = options.prefix ?? 'pachinko'
    this.ownsPublisher = options.client === undefined
    this.description = options.client !== undefined ? 'the Redis client passed in' : redact(options.url as string)
  }

  async connect (): Promise<void> {
    const overrides: RedisOptions = { lazyConnect: true, enableOfflineQueue: false, autoResubscribe: false, maxRetriesPerRequest: 1 }
    if (this.options.client === undefined) {
      const { Redis } = await import('ioredis')
      const retry = { retryStrategy: (times: number) => Math.min(100 * times, 2000), enableAutoPipelining: true, ...this.options.redisOptions, ...overrides }
      this.pub = new Redis(this.options.url as string, retry) as ScriptedRedis
    } else {
      this.pub = this.options.client as ScriptedRedis
    }
    this.sub = this.pub.duplicate(overrides)
    for (const client of [this.pub, this.sub]) {
      client.on('error', (err: Error) => { this.lastError = err })
      client.on('close', () => this.changed())
      client.on('ready', () => this.changed())
    }
    this.pub.defineCommand('pachinkoHeartbeat', { numberOfKeys: 4, lua: HEARTBEAT })
    this.pub.defineCommand('pachinkoAlive', { numberOfKeys: 1, lua: ALIVE })
    this.pub.defineCommand('pachinkoPublishIf', { numberOfKeys: 1, lua: PUBLISH_IF_CONNECTION })
    this.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      this.messageHandler(channel.toString().slice(this.prefix.length + 4), payload)
    })
    if (this.pub.status === 'wait') await this.pub.connect()
    await this.sub.connect()
    await this.pub.ping()
    this.usable = true
  }

  async close (): Promise<void> {
    this.usable = false
    this.sub?.disconnect()
    if (this.ownsPublisher) this.pub?.disconnect()
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
