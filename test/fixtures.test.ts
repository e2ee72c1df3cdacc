import 'reflect-metadata'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect, testApp, UpgradeRefusedError, type TestConnection } from '../lib/testing/index.js'
import { until } from './helpers/build.js'

/* testApp() and connect(app, path, { t }): set up, ready, torn down with the test. */

class Echo extends WebSocketResource {
  static convention = 'any' as const
  onEcho (msg: { payload: unknown }) { this.send({ type: 'echoed', payload: msg.payload }) }
}

t.test('testApp builds, sets up and readies an app that closes when the test ends', async (t) => {
  let app: Awaited<ReturnType<typeof testApp>> | undefined
  let client: TestConnection | undefined
  await t.test('inner test', async (t) => {
    app = await testApp(t, (app) => { app.addWebSocketRoute('/echo', Echo) }, { plugin: { maxPayload: 64 }, server: { logger: false } })
    t.ok(app.ws.size === 0, 'the plugin is registered')
    client = await connect(app, '/echo', { t })
    client.send({ type: 'echo', payload: 'hi' })
    t.equal((await client.expect('echoed')).payload, 'hi')
    client.sendRaw('x'.repeat(100))
    t.equal((await client.closed).code, 1009, 'the plugin options apply')
    const other = await connect(app, '/echo', { t })
    other.send({ type: 'echo', payload: 'still open' })
    await other.expect('echoed')
  })
  t.ok(app !== undefined)
  await t.rejects(app!.inject('/'), /closed/i, 'the app was closed at the end of the inner test')
})

t.test('connect({ t }) closes the connection when its test ends, even if the app lives on', async (t) => {
  const app = await testApp(t, (app) => { app.addWebSocketRoute('/echo', Echo) })
  let client: TestConnection | undefined
  await t.test('inner test', async (t) => {
    client = await connect(app, '/echo', { t })
  })
  t.same(await client!.closed, { code: 1005, reason: '' }, 'closed by the teardown, from the client side')
  await until(() => app.ws.size === 0, 2000, 'the server side to see the close')
})

t.test('a refused upgrade with { t } rejects and leaves nothing to tear down', async (t) => {
  const app = await testApp(t, (app) => {
    app.addWebSocketRoute('/private', Echo, { authorize: () => false })
  })
  await t.test('inner test', async (t) => {
    await t.rejects(connect(app, '/private', { t }), UpgradeRefusedError)
  })
})

t.test('testApp without a setup, and a setup that throws still closes the app', async (t) => {
  const bare = await testApp(t)
  t.equal(bare.ws.size, 0)
  let made: Awaited<ReturnType<typeof testApp>> | undefined
  await t.test('inner test', async (t) => {
    await t.rejects(testApp(t, (app) => {
      made = app
      throw new Error('bad setup')
    }), /bad setup/)
  })
  await t.rejects(made!.inject('/'), /closed/i, 'closed anyway')
})

t.test('refuses a test context without after() with a coded error', async (t) => {
  await t.rejects(testApp({} as never), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"t": must be a test context with an after\(\) method/ })
  const app = await testApp(t, (app) => { app.addWebSocketRoute('/echo', Echo) })
  await t.rejects(connect(app, '/echo', { t: null as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /connect\(\) option t/ })
  await t.rejects(connect(app, '/echo', { t: { after: 'later' } as never }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.equal(app.ws.size, 0, 'no socket was opened')
})

t.test('works under node:test too', async (t) => {
  const child = fork(new URL('./fixtures/node-test-fixtures.ts', import.meta.url), { execArgv: process.execArgv, silent: true, timeout: 60_000, killSignal: 'SIGKILL' })
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'node:test passed', { stdout })
  t.match(stdout, /# pass 2/)
  t.match(stdout, /# fail 0/)
})
