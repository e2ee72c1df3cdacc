import { ERR_BACKEND_UNAVAILABLE } from '../errors.js'
import type { FrameHead, HistoryEntry, HistoryLimits, HistoryRead, HistoryStore, Relay, StreamPosition } from '../history/history-store.js'
import { newEpoch } from '../history/memory-history.js'
import { stamp } from '../history/stamp.js'

/*
 * Room history in Redis, shared by every node: a stream per room (`XADD …
 * MAXLEN ~ size`, entry id = offset) and a small hash with the epoch and the
 * last offset. Each append is one script that numbers the entry, stamps the
 * frame, keeps it and PUBLISHes it, so no node sees a broadcast that is not
 * in the history or the other way round; a recovery is one script that
 * reads it back with XRANGE. Both use Redis's clock, never a node's.
 */

// KEYS: stream, meta. ARGV: head, separator, size, ttlMs, a fresh epoch, channel ('' for none), envelope header
const APPEND = `
local meta = redis.call('HMGET', KEYS[2], 'e', 'o')
local epoch = meta[1]
local offset = tonumber(meta[2]) or 0
if not epoch or (offset > 0 and redis.call('EXISTS', KEYS[1]) == 0) then
  epoch = ARGV[5]
  offset = 0
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch)
end
offset = offset + 1
redis.call('HSET', KEYS[2], 'o', offset)
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local frame = ARGV[1] .. ARGV[2] .. '"offset":' .. offset .. ',"epoch":"' .. epoch .. '"}'
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], offset .. '-0', 't', now, 'f', frame)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7] .. ',"o":' .. offset .. '}\\n' .. frame) end
return {offset, epoch}`

// KEYS: stream, meta. ARGV: since offset ('' for none), since epoch, size, ttlMs, a fresh epoch, marker channel ('' for none), marker header
const READ = `
if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7] .. '}\\n') end
local meta = redis.call('HMGET', KEYS[2], 'e', 'o')
local epoch = meta[1]
local last = tonumber(meta[2]) or 0
if not epoch or (last > 0 and redis.call('EXISTS', KEYS[1]) == 0) then
  epoch = ARGV[5]
  last = 0
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 'o', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
if ARGV[1] == '' or ARGV[2] ~= epoch then return {0, epoch, last} end
local since = tonumber(ARGV[1])
if since > last or last - since > tonumber(ARGV[3]) then return {0, epoch, last} end
if since == last then return {1, epoch, last} end
local entries = redis.call('XRANGE', KEYS[1], (since + 1) .. '-0', last .. '-0')
if #entries ~= last - since then return {0, epoch, last} end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if now - tonumber(entries[1][2][2]) > tonumber(ARGV[4]) then return {0, epoch, last} end
local out = {1, epoch, last}
for i = 1, #entries do out[i + 3] = entries[i][2][4] end
return out`

/** The part of an ioredis client this store uses, once its commands are defined. */
export interface HistoryClient {
  defineCommand (name: string, definition: { lua: string, numberOfKeys: number }): void
  pachinkoHistoryAppend (stream: string, meta: string, head: string, separator: string, size: number, ttlMs: number, epoch: string, channel: string, header: string): Promise<[number, string]>
  pachinkoHistoryRead (stream: string, meta: string, offset: string, epoch: string, size: number, ttlMs: number, fresh: string, channel: string, header: string): Promise<[number, string, number, ...string[]]>
}

/** Adds the store's scripts to a client. */
export function defineHistoryCommands (client: Pick<HistoryClient, 'defineCommand'>): void {
  client.defineCommand('pachinkoHistoryAppend', { numberOfKeys: 2, lua: APPEND })
  client.defineCommand('pachinkoHistoryRead', { numberOfKeys: 2, lua: READ })
}

/** The Redis history store of a transport: its client (once connected), key prefix and channel names. */
export class RedisHistory implements HistoryStore {
  constructor (
    private readonly client: () => HistoryClient,
    private readonly prefix: string,
    private readonly channel: (name: string) => string
  ) {}

  async append (stream: string, frame: FrameHead, limits: HistoryLimits, relay?: Relay): Promise<{ position: StreamPosition, frame: Buffer }> {
    const channel = relay === undefined ? '' : this.channel(relay.channel)
    const [offset, epoch] = await this.run(this.client().pachinkoHistoryAppend(
      this.key('hs', stream), this.key('hm', stream), frame.head, frame.separator, limits.size, limits.ttlMs, newEpoch(), channel, relay?.header ?? ''))
    const position = { offset, epoch }
    return { position, frame: stamp(frame, position) }
  }

  async read (stream: string, since: StreamPosition | null, limits: HistoryLimits, marker?: Relay): Promise<HistoryRead> {
    const channel = marker === undefined ? '' : this.channel(marker.channel)
    const [recovered, epoch, offset, ...frames] = await this.run(this.client().pachinkoHistoryRead(
      this.key('hs', stream), this.key('hm', stream), since === null ? '' : String(since.offset), since?.epoch ?? '', limits.size, limits.ttlMs, newEpoch(), channel, marker?.header ?? ''))
    const position = { offset, epoch }
    if (recovered !== 1) return { recovered: false, position }
    const first = (since as StreamPosition).offset + 1
    const entries: HistoryEntry[] = frames.map((frame, i) => ({ offset: first + i, frame: Buffer.from(frame) }))
    return { recovered: true, position, entries }
  }

  private key (kind: string, stream: string): string {
    return `${this.prefix}:${kind}:${stream}`
  }

  private async run<T> (command: Promise<T>): Promise<T> {
    try {
      return await command
    } catch (err) {
      throw new ERR_BACKEND_UNAVAILABLE('redis', (err as Error).message, { cause: err })
    }
  }
}
