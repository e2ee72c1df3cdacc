import 'reflect-metadata'
import type { FastifyInstance } from 'fastify'
import { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import { changeFeed, MemoryBackend, type ChangeEvent, type ChangeFeedOptions, type PachinkoOptions, type Target } from '../lib/index.js'
import { connect, UpgradeRefusedError, type TestConnection } from '../lib/testing/index.js'
import { build, type LogLine } from './helpers/build.js'

type App = FastifyInstance & { logs: LogLine[] }

/** An app with a REST scope under /api: authors (param id), books (id from the body), a feed at /api/ws. */
async function api (t: Test, feed: ChangeFeedOptions = {}, plugin: PachinkoOptions = {}): Promise<App> {
  const app = await build(t, plugin)
  await app.register(async (scope) => {
    await scope.register(changeFeed, feed)
    let next = 1
    scope.post('/authors', { config: { model: 'Author' } }, async (request, reply) => await reply.code(201).send({ id: next++, ...(request.body as object) }))
    scope.put('/authors/:id', { config: { model: 'author' } }, async (request) => ({ id: Number((request.params as { id: string }).id), ...(request.body as object) }))
    scope.patch('/authors/:id', { config: { model: 'author' } }, async (request) => ({ patched: true, ...(request.body as object) }))
    scope.delete('/authors/:id', { config: { model: 'author' } }, async (_request, reply) => await reply.code(204).send())
    scope.get('/authors', { config: { model: 'author' } }, async () => [{ id: 1 }])
    scope.post('/authors/fail', { config: { model: 'author' } }, async (_request, reply) => await reply.code(422).send({ message: 'no' }))
    scope.post('/authors/crash', { config: { model: 'author' } }, async () => { throw new Error('boom') })
    scope.post('/books', { config: { model: 'book' } }, async (request) => ({ id: 'b-1', ...(request.body as object) }))
    scope.post('/books/bulk', { config: { model: 'book' } }, async (request) => request.body)
    scope.post('/untracked', async () => ({ id: 1 }))
    scope.route({ method: ['POST', 'PUT'], url: '/pens', config: { model: 'pen' }, onSend: async (_request, _reply, payload) => payload, onResponse: [async () => {}], handler: async () => ({ id: 'p' }) })
  }, { prefix: '/api' })
  return app as App
}

async function subscribe (app: App, query = '', headers: Record<string, string> = {}): Promise<TestConnection<ChangeEvent>> {
  const client = await connect<ChangeEvent>(app, `/api/ws?ack=1${query}`, { headers })
  await client.expect('subscribed')
  return client
}

const json = (payload: unknown): { payload: string, headers: { 'content-type': string } } => ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } })

t.test('each write method publishes { ts, model, method, id, many, payload } after a 2xx; reads, 4xx and 5xx publish nothing', async (t) => {
  const app = await api(t)
  const client = await subscribe(app)
  const before = Date.now()
  const created = await app.inject({ method: 'POST', url: '/api/authors', ...json({ name: 'Ada' }) })
  t.equal(created.statusCode, 201)
  const event = await client.receive()
  t.same(Object.keys(event), ['ts', 'model', 'method', 'id', 'many', 'payload'])
  t.ok(event.ts >= before && event.ts <= Date.now())
  t.same({ ...event, ts: 0 }, { ts: 0, model: 'author', method: 'POST', id: 1, many: false, payload: { id: 1, name: 'Ada' } })

  await app.inject({ method: 'GET', url: '/api/authors' })
  await app.inject({ method: 'POST', url: '/api/authors/fail', ...json({}) })
  t.equal((await app.inject({ method: 'POST', url: '/api/authors/crash', ...json({}) })).statusCode, 500)
  await app.inject({ method: 'POST', url: '/api/untracked', ...json({}) })
  await app.inject({ method: 'PUT', url: '/api/authors/7', ...json({ name: 'Grace' }) })
  t.match(await client.receive(), { method: 'PUT', id: '7', payload: { id: 7, name: 'Grace' } }, 'the GET, the 422, the 500 and the untracked route sent nothing')
  await app.inject({ method: 'PATCH', url: '/api/authors/7', ...json({ name: 'G' }) })
  t.match(await client.receive(), { method: 'PATCH', id: '7', payload: { patched: true, name: 'G' } })
  const removed = await app.inject({ method: 'DELETE', url: '/api/authors/7' })
  t.equal(removed.statusCode, 204)
  t.same({ ...await client.receive(), ts: 0 }, { ts: 0, model: 'author', method: 'DELETE', id: '7', many: false, payload: null })
  t.equal(client.trace.filter((entry) => entry.direction === 'in').length, 5, 'the ack and four events')
})

t.test('payload is the body the client received: after a response schema stripped fields and after onSend hooks', async (t) => {
  const app = await build(t)
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, _reply, payload) => typeof payload === 'string' ? payload.replace('"secret"', '"redacted"') : payload)
    await scope.register(changeFeed)
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-late', '1')
      return typeof payload === 'string' ? payload.replace('}', ',"late":true}') : payload
    })
    scope.post('/users', {
      config: { model: 'user' },
      schema: { response: { 200: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, note: { type: 'string' } } } } }
    }, async () => ({ id: 3, name: 'Ann', password: 'hunter2', note: 'secret' }))
  }, { prefix: '/api' })
  const client = await subscribe(app as App)
  const response = await app.inject({ method: 'POST', url: '/api/users', ...json({}) })
  const received = response.json()
  t.same(received, { id: 3, name: 'Ann', note: 'redacted', late: true })
  t.same((await client.receive()).payload, received)
})

t.test('id: config.id as a parameter name or a function, else params.id, else payload.id, else null; many for lists', async (t) => {
  const app = await build(t)
  await app.register(async (scope) => {
    await scope.register(changeFeed)
    scope.put('/shelves/:shelf', { config: { model: 'shelf', id: 'shelf' } }, async () => ({ id: 'ignored' }))
    scope.post('/tags', { config: { model: 'tag', id: (_request, payload) => `tag-${(payload as { slug: string }).slug}` } }, async () => ({ slug: 'x' }))
    scope.post('/odd', { config: { model: 'odd', id: () => ({ not: 'a key' }) as never } }, async () => ({}))
    scope.post('/broken', { config: { model: 'broken', id: () => { throw new Error('bug in id') } } }, async () => ({ id: 9 }))
    scope.post('/plain', { config: { model: 'plain' } }, async () => ({ name: 'no id' }))
    scope.post('/list', { config: { model: 'plain' } }, async () => [{ id: 1 }, { id: 2 }])
    scope.post('/nan', { config: { model: 'plain' } }, async () => ({ id: true }))
  }, { prefix: '/api' })
  const client = await subscribe(app as App)
  const expectId = async (url: string, method: 'POST' | 'PUT', id: unknown, many = false): Promise<void> => {
    await app.inject({ method, url, ...json({}) })
    t.match(await client.receive(), { id, many }, url)
  }
  await expectId('/api/shelves/s1', 'PUT', 's1')
  await expectId('/api/tags', 'POST', 'tag-x')
  await expectId('/api/odd', 'POST', null)
  await expectId('/api/broken', 'POST', null)
  t.ok((app as App).logs.some((line) => line.level === 50 && line.msg.includes('config.id function threw')), 'a throwing id function is a server bug: logged at error')
  await expectId('/api/plain', 'POST', null)
  await expectId('/api/list', 'POST', null, true)
  await expectId('/api/nan', 'POST', null)
})

t.test('bodies that are not JSON: text as text, streams and binary as null, JSON that does not parse as its text', async (t) => {
  const app = await build(t)
  await app.register(async (scope) => {
    await scope.register(changeFeed)
    scope.post('/text', { config: { model: 'doc' } }, async (_request, reply) => await reply.type('text/plain').send('hello'))
    scope.post('/buffer-text', { config: { model: 'doc' } }, async (_request, reply) => await reply.type('text/csv').send(Buffer.from('a,b')))
    scope.post('/binary', { config: { model: 'doc' } }, async (_request, reply) => await reply.type('application/octet-stream').send(Buffer.from([1, 2, 3])))
    scope.post('/stream', { config: { model: 'doc' } }, async (_request, reply) => await reply.type('application/json').send(Readable.from(['{"id":1}'])))
    scope.post('/bad-json', { config: { model: 'doc' } }, async (_request, reply) => await reply.type('application/json').send('{nope'))
  }, { prefix: '/api' })
  const client = await subscribe(app as App)
  for (const [url, payload] of [['/text', 'hello'], ['/buffer-text', 'a,b'], ['/binary', null], ['/stream', null], ['/bad-json', '{nope']] as const) {
    t.equal((await app.inject({ method: 'POST', url: `/api${url}` })).statusCode, 200)
    t.same((await client.receive()).payload, payload, url)
  }
})

t.test('topics: one model, several (repeated or comma-separated), all, and all with others gets each event once', async (t) => {
  const app = await api(t)
  const authors = await subscribe(app, '&topic=author')
  const both = await subscribe(app, '&topic=Author&topic=book')
  const commas = await subscribe(app, '&topic=author,book')
  const all = await subscribe(app)
  const allAndAuthor = await subscribe(app, '&topic=author&topic=all')
  const books = await subscribe(app, '&topic=book')
  await app.inject({ method: 'POST', url: '/api/books', ...json({ title: 'T' }) })
  await app.inject({ method: 'POST', url: '/api/authors', ...json({ name: 'A' }) })
  t.match(await authors.receive(), { model: 'author' }, 'the book event did not reach the author subscriber')
  for (const client of [both, commas, all, allAndAuthor]) {
    t.match(await client.receive(), { model: 'book', id: 'b-1' })
    t.match(await client.receive(), { model: 'author' })
  }
  await app.inject({ method: 'POST', url: '/api/books', ...json({ title: 'U' }) })
  t.match(await allAndAuthor.receive(), { model: 'book', payload: { title: 'U' } }, 'no duplicate of the author event came first')
  await app.inject({ method: 'PUT', url: '/api/pens' })
  t.match(await allAndAuthor.receive(), { model: 'pen', method: 'PUT', id: 'p' }, 'a route with several methods and hooks of its own')
  t.match(await books.receive(), { payload: { title: 'T' } })
  t.match(await books.receive(), { payload: { title: 'U' } })
  t.match(await all.receive(), { payload: { title: 'U' } })
  t.match(await all.receive(), { model: 'pen' })
  t.equal(all.trace.length, 5, 'the ack and four events, nothing twice')
})

t.test('lists: a body that is an array is many, with id null', async (t) => {
  const app = await api(t)
  const client = await subscribe(app, '&topic=book')
  await app.inject({ method: 'POST', url: '/api/books/bulk', ...json([{ id: 1 }, { id: 2 }]) })
  t.match(await client.receive(), { many: true, id: null, payload: [{ id: 1 }, { id: 2 }] })
})

t.test('the scope\'s onRequest hook guards the upgrade: an unauthenticated subscriber gets HTTP 401 and no socket', async (t) => {
  const app = await build(t)
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer ok') return await reply.code(401).send({ error: 'Unauthorized' })
    })
    await scope.register(changeFeed)
    scope.post('/notes', { config: { model: 'note' } }, async () => ({ id: 1 }))
  }, { prefix: '/api' })
  await t.rejects(connect(app, '/api/ws'), new UpgradeRefusedError(401))
  t.equal(app.ws.size, 0)
  const client = await subscribe(app as App, '', { authorization: 'Bearer ok' })
  await app.inject({ method: 'POST', url: '/api/notes', headers: { authorization: 'Bearer ok' } })
  t.match(await client.receive(), { model: 'note', id: 1 })
})

t.test('authorizeTopic decides each topic before the upgrade: a refused one is HTTP 403; only true admits', async (t) => {
  const asked: string[] = []
  const app = await api(t, {
    authorizeTopic: async (request, topic) => {
      asked.push(topic)
      return request.headers['x-role'] === 'admin' || topic === 'book' ? true : (undefined as never)
    }
  })
  await t.rejects(connect(app, '/api/ws?topic=author'), new UpgradeRefusedError(403))
  await t.rejects(connect(app, '/api/ws'), new UpgradeRefusedError(403), 'no topic is the all topic, authorized as "all"')
  await t.rejects(connect(app, '/api/ws?topic=book,author'), new UpgradeRefusedError(403))
  t.same(asked, ['author', 'all', 'book', 'author'])
  const books = await subscribe(app, '&topic=book')
  const admin = await subscribe(app, '', { 'x-role': 'admin' })
  await app.inject({ method: 'POST', url: '/api/books', ...json({}) })
  t.match(await books.receive(), { model: 'book' })
  t.match(await admin.receive(), { model: 'book' })
  t.ok(app.logs.some((line) => line.level === 30 && line.msg.includes('refused by authorizeTopic')), 'logged at info: the client\'s doing')
})

t.test('hostile subscriber input: bad topic names, __proto__, too many topics, a huge query string get HTTP 400 and log below error', async (t) => {
  const app = await api(t)
  const many = Array.from({ length: 33 }, (_, i) => `m${i}`).join(',')
  const huge = 'topic=' + 'a,'.repeat(50_000) + '__proto__'
  for (const query of ['topic=__proto__', 'topic=constructor.prototype,', 'topic=', 'topic=../etc', 'topic=a%00b', `topic=${'x'.repeat(65)}`, `topic=${many}`, 'topic=ok&topic=%E2%80%AE', huge]) {
    await t.rejects(connect(app, `/api/ws?${query}`), new UpgradeRefusedError(400), query.slice(0, 40))
  }
  const response = await app.inject({ method: 'GET', url: '/api/ws?topic=__proto__', headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
  t.equal(response.statusCode, 400)
  t.match(response.json(), { statusCode: 400, message: /topic "__proto__" is not a model name/ })
  t.same(Object.getPrototypeOf({}), Object.prototype)
  t.equal(app.ws.size, 0)
  t.notOk(app.logs.some((line) => line.level >= 50), 'nothing at error level')
  const fine = await subscribe(app, '&topic=author&unrelated=__proto__')
  await app.inject({ method: 'POST', url: '/api/authors', ...json({ __proto__: { polluted: true }, name: 'x' }) })
  t.match(await fine.receive(), { model: 'author' })
  t.equal(({} as { polluted?: boolean }).polluted, undefined)
})

t.test('client frames are ignored (logged at debug): text, JSON, binary; the subscriber keeps its events and gets no error frame', async (t) => {
  const app = await api(t)
  const client = await subscribe(app, '&topic=author')
  client.sendRaw('not json')
  client.send({ type: 'subscribe', topic: 'book' })
  client.send({ __proto__: { x: 1 } })
  client.sendRaw(Buffer.from([0, 1, 2]))
  await app.inject({ method: 'POST', url: '/api/authors', ...json({}) })
  t.match(await client.receive(), { model: 'author' }, 'the next frame is the event, not an error frame')
  await app.inject({ method: 'POST', url: '/api/books', ...json({}) })
  await app.inject({ method: 'POST', url: '/api/authors', ...json({ n: 2 }) })
  t.match(await client.receive(), { model: 'author', payload: { n: 2 } }, 'its "subscribe" frame changed nothing')
  t.ok(app.logs.filter((line) => line.msg.includes('ignored a frame')).every((line) => line.level === 20))
  t.notOk(app.logs.some((line) => line.level >= 40))
})

class FailingBackend extends MemoryBackend {
  failing = true
  override async publish (target: Target, frame: Buffer, options: object): Promise<void> {
    if (this.failing && target.kind === 'room' && target.room.startsWith('\u0000changes:')) throw new Error('backend down')
    await super.publish(target, frame, options)
  }
}

t.test('a backend failure during a write leaves the response 2xx and is logged once, at warn', async (t) => {
  const backend = new FailingBackend()
  const app = await api(t, {}, { backend })
  const client = await subscribe(app)
  const response = await app.inject({ method: 'POST', url: '/api/authors', ...json({ name: 'Ada' }) })
  t.equal(response.statusCode, 201)
  t.same(response.json(), { id: 1, name: 'Ada' })
  backend.failing = false
  await app.inject({ method: 'POST', url: '/api/authors', ...json({ name: 'Bob' }) })
  t.match(await client.receive(), { payload: { name: 'Bob' } })
  const failures = app.logs.filter((line) => line.msg.includes('publishing the event failed'))
  t.equal(failures.length, 1, 'one line for the event, not one per topic or subscriber')
  t.equal(failures[0].level, 40)
  t.match(failures[0], { model: 'author', method: 'POST', id: 1, err: { message: /2 recipients failed|backend down/ } })
})

t.test('a subscription the backend cannot record closes with 1013 (try again later), logged at warn', async (t) => {
  const backend = new (class extends MemoryBackend {
    override async join (): Promise<void> { throw new Error('backend down') }
  })()
  const app = await api(t, {}, { backend })
  const client = await connect(app, '/api/ws?ack=1')
  t.match(await client.closed, { code: 1013, reason: /try again later/ })
  t.equal(client.trace.length, 0, 'no ack')
  t.match(app.logs.filter((line) => line.msg.includes('subscribing failed')), [{ level: 40, err: { message: 'backend down' } }])
  t.notOk(app.logs.some((line) => line.level >= 50))
})

t.test('a publish that never settles does not hold the response', async (t) => {
  const backend = new (class extends MemoryBackend {
    override async publish (): Promise<void> { await new Promise(() => {}) }
  })()
  const app = await api(t, {}, { backend })
  const response = await app.inject({ method: 'POST', url: '/api/authors', ...json({}) })
  t.equal(response.statusCode, 201)
})
