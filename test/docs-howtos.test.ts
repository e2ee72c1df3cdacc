import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import type { Backend } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { backendSuite } from './backends/suite.js'
import { build } from './helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'
import { importMarkedBlock } from './helpers/runnable-snippets.js'

/*
 * The how-tos' modules, run as printed: each block marked `<!-- tested: … -->`
 * is imported and driven through the public API.
 */

const repo = fileURLToPath(new URL('..', import.meta.url))

interface WithAuditLog { resolve (name: 'auditLog'): { lines: string[] } }

for (const name of ['di-awilix', 'di-tsyringe']) {
  t.test(`docs/how-to/di-containers.md: ${name}`, async (t) => {
    type Built = { app: FastifyInstance, container: unknown }
    const { buildApp, AuditLog } = await importMarkedBlock<{ buildApp: () => Promise<Built>, AuditLog?: new () => unknown }>(t, repo, 'docs/how-to/di-containers.md', name)
    const { app, container } = await buildApp()
    t.after(() => app.close())
    await app.ready()
    // awilix resolves by name, tsyringe by class
    const log = (AuditLog === undefined
      ? (container as WithAuditLog).resolve('auditLog')
      : (container as { resolve (token: unknown): { lines: string[] } }).resolve(AuditLog))

    const ann = await connect(app, '/ws/greet')
    const bob = await connect(app, '/ws/greet')
    ann.send({ type: 'greet', payload: { name: 'ann' } })
    t.equal((await ann.expect('greeting')).payload, 'hello, ann', 'the singleton service answers')
    bob.send({ type: 'greet', payload: { name: '' } })
    t.equal((await bob.expect('error')).error.code, 'VALIDATION', 'the schema still applies')
    await ann.close(1000)
    await bob.close(1000)
    // a connection leaves the registry after its disconnect hooks ran
    t.equal(await app.ws.whenEmpty(5000), true)
    const ids = log.lines.filter((line) => line.startsWith('open ')).map((line) => line.slice(5))
    t.equal(new Set(ids).size, 2, 'one per-connection service for each connection')
    t.same(log.lines.filter((line) => line.startsWith('closed ')).sort(), ids.map((id) => `closed ${id}`).sort(), 'each disposed when its connection ended')
  })
}

t.test('docs/how-to/external-state.md: a Redis hash per connection behind this.state', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('docs-external-state')
  const { buildApp } = await importMarkedBlock<{ buildApp: (options: { redisUrl: string, prefix: string }) => Promise<FastifyInstance> }>(t, repo, 'docs/how-to/external-state.md', 'external-state')
  const app = await buildApp({ redisUrl: REDIS_URL, prefix })
  t.after(() => app.close())
  await app.ready()
  const redis = new Redis(REDIS_URL)
  t.after(() => redis.quit())

  const ann = await connect(app, '/ws/cart')
  ann.send({ type: 'addItem', payload: { sku: 'tea', quantity: 2 } })
  ann.send({ type: 'addItem', payload: { sku: 'tea', quantity: 3 } })
  ann.send({ type: 'addItem', payload: { sku: 'cup', quantity: 1 } })
  t.equal((await ann.expect<{ payload: { quantity: number } }>('itemAdded')).payload.quantity, 2)
  t.equal((await ann.expect<{ payload: { quantity: number } }>('itemAdded')).payload.quantity, 5, 'one connection\'s writes apply in order')
  await ann.expect('itemAdded')
  ann.send({ type: 'showCart' })
  t.same((await ann.expect('cart')).payload, { items: [{ sku: 'tea', quantity: 5 }, { sku: 'cup', quantity: 1 }] })

  const [connection] = app.ws.local()
  const key = `${prefix}:cart:${connection.id}`
  t.same(await redis.hget(key, 'sku:tea'), '5', 'the state lives in Redis')
  t.ok(await redis.ttl(key) > 0, 'with a TTL')
  await ann.close(1000)
  t.equal(await app.ws.whenEmpty(5000), true)
  t.equal(await redis.exists(key), 0, 'removed when the connection ended')
})

// the custom backend of the how-to, through the contract suite every backend passes
const { SetBackend } = await importMarkedBlock<{ SetBackend: new () => Backend }>(t, repo, 'docs/how-to/custom-backend.md', 'custom-backend')
backendSuite(t, 'docs/how-to/custom-backend.md', async (t) => [await build(t, { backend: new SetBackend() })], 1)
