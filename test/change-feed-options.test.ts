import 'reflect-metadata'
import t, { type Test } from 'tap'
import { changeFeed, errors, type ChangeEvent, type ChangeFeedOptions } from '../lib/index.js'
import { addChangeMirror } from '../lib/change-feed/publish.js'
import { connect, type TestConnection } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

type Tenanted = ChangeEvent<{ tenant: string, secret?: string, name?: string }>

async function tenantApp (t: Test, filter: ChangeFeedOptions['filter']): Promise<Awaited<ReturnType<typeof build>>> {
  const app = await build(t, { authorizeJoin: () => false })
  await app.register(async (scope) => {
    await scope.register(changeFeed, { filter, path: '/changes' })
    scope.post('/orders/:tenant', { config: { model: 'order' } }, async (request) => ({ tenant: (request.params as { tenant: string }).tenant, secret: 's3', name: 'o' }))
  })
  return app
}

async function subscribeAs (app: Awaited<ReturnType<typeof build>>, tenant: string): Promise<TestConnection<Tenanted>> {
  const client = await connect<Tenanted>(app, '/changes', { query: { ack: 1 }, headers: { 'x-tenant': tenant } })
  await client.expect('subscribed')
  return client
}

t.test('filter drops or redacts per subscriber (multi-tenant), parsing each event once per node; other frames pass', async (t) => {
  const seen = new Set<object>()
  const app = await tenantApp(t, (request, event) => {
    seen.add(event)
    const mine = (event.payload as { tenant: string }).tenant === request.headers['x-tenant']
    if (!mine) return false
    return request.headers['x-tenant'] === 'acme' ? { ...event, payload: { ...(event.payload as object), secret: undefined } } : event
  })
  const acme = await subscribeAs(app, 'acme')
  const globex = await subscribeAs(app, 'globex')
  const globex2 = await subscribeAs(app, 'globex')
  await app.inject({ method: 'POST', url: '/orders/globex' })
  await app.inject({ method: 'POST', url: '/orders/acme' })
  t.same((await acme.receive()).payload, { tenant: 'acme', name: 'o' }, 'acme got only its own order, redacted')
  t.same((await globex.receive()).payload, { tenant: 'globex', secret: 's3', name: 'o' })
  t.same((await globex2.receive()).payload, { tenant: 'globex', secret: 's3', name: 'o' })
  t.equal(seen.size, 2, 'one parsed, frozen event per event, shared by the subscribers')
  await app.ws.broadcastToAll({ type: 'notice', text: 'maintenance' })
  t.same(await acme.receive(), { type: 'notice', text: 'maintenance' }, 'a frame that is not a change event is not filtered')
  for (const connection of app.ws.local()) connection.sendRaw(Buffer.from('plain text'), { binary: false })
  t.equal(await acme.receive(), 'plain text', 'nor is one that is not JSON')
  t.equal(acme.trace.length, 4)
})

t.test('a filter that throws, or mutates the frozen event, drops the event for that subscriber and logs an error', async (t) => {
  const app = await tenantApp(t, (request, event) => {
    if (request.headers['x-tenant'] === 'mutator') (event.payload as { secret?: string }).secret = 'x'
    if (request.headers['x-tenant'] === 'thrower') throw new Error('filter bug')
    if (request.headers['x-tenant'] === 'circular') return Object.assign({}, event, { payload: (() => { const a: Record<string, unknown> = {}; a.self = a; return a })() })
    return event
  })
  const mutator = await subscribeAs(app, 'mutator')
  const thrower = await subscribeAs(app, 'thrower')
  const circular = await subscribeAs(app, 'circular')
  const plain = await subscribeAs(app, 'plain')
  await app.inject({ method: 'POST', url: '/orders/a' })
  t.same((await plain.receive()).payload, { tenant: 'a', secret: 's3', name: 'o' }, 'the others are unaffected')
  t.equal(app.logs.filter((line) => line.level === 50 && line.msg.includes('the filter failed')).length, 3)
  await Promise.all([mutator, thrower, circular].map(async (client) => await client.close()))
  t.same([mutator, thrower, circular].map((client) => client.trace.filter((entry) => entry.direction === 'in').length), [1, 1, 1], 'only their acks')
})

t.test('the feed\'s rooms are its own: authorizeJoin is not asked, and they are namespaced away from application rooms', async (t) => {
  const app = await tenantApp(t, undefined)
  const client = await subscribeAs(app, 'x')
  t.equal(await app.ws.roomSize('all'), 0)
  t.equal(await app.ws.roomSize('\u0000changes:*'), 1)
  t.equal(client.trace.length, 1)
})

t.test('app.ws.publishChange publishes the manual form; bad input throws FST_PACHINKO_CHANGE_INVALID at once', async (t) => {
  const app = await build(t)
  await app.register(changeFeed)
  const all = await connect<ChangeEvent>(app, '/ws?ack=true')
  const items = await connect<ChangeEvent>(app, '/ws?topic=item&ack=1')
  t.same(await all.expect('subscribed'), { type: 'subscribed', topics: ['all'] })
  t.same(await items.expect('subscribed'), { type: 'subscribed', topics: ['item'] })
  await app.ws.publishChange({ model: 'Item', method: 'patch', id: 4, payload: [{ id: 4 }] })
  await app.ws.publishChange({ model: 'other', method: 'DELETE', many: false })
  t.same({ ...await items.receive(), ts: 0 }, { ts: 0, model: 'item', method: 'PATCH', id: 4, many: true, payload: [{ id: 4 }] })
  t.match(await all.receive(), { model: 'item' })
  t.same({ ...await all.receive(), ts: 0 }, { ts: 0, model: 'other', method: 'DELETE', id: null, many: false, payload: null })
  const bad: unknown[] = [null, 'x', { model: '__proto__', method: 'POST' }, { model: 'a b', method: 'POST' }, { model: 7, method: 'POST' }, { model: null, method: 'POST' },
    { model: 'a', method: 'PO ST' }, { model: 'a', method: 3 }, { model: 'a', method: 'POST', id: {} }, { model: 'a', method: 'POST', id: Infinity },
    { model: 'a', method: 'POST', many: 'yes' }, { model: 'x'.repeat(65), method: 'POST' }]
  for (const change of bad) t.throws(() => app.ws.publishChange(change as never), { code: 'FST_PACHINKO_CHANGE_INVALID' }, JSON.stringify(change))
  t.throws(() => app.ws.publishChange({ model: 'a', method: 'POST', payload: { n: 1n } }), { code: 'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE' })
})

t.test('mirrors (the hub\'s hook point) get every event with its encoded frame; a failing one is logged like a backend failure', async (t) => {
  const app = await build(t)
  await app.register(changeFeed)
  app.post('/things', { config: { model: 'thing' } }, async () => ({ id: 1 }))
  const got: Array<[ChangeEvent, string]> = []
  const remove = addChangeMirror(app.ws, (event, frame) => { got.push([event, frame.toString()]) })
  const failing = addChangeMirror(app.ws, async () => { throw new Error('hub down') })
  const client = await connect<ChangeEvent>(app, '/ws?ack=1')
  await client.expect('subscribed')
  t.equal((await app.inject({ method: 'POST', url: '/things' })).statusCode, 200)
  const event = await client.receive()
  t.same(got, [[event, JSON.stringify(event)]])
  t.match(app.logs.filter((line) => line.msg.includes('publishing the event failed')), [{ level: 40, err: { message: 'hub down' } }])
  remove()
  failing()
  await app.ws.publishChange({ model: 'thing', method: 'POST' })
  t.equal(got.length, 1)
  await t.resolves(app.ws.publishChange({ model: 'thing', method: 'POST' }))
})

t.test('options and route config are checked at registration, with the option or route named', async (t) => {
  const bad: Array<[ChangeFeedOptions, RegExp]> = [
    [{ path: 'ws' }, /changeFeed\.path/],
    [{ methods: [] }, /changeFeed\.methods/],
    [{ methods: ['GET' as never] }, /reads never publish/],
    [{ methods: 'POST' as never }, /changeFeed\.methods/],
    [{ topicAll: 'ALL' }, /changeFeed\.topicAll/],
    [{ topicAll: 3 as never }, /changeFeed\.topicAll/],
    [{ authorizeTopic: true as never }, /changeFeed\.authorizeTopic/],
    [{ filter: 'tenant' as never }, /changeFeed\.filter/]
  ]
  for (const [options, message] of bad) {
    const app = await build(t)
    await t.rejects(async () => { await app.register(changeFeed, options) }, { code: 'FST_PACHINKO_OPTION_INVALID', message }, JSON.stringify(options))
  }
  const routeErrors: Array<[object, RegExp]> = [
    [{ model: '__proto__' }, /POST \/x: config\.model must be a model name/],
    [{ model: 'everything' }, /is the change feed's topicAll/],
    [{ model: 'ok', id: 3 }, /config\.id must be/]
  ]
  for (const [config, message] of routeErrors) {
    const app = await build(t)
    await app.register(changeFeed, { topicAll: 'everything' })
    t.throws(() => app.post('/x', { config }, async () => ({})), { code: 'FST_PACHINKO_CHANGE_ROUTE_INVALID', message })
  }
  t.ok(errors.ERR_CHANGE_ROUTE_INVALID)
})

t.test('one feed per scope: a nested feed is refused, sibling scopes each get their own endpoint and share events', async (t) => {
  const app = await build(t)
  await app.register(changeFeed, { path: '/feed' })
  await t.rejects(async () => { await app.register(async (child) => { await child.register(changeFeed) }) }, { code: 'FST_PACHINKO_CHANGE_FEED_DUPLICATE', message: /at "\/feed"/ })

  const other = await build(t)
  await other.register(async (a) => {
    await a.register(changeFeed, { path: '/' })
    a.post('/rows', { config: { model: 'row' } }, async () => ({ id: 'a' }))
  }, { prefix: '/a' })
  await other.register(async (b) => {
    await b.register(changeFeed, { methods: ['DELETE'] })
    b.post('/rows', { config: { model: 'row' } }, async () => ({ id: 'b' }))
    b.delete('/rows/:id', { config: { model: 'row' } }, async () => ({ gone: true }))
  }, { prefix: '/b' })
  const onA = await connect<ChangeEvent>(other, '/a?ack=1')
  const onB = await connect<ChangeEvent>(other, '/b/ws?ack=1')
  await Promise.all([onA.expect('subscribed'), onB.expect('subscribed')])
  await other.inject({ method: 'POST', url: '/b/rows' })
  await other.inject({ method: 'POST', url: '/a/rows' })
  await other.inject({ method: 'DELETE', url: '/b/rows/9' })
  t.match(await onA.receive(), { method: 'POST', id: 'a' }, 'b\'s POST does not publish: its feed is DELETE only')
  t.match(await onA.receive(), { method: 'DELETE', id: '9' })
  t.match(await onB.receive(), { method: 'POST', id: 'a' })
})

t.test('without fastify-pachinko registered, the feed fails at registration', async (t) => {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(changeFeed) }, { code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED' })
})
