import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createServer, type Server } from 'node:net'
import t, { type Test } from 'tap'
import pachinko, { ClusterBackend, redisBackend, type ClusterTransport } from '../../lib/index.js'
import { createBus } from '../../lib/testing/index.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

/** A TCP port that counts the connections made to it (and drops them): where a bad option must never connect. */
async function tripwire (t: Test): Promise<{ url: string, connections: () => number }> {
  let connections = 0
  const server: Server = createServer((socket) => { connections++; socket.destroy() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as { port: number }
  return { url: `redis://127.0.0.1:${port}`, connections: () => connections }
}

const invalid = (option: string, message: RegExp) => ({ code: 'FST_PACHINKO_OPTION_INVALID', message: new RegExp(`"${option}": .*${message.source}`) })

t.test('refuses a heartbeat that would be a hot loop, naming heartbeatMs and the floor', async (t) => {
  for (const heartbeatMs of [0, 1, 19, -5, 1.5, Number.NaN, Infinity, 2 ** 31, '5000', null, true, 5000n, () => 5000, { ms: 5000 }]) {
    t.throws(() => redisBackend({ url: REDIS_URL, heartbeatMs: heartbeatMs as number }), invalid('heartbeatMs', /integer from 20 to 2147483647/), `heartbeatMs ${String(heartbeatMs)}`)
  }
  t.ok(redisBackend({ url: REDIS_URL, heartbeatMs: 20 }) instanceof ClusterBackend, '20 ms is the floor')
})

t.test('refuses a ttl under two heartbeats, so nodes do not flap', async (t) => {
  t.throws(() => redisBackend({ url: REDIS_URL, heartbeatMs: 1000, ttlMs: 999 }), invalid('ttlMs', /at least 2 × heartbeatMs \(2000 ms\).*got 999/))
  t.throws(() => redisBackend({ url: REDIS_URL, heartbeatMs: 1000, ttlMs: 1999 }), invalid('ttlMs', /2000 ms/))
  t.throws(() => redisBackend({ url: REDIS_URL, ttlMs: 9999 }), invalid('ttlMs', /10000 ms/), 'against the default heartbeat too')
  for (const ttlMs of [Number.NaN, 2 ** 60, '15000', 2500.5]) t.throws(() => redisBackend({ url: REDIS_URL, heartbeatMs: 1000, ttlMs: ttlMs as number }), invalid('ttlMs', /integer/))
  t.ok(redisBackend({ url: REDIS_URL, heartbeatMs: 1000, ttlMs: 2000 }))
})

t.test('checks every clustered backend, the in-process bus and your own transports included', async (t) => {
  const bus = createBus()
  t.throws(() => bus.backend({ heartbeatMs: 0 }), invalid('heartbeatMs', /integer/))
  t.throws(() => bus.backend({ heartbeatMs: 100, ttlMs: 100 }), invalid('ttlMs', /200 ms/))
  t.throws(() => bus.backend(null as never), invalid('ClusterOptions', /must be an object/))
  t.throws(() => new ClusterBackend({} as ClusterTransport, 'mine', { heartbeatMs: 1 }), invalid('heartbeatMs', /got 1$/))
})

t.test('refuses a url, client, prefix or redisOptions of the wrong shape, naming the option', async (t) => {
  t.throws(() => redisBackend({ url: 6379 as never }), invalid('url', /Redis URL string.*got 6379/))
  t.throws(() => redisBackend({ url: '' }), invalid('url', /got ""/))
  t.throws(() => redisBackend({ client: {} as never }), invalid('client', /ioredis client.*got an object/))
  t.throws(() => redisBackend({ client: 'redis://x' as never }), invalid('client', /got "redis:\/\/x"/))
  t.throws(() => redisBackend({ client: { duplicate () {} } as never }), invalid('client', /defineCommand/), 'another library\'s client')
  const client = new Redis(REDIS_URL, { lazyConnect: true })
  t.throws(() => redisBackend({ url: REDIS_URL, client }), invalid('redisBackend', /not both/))
  t.throws(() => redisBackend({}), invalid('redisBackend', /\{ url \} or \{ client \}/))
  for (const options of [undefined, null, 'redis://x', 42]) t.throws(() => redisBackend(options as never), invalid('redisBackend', /options object/))
  for (const prefix of ['', 'two words', 'tab\there', 'new\nline', 7, null]) {
    t.throws(() => redisBackend({ url: REDIS_URL, prefix: prefix as string }), invalid('prefix', /non-empty string without spaces/), `prefix ${JSON.stringify(prefix)}`)
  }
  for (const redisOptions of [null, 'password', [1], 3]) t.throws(() => redisBackend({ url: REDIS_URL, redisOptions: redisOptions as never }), invalid('redisOptions', /object of ioredis options/))
  t.throws(() => redisBackend({ url: REDIS_URL, prefix: 'x '.repeat(10_000) }), { message: /^.{0,200}$/ }, 'a huge value does not make a huge message')
  t.throws(() => redisBackend({ url: REDIS_URL, prefix: Symbol('p') as never }), invalid('prefix', /got a symbol/))
})

t.test('a __proto__ key in the options neither pollutes nor changes the defaults', async (t) => {
  const options = JSON.parse('{ "url": "redis://127.0.0.1:6379", "__proto__": { "heartbeatMs": 0, "prefix": "" } }')
  t.ok(redisBackend(options) instanceof ClusterBackend)
  t.equal(({} as { heartbeatMs?: number }).heartbeatMs, undefined)
})

t.test('a bad option, of the backend or of the plugin, never opens a connection to Redis', async (t) => {
  const redis = await tripwire(t)
  t.throws(() => redisBackend({ url: redis.url, heartbeatMs: 0 }), invalid('heartbeatMs', /integer/))
  const cases = [
    ['resourceFactory', { resourceFactory: 'make' }],
    ['hooks', { hooks: 'all' }],
    ['hooks.beforeFly', { hooks: { beforeFly: [] } }],
    ['authorizeJoin', { authorizeJoin: true }],
    ['maxPayload', { maxPayload: -1 }]
  ] as const
  for (const [option, bad] of cases) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(pachinko, { backend: redisBackend({ url: redis.url }), ...bad } as never) }, invalid(option.replace('.', '\\.'), /./), option)
    await app.close().catch(() => {})
  }
  t.equal(redis.connections(), 0)
})

/** What redisBackend could leave on a client: its listeners per event, its own properties (defineCommand adds some) and its scripts. */
function footprint (client: Redis) {
  return {
    listeners: Object.fromEntries(client.eventNames().map((event) => [String(event), client.listenerCount(event)])),
    properties: Object.keys(client).sort(),
    scripts: Object.keys((client as unknown as { scriptsSet: object }).scriptsSet).sort()
  }
}

t.test('your client comes back as it was: three register/close cycles add no listener, command or script to it', async (t) => {
  if (!await needRedis(t)) return
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  t.equal(await client.ping(), 'PONG')
  const before = footprint(client)
  for (let cycle = 1; cycle <= 3; cycle++) {
    const app = Fastify()
    await app.register(pachinko, { backend: redisBackend({ client, prefix: testPrefix('footprint'), heartbeatMs: 100 }) })
    await app.ready()
    t.same(footprint(client), before, `while registered, cycle ${cycle}`)
    await app.close()
    t.same(footprint(client), before, `after close, cycle ${cycle}`)
  }
  t.notOk('pachinkoHeartbeat' in client, 'no Lua command defined on it')
  t.equal(client.status, 'ready', 'still open')
  t.equal(await client.ping(), 'PONG', 'still usable')
})
