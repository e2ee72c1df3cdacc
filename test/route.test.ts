import 'reflect-metadata'
import t from 'tap'
import { WebSocketResource, errors } from '../lib/index.js'
import { connect, UpgradeRefusedError } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

class Hello extends WebSocketResource<{ name?: string }> {
  static created = 0
  constructor () {
    super()
    Hello.created++
  }

  override onConnect () {
    this.send({ type: 'hello', payload: { params: this.params, url: this.request.url } })
  }
}

t.test('routes with Fastify path syntax, inside encapsulated plugins and under a prefix', async (t) => {
  const app = await build(t)
  await app.register(async (child) => {
    child.addWebSocketRoute('/users/:name', Hello, { name: 'user' })
    child.addWebSocketRoute('/', Hello, { name: 'root-of-prefix' })
  }, { prefix: '/api/v1' })
  const client = await connect(app, '/api/v1/users/ann?x=1')
  t.same((await client.expect('hello')).payload, { params: { name: 'ann' }, url: '/api/v1/users/ann?x=1' })
  const root = await connect(app, '/api/v1')
  await root.expect('hello')
  t.equal(app.ws.urlFor('user', { name: 'b b' }), '/api/v1/users/b%20b')
  t.equal(app.ws.urlFor('root-of-prefix'), '/api/v1')
})

t.test('runs the route context\'s onRequest hooks first: a 401 is a real HTTP 401 and no resource is made', async (t) => {
  const app = await build(t)
  await app.register(async (secured) => {
    secured.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer good') return await reply.code(401).send({ error: 'Unauthorized' })
    })
    secured.addWebSocketRoute('/secure', Hello)
  })
  app.addWebSocketRoute('/open', Hello)
  const before = Hello.created
  const error = await connect(app, '/secure').catch((err: unknown) => err)
  t.ok(error instanceof UpgradeRefusedError)
  t.equal((error as UpgradeRefusedError).statusCode, 401)
  t.equal(Hello.created, before, 'no resource for a refused upgrade')
  t.equal(app.ws.size, 0)
  const ok = await connect(app, '/secure', { headers: { authorization: 'Bearer good' } })
  await ok.expect('hello')
  const open = await connect(app, '/open')
  await open.expect('hello')
})

t.test('applies route-level hooks, querystring schemas and authorize() before the upgrade', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/hooked', Hello, {
    preValidation: async (request, reply) => {
      if (request.headers['x-block'] === 'yes') return await reply.code(429).send({ error: 'slow down' })
    }
  })
  app.addWebSocketRoute('/schema', Hello, {
    schema: { querystring: { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 3 } } } }
  })
  app.addWebSocketRoute('/authorize', Hello, {
    authorize: async (request) => {
      if (request.headers['x-role'] === 'crash') throw Object.assign(new Error('nope'), { statusCode: 401 })
      return request.headers['x-role'] === 'admin'
    }
  })
  const status = async (path: string, headers = {}) => {
    const err = await connect(app, path, { headers }).catch((e: unknown) => e)
    return err instanceof UpgradeRefusedError ? err.statusCode : 101
  }
  t.equal(await status('/hooked', { 'x-block': 'yes' }), 429)
  t.equal(await status('/hooked'), 101)
  t.equal(await status('/schema?token=x'), 400)
  t.equal(await status('/schema?token=xyz'), 101)
  t.equal(await status('/authorize', { 'x-role': 'user' }), 403)
  t.equal(await status('/authorize', { 'x-role': 'crash' }), 401)
  t.equal(await status('/authorize', { 'x-role': 'admin' }), 101)
})

t.test('authorize fails closed: only true admits', async (t) => {
  const app = await build(t)
  const answers: Record<string, unknown> = { undefined, null: null, one: 1, yes: 'yes', object: {}, true: true }
  app.addWebSocketRoute('/a', Hello, { authorize: ((request: { headers: Record<string, string> }) => answers[request.headers['x-answer']]) as never })
  for (const key of Object.keys(answers)) {
    const err = await connect(app, '/a', { headers: { 'x-answer': key } }).catch((e: unknown) => e)
    t.equal(err instanceof UpgradeRefusedError ? err.statusCode : 101, key === 'true' ? 101 : 403, key)
  }
})

t.test('answers a plain GET on a WebSocket route with 404', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/ws', Hello)
  const response = await app.inject({ method: 'GET', url: '/ws' })
  t.equal(response.statusCode, 404)
})

t.test('reverses named routes with urlFor', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/ws/chat/:room', Hello, { name: 'chat.room' })
  app.addWebSocketRoute('/ws/files/*', Hello, { name: 'files' })
  app.addWebSocketRoute('/ws/opt/:id?', Hello, { name: 'optional' })
  app.addWebSocketRoute('/ws/num/:id(^\\d+)', Hello, { name: 'regex' })
  t.equal(app.ws.urlFor('chat.room', { room: 'general' }), '/ws/chat/general')
  t.equal(app.ws.urlFor('chat.room', { room: 'a/b?c' }), '/ws/chat/a%2Fb%3Fc')
  t.equal(app.ws.urlFor('files', { '*': 'a b/c' }), '/ws/files/a%20b/c')
  t.equal(app.ws.urlFor('optional'), '/ws/opt/')
  t.equal(app.ws.urlFor('optional', { id: 3 }), '/ws/opt/3')
  t.equal(app.ws.urlFor('regex', { id: 42 }), '/ws/num/42')
  t.throws(() => app.ws.urlFor('chat.room'), { code: 'FST_PACHINKO_ROUTE_MISSING_PARAM', message: /"room"/ })
  t.throws(() => app.ws.urlFor('nope'), { code: 'FST_PACHINKO_ROUTE_UNKNOWN_NAME' })
  t.throws(() => app.addWebSocketRoute('/other', Hello, { name: 'chat.room' }), errors.ERR_ROUTE_DUPLICATE_NAME)
})

t.test('fails at declaration for what is not a resource', async (t) => {
  const app = await build(t)
  class NotAResource { onPing () {} }
  t.throws(() => app.addWebSocketRoute('/a', NotAResource as unknown as typeof Hello), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /class NotAResource/ })
  t.throws(() => app.addWebSocketRoute('/b', {} as unknown as typeof Hello), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /an object/ })
  t.throws(() => app.addWebSocketRoute('/c', null as unknown as typeof Hello), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /null/ })
  t.throws(() => app.addWebSocketRoute('/d', 'Hello' as unknown as typeof Hello), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /string/ })
  t.throws(() => app.addWebSocketRoute('', Hello), { code: 'FST_PACHINKO_OPTION_INVALID', message: /path/ })
  t.throws(() => app.addWebSocketRoute('/e', Hello, { args: 'x' as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /args/ })
  t.throws(() => app.addWebSocketRoute('/f', Hello, { discriminator: '' }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /discriminator/ })
  t.throws(() => app.addWebSocketRoute('/g', Hello, { authorize: true as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /authorize/ })
})

t.test('fills a wildcard with nothing when not given', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/files/*', Hello, { name: 'all-files' })
  t.equal(app.ws.urlFor('all-files'), '/files/')
})

t.test('runs a route\'s own preValidation hook before authorize', async (t) => {
  const order: string[] = []
  const app = await build(t)
  app.addWebSocketRoute('/both', Hello, {
    preValidation: async () => { order.push('preValidation') },
    authorize: () => { order.push('authorize'); return true }
  })
  const client = await connect(app, '/both')
  await client.expect('hello')
  t.same(order, ['preValidation', 'authorize'])
})

t.test('appends authorize to a list of preValidation hooks', async (t) => {
  const order: string[] = []
  const app = await build(t)
  app.addWebSocketRoute('/list', Hello, {
    preValidation: [async () => { order.push('first') }, async () => { order.push('second') }],
    authorize: () => { order.push('authorize'); return true }
  })
  const client = await connect(app, '/list')
  await client.expect('hello')
  t.same(order, ['first', 'second', 'authorize'])
})
