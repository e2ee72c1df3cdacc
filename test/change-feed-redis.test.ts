import 'reflect-metadata'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { changeFeed, redisBackend, type ChangeEvent } from '../lib/index.js'
import { connect, type TestConnection } from '../lib/testing/index.js'
import { build } from './helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'

/** Two nodes (app instances) over real Redis with one key prefix: the same REST scope and feed on each. */
async function twoNodes (t: Test, prefix: string): Promise<Array<Awaited<ReturnType<typeof build>>>> {
  const nodes = []
  for (let i = 0; i < 2; i++) {
    const app = await build(t, { backend: redisBackend({ url: REDIS_URL, prefix }) })
    await app.register(async (api) => {
      await api.register(changeFeed, { filter: (request, event) => request.headers['x-hide'] === event.model ? false : event })
      api.post('/notes', { config: { model: 'note' } }, async (request) => ({ id: 1, node: i, ...(request.body as object) }))
      api.post('/tags', { config: { model: 'tag' } }, async () => ({ id: 't' }))
    }, { prefix: '/api' })
    nodes.push(app)
  }
  return nodes
}

async function subscribe (app: Awaited<ReturnType<typeof build>>, query: Record<string, string | number>, headers = {}): Promise<TestConnection<ChangeEvent>> {
  const client = await connect<ChangeEvent>(app, '/api/ws', { query: { ...query, ack: 1 }, headers })
  await client.expect('subscribed')
  return client
}

t.test('two nodes over Redis: a write on one reaches the subscribers of both, with one PUBLISH per topic', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('change-feed')
  const [a, b] = await twoNodes(t, prefix)
  const notesOnB = await subscribe(b, { topic: 'note' })
  const allOnB = await subscribe(b, {})
  const hidden = await subscribe(b, {}, { 'x-hide': 'note' })
  const allOnA = await subscribe(a, {})

  const monitor = new Redis(REDIS_URL)
  t.teardown(() => monitor.disconnect())
  const publishes: string[] = []
  const watcher = await monitor.monitor()
  t.teardown(() => watcher.disconnect())
  const marker = `${prefix}:done`
  const sawMarker = new Promise<void>((resolve) => {
    watcher.on('monitor', (_time: string, args: string[]) => {
      if (args[0].toLowerCase() === 'publish' && args[1].startsWith(prefix)) publishes.push(args[1])
      if (args[0].toLowerCase() === 'echo' && args[1] === marker) resolve()
    })
  })

  const response = await a.inject({ method: 'POST', url: '/api/notes', payload: { text: 'hi' } })
  t.equal(response.statusCode, 200)
  for (const client of [notesOnB, allOnB, allOnA]) t.same((await client.receive()).payload, { id: 1, node: 0, text: 'hi' })
  await a.inject({ method: 'POST', url: '/api/tags' })
  t.match(await hidden.receive(), { model: 'tag' }, 'the filter ran on the subscriber\'s node: the note was dropped for it')
  t.match(await allOnB.receive(), { model: 'tag' })

  await monitor.echo(marker)
  await sawMarker
  t.equal(publishes.length, 4, 'two events, one PUBLISH each to the model\'s room and to the all room')
  t.equal(new Set(publishes).size, 3, 'note, tag, all')
})
