import 'reflect-metadata'
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { errors, WebSocketResource } from '../../lib/index.js'
import { connect, UpgradeRefusedError } from '../../lib/testing/index.js'
import { originCheck } from '../../lib/admission/origins.js'
import { build } from '../helpers/build.js'

class Echo extends WebSocketResource {
  static convention = 'any' as const
  onEcho (msg: { payload: unknown }) { this.send({ type: 'echo', payload: msg.payload }) }
}

const request = (host: string | undefined): FastifyRequest => ({ host } as unknown as FastifyRequest)

t.test('same-origin (the default) compares the Origin host and port with the request Host, not the scheme', async (t) => {
  const check = originCheck(undefined, 'origins') as NonNullable<ReturnType<typeof originCheck>>
  const cases: Array<[origin: string, host: string | undefined, allowed: boolean]> = [
    ['http://example.com', 'example.com', true],
    ['https://example.com', 'example.com', true],
    ['https://EXAMPLE.com', 'example.com', true],
    ['https://example.com', 'example.com:443', true],
    ['http://example.com:8080', 'example.com:8080', true],
    ['http://example.com:8080', 'example.com', false],
    ['http://example.com', 'example.com:8080', false],
    ['http://evil.com', 'example.com', false],
    ['http://example.com.evil.com', 'example.com', false],
    ['http://example.com', undefined, false],
    ['http://example.com', '', false],
    ['http://example.com', 'bad host', false],
    ['null', 'example.com', false],
    ['file://', 'example.com', false],
    ['not a url', 'example.com', false]
  ]
  for (const [origin, host, allowed] of cases) t.equal(await check(origin, request(host)), allowed, `${origin} on ${String(host)}`)
  t.equal(originCheck('same-origin', 'origins'), check)
  t.equal(originCheck('*', 'origins'), undefined, "'*' checks nothing")
})

t.test('a list compares like Phoenix check_origin: a scheme pins the scheme and its default port, //host any, *.domain the domain and its subdomains', async (t) => {
  const check = originCheck(['https://app.example.com', '//other.com', '*.example.org', 'http://localhost:5173', 'https://[::1]:8443', 'lan.test:8000', 'https://trailing.com/'], 'origins') as NonNullable<ReturnType<typeof originCheck>>
  const cases: Array<[string, boolean]> = [
    ['https://app.example.com', true],
    ['https://app.example.com:443', true],
    ['http://app.example.com', false],
    ['https://app.example.com:444', false],
    ['https://example.com', false],
    ['http://other.com:81', true],
    ['https://other.com', true],
    ['https://example.org', true],
    ['https://a.b.example.org', true],
    ['https://evilexample.org', false],
    ['http://localhost:5173', true],
    ['http://localhost:5174', false],
    ['https://[::1]:8443', true],
    ['https://[::1]', false],
    ['http://lan.test:8000', true],
    ['https://lan.test', false],
    ['https://trailing.com', true],
    ['null', false]
  ]
  for (const [origin, allowed] of cases) t.equal(await check(origin, request('ignored')), allowed, origin)
})

t.test('a predicate admits only on true, and may be async', async (t) => {
  const seen: string[] = []
  const check = originCheck(async (origin: string, req: FastifyRequest) => {
    seen.push(`${origin} ${req.host}`)
    return origin === 'https://ok.com' ? true : ('yes' as unknown as boolean)
  }, 'origins') as NonNullable<ReturnType<typeof originCheck>>
  t.equal(await check('https://ok.com', request('h')), true)
  t.equal(await check('https://truthy.com', request('h')), false, 'a truthy non-true refuses')
  t.same(seen, ['https://ok.com h', 'https://truthy.com h'])
})

t.test('malformed origins throw FST_PACHINKO_OPTION_INVALID at register, naming the entry', async (t) => {
  for (const [origins, pattern] of [
    [['https://'], /origins\[0\].*"https:\/\/" is not an origin/],
    [['ex ample.com'], /origins\[0\]/],
    [['http://x.com:99999'], /origins\[0\]/],
    [['http://x.com:0'], /origins\[0\]/],
    [['1http://x.com'], /origins\[0\]/],
    [['ok.com', 42], /origins\[1\].*non-empty string/],
    [[''], /origins\[0\]/],
    ['example.com', /must be 'same-origin', '\*', a list of origins or a function, got string/],
    [{}, /got object/]
  ] as const) {
    await t.rejects(build(t, { origins: origins as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: pattern })
  }
  await t.rejects(build(t, { requireOrigin: 'yes' as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /requireOrigin/ })
  await t.rejects(build(t, { identify: 'user' as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /identify/ })
  t.ok(errors.ERR_OPTION_INVALID)
})

t.test('refuses a cross-site upgrade with HTTP 403 before it happens, logged at info; same-origin and no Origin get in', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/e', Echo)
  const site = { host: 'chat.example.com' }
  await t.rejects(connect(app, '/e', { headers: { ...site, origin: 'https://evil.example.net' } }), new UpgradeRefusedError(403))
  t.equal(app.ws.size, 0, 'no socket was opened')
  const line = app.logs.find((l) => l.msg === 'WebSocket upgrade refused: origin not allowed')
  t.match(line, { level: 30, origin: 'https://evil.example.net', statusCode: 403 })
  t.notOk(app.logs.some((l) => l.level >= 50), 'nothing at error level')
  const same = await connect(app, '/e', { headers: { ...site, origin: 'https://chat.example.com' } })
  same.send({ type: 'echo', payload: 'same' })
  t.equal((await same.expect('echo')).payload, 'same')
  const node = await connect(app, '/e', { headers: site })
  node.send({ type: 'echo', payload: 'node' })
  t.equal((await node.expect('echo')).payload, 'node', 'a client without Origin (not a browser) gets in')
  t.equal(app.ws.metrics.upgradesRefused, 1)
  const plain = await app.inject({ url: '/e', headers: { origin: 'https://evil.example.net' } })
  t.equal(plain.statusCode, 404, 'a plain GET of a WebSocket route is left alone')
})

t.test('requireOrigin refuses an upgrade without Origin', async (t) => {
  const app = await build(t, { requireOrigin: true })
  app.addWebSocketRoute('/e', Echo)
  await t.rejects(connect(app, '/e', { headers: { host: 'a.com' } }), new UpgradeRefusedError(403))
  t.ok(app.logs.some((l) => l.msg === 'WebSocket upgrade refused: an Origin header is required' && l.level === 30))
  const ok = await connect(app, '/e', { headers: { host: 'a.com', origin: 'http://a.com' } })
  await ok.close()
})

t.test("origins: '*' admits any origin and warns once at startup; a route may narrow it", async (t) => {
  const app = await build(t, { origins: '*' })
  app.addWebSocketRoute('/any', Echo)
  app.addWebSocketRoute('/narrow', Echo, { origins: ['https://app.example.com'] })
  const warnings = app.logs.filter((l) => l.level === 40 && /origins: '\*'/.test(l.msg))
  t.equal(warnings.length, 1)
  const any = await connect(app, '/any', { headers: { host: 'a.com', origin: 'https://anything.net' } })
  await any.close()
  await t.rejects(connect(app, '/narrow', { headers: { host: 'a.com', origin: 'https://anything.net' } }), new UpgradeRefusedError(403))
  const narrow = await connect(app, '/narrow', { headers: { host: 'a.com', origin: 'https://app.example.com' } })
  await narrow.close()
})

t.test('plain websocket routes get the same check; config.admission overrides it or, false, turns it off', async (t) => {
  const app = await build(t)
  const handler = (socket: { send: (data: string) => void }): void => socket.send('hi')
  app.get('/plain', { websocket: true }, handler as never)
  app.get('/listed', { websocket: true, config: { admission: { origins: ['https://b.com'] } } }, handler as never)
  app.get('/open', { websocket: true, config: { admission: false } }, handler as never)
  app.route({ method: ['GET', 'HEAD'], url: '/both', websocket: true, handler } as never)
  app.get('/wild', { websocket: true, config: { admission: { origins: '*' } } }, handler as never)
  t.ok(app.logs.some((l) => l.level === 40 && l.route === '/wild'), "a route's '*' warns too")
  t.throws(() => app.get('/bad', { websocket: true, config: { admission: { origins: ['nope nope'] } } }, handler as never), { code: 'FST_PACHINKO_OPTION_INVALID', message: /route \/bad: origins\[0\]/ })
  t.throws(() => app.get('/bad2', { websocket: true, config: { admission: 'on' as never } }, handler as never), { code: 'FST_PACHINKO_OPTION_INVALID', message: /route \/bad2: admission/ })
  const evil = { host: 'a.com', origin: 'https://evil.com' }
  await t.rejects(connect(app, '/plain', { headers: evil }), new UpgradeRefusedError(403))
  await t.rejects(connect(app, '/both', { headers: evil }), new UpgradeRefusedError(403))
  await t.rejects(connect(app, '/listed', { headers: evil }), new UpgradeRefusedError(403))
  const listed = await connect(app, '/listed', { headers: { host: 'a.com', origin: 'https://b.com' } })
  t.equal(await listed.receive(), 'hi')
  const open = await connect(app, '/open', { headers: evil })
  t.equal(await open.receive(), 'hi')
  const wild = await connect(app, '/wild', { headers: evil })
  t.equal(await wild.receive(), 'hi')
})

t.test('a predicate sees the request; route options win over config.admission', async (t) => {
  const app = await build(t, { origins: (origin, request) => origin === `https://${String(request.headers['x-tenant'])}.example.com` })
  app.addWebSocketRoute('/t', Echo)
  app.addWebSocketRoute('/r', Echo, { config: { admission: { origins: ['https://config.com'], requireOrigin: true } }, origins: ['https://route.com'] })
  const ok = await connect(app, '/t', { headers: { host: 'x', origin: 'https://acme.example.com', 'x-tenant': 'acme' } })
  await ok.close()
  await t.rejects(connect(app, '/t', { headers: { host: 'x', origin: 'https://other.example.com', 'x-tenant': 'acme' } }), new UpgradeRefusedError(403))
  await t.rejects(connect(app, '/r', { headers: { host: 'x', origin: 'https://config.com' } }), new UpgradeRefusedError(403))
  await t.rejects(connect(app, '/r', { headers: { host: 'x' } }), new UpgradeRefusedError(403), 'requireOrigin from config.admission stays')
  const route = await connect(app, '/r', { headers: { host: 'x', origin: 'https://route.com' } })
  await route.close()
})
