import 'reflect-metadata'
import t from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

t.test('closes connections in batches when asked, each with 1001, running every onDisconnect', async (t) => {
  const closedAt: number[] = []
  class Tracked extends WebSocketResource {
    override onDisconnect (code: number) { if (code === 1001) closedAt.push(Date.now()) }
  }
  const app = await build(t, { closeBatch: { size: 2, intervalMs: 50 } })
  app.addWebSocketRoute('/t', Tracked)
  const clients = []
  for (let i = 0; i < 6; i++) clients.push(await connect(app, '/t'))
  await app.close()
  for (const client of clients) t.equal((await client.closed).code, 1001)
  t.equal(closedAt.length, 6)
  // three batches are two intervals (100 ms) apart; all at once would be a few ms. The margin is a whole
  // interval because each onDisconnect runs some time after its batch's timer on a loaded machine
  const spread = closedAt[5] - closedAt[0]
  t.ok(spread >= 50, `batches were spaced out (${spread} ms from first to last)`)
})

t.test('refuses a bad closeBatch', async (t) => {
  const Fastify = (await import('fastify')).default
  const pachinko = (await import('../lib/index.js')).default
  for (const closeBatch of [{ size: 0, intervalMs: 1 }, { intervalMs: 1 }, { size: 1 }]) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(pachinko, { closeBatch } as never) }, { code: 'FST_PACHINKO_OPTION_INVALID', message: /closeBatch/ })
  }
})
