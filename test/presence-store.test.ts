import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { BusPresence } from '../lib/backends/bus-presence.js'
import type { PresenceTransport } from '../lib/backends/presence-store.js'
import { RedisPresence } from '../lib/backends/redis-presence.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

/** The presence records' contract, for every transport that keeps them. */
async function contract (t: Test, store: PresenceTransport, expire: (node: string, topic: string) => Promise<void>) {
  await store.write('n1', 'room', [['r1', '["ada",{}]'], ['r2', '["bob",{}]']], [], 60_000)
  await store.write('n1', 'room', [], ['r2'], 60_000)
  await store.write('n2', 'room', [['r3', '["eve",{}]']], [], 60_000)
  t.same(await store.read(['n1', 'n2', 'n3'], 'room'), [[['r1', '["ada",{}]']], [['r3', '["eve",{}]']], []], 'each node\'s record, in order; none for a node without one')
  await store.replace('n1', 'room', [['r9', '["zed",{}]']], 60_000)
  t.same(await store.read(['n1'], 'room'), [[['r9', '["zed",{}]']]], 'replace drops what was there')
  await store.replace('n2', 'room', [], 60_000)
  t.same(await store.read(['n2'], 'room'), [[]], 'replacing with nothing removes the record')
  await store.write('n2', 'room', [['r4', '["x",{}]']], [], 60_000)
  await store.write('n2', 'room', [], ['r4'], 60_000)
  t.same(await store.read(['n2'], 'room'), [[]], 'removing the last entry removes the record')
  t.equal(await store.refresh('n2', ['room'], 60_000), false)
  t.equal(await store.refresh('n1', ['room'], 60_000), true)
  t.equal(await store.refresh('n1', ['room', 'nowhere'], 60_000), false, 'a record that is gone is reported')
  await expire('n1', 'room')
  t.same(await store.read(['n1'], 'room'), [[]], 'an expired record reads as empty')
  t.equal(await store.refresh('n1', ['room'], 60_000), false)
}

t.test('the bus keeps presence records like Redis, and fails while down', async (t) => {
  let down = false
  const store = new BusPresence(() => { if (down) throw new Error('bus outage') })
  await contract(t, store, async (node, topic) => {
    await store.write(node, topic, [], [], 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
  })
  down = true
  await t.rejects(store.read(['n1'], 'room'), /bus outage/)
  await t.rejects(store.write('n1', 'room', [], [], 1), /bus outage/)
  await t.rejects(store.replace('n1', 'room', [], 1), /bus outage/)
  await t.rejects(store.refresh('n1', [], 1), /bus outage/)
})

t.test('Redis keeps presence records in hashes that expire', async (t) => {
  if (!await needRedis(t)) return
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  const prefix = testPrefix('presence-store')
  const store = new RedisPresence(() => client, prefix)
  await client.hset(`${prefix}:p:n5:room`, 'r', 'x')
  await contract(t, store, async (node, topic) => {
    await client.pexpire(`${prefix}:p:${node}:${topic}`, 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
  })
  await store.write('n4', 'room', [['r', '[]']], [], 60_000)
  t.ok(await client.pttl(`${prefix}:p:n4:room`) > 0, 'a written record expires')
  await client.del(`${prefix}:p:n4:room`, `${prefix}:p:n5:room`)
})
