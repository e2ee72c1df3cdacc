/*
 * The Lua scripts of the Redis transport: each runs atomically on the server,
 * reading Redis's own clock so nodes with skewed clocks agree on who is alive.
 */

/** Marks a node alive now, forgets nodes silent for 10 TTLs, and extends the node's keys; 0 when its state had expired. */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * tonumber(ARGV[2]))
local intact = redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return intact`

/** The nodes whose last heartbeat is within the TTL. */
export const ALIVE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')`

/** Publishes to a node only if it still has the connection; -1 otherwise. */
export const PUBLISH_IF_CONNECTION = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return -1`
