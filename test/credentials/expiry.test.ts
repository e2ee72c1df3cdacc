import 'reflect-metadata'
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { WebSocket } from 'ws'
import { CloseCode, errors, WebSocketResource, type Connection } from '../../lib/index.js'
import { connectClient } from '../../lib/client/index.js'
import { connect } from '../../lib/testing/index.js'
import { ExpiryWheel } from '../../lib/credentials/expiry-wheel.js'
import { credentialExpired, refreshCredential } from '../../lib/credentials/refresh.js'
import { kExpiresAt, kRefresher } from '../../lib/symbols.js'
import { build } from '../helpers/build.js'

// the wheel's timer is unref'd (it must not keep a server alive), and in-process sockets hold no handle: keep the loop up
const keepAlive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keepAlive))

const soon = (ms = 20): Date => new Date(Date.now() + ms)
const FAST = { credentials: { graceMs: 300, resolutionMs: 5 } }

/** Its credential expires 20 ms after connect; a refreshed token `good` is worth a minute. */
class Session extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    await this.identify('ann', { expiresAt: soon() })
  }

  override onRefresh (credential: unknown) {
    if ((credential as { token?: string } | undefined)?.token === 'good') return new Date(Date.now() + 60_000)
    return (credential as { token?: string } | undefined)?.token === 'stale' ? new Date(Date.now() - 1) : false
  }

  onPing () { this.send({ type: 'pong' }) }
}

/** Sets expiresAt itself, with no onRefresh. */
class Bare extends WebSocketResource {
  static convention = 'any' as const
  override onConnect () {
    this.connection.expiresAt = soon()
  }
}

t.test('an expired credential gets a refresh request; a good answer keeps the connection with its new expiry', async (t) => {
  const app = await build(t, FAST)
  app.addWebSocketRoute('/s', Session)
  const client = await connect(app, '/s')
  const refresh = await client.expect<{ ref: number, payload: { expiresAt: string } }>('refresh')
  t.type(refresh.payload.expiresAt, 'string')
  t.ok(Date.parse(refresh.payload.expiresAt) <= Date.now(), 'sent once the deadline passed, never before')
  client.send({ type: 'reply', ref: refresh.ref, payload: { token: 'good' } })
  client.send({ type: 'ping' })
  await client.expect('pong')
  const [connection] = app.ws.local()
  t.ok((connection.expiresAt as Date).getTime() > Date.now() + 50_000, 'the new expiry')
  t.equal(app.ws.metrics.credentialsRefreshed, 1)
  t.equal(app.ws.metrics.credentialsExpired, 0)
  t.ok(connection.isOpen)
  await client.close()
})

t.test('no answer within the grace period closes with 4401', async (t) => {
  const app = await build(t, FAST)
  app.addWebSocketRoute('/s', Session)
  const client = await connect(app, '/s')
  await client.expect('refresh')
  t.same(await client.closed, { code: CloseCode.CREDENTIAL_EXPIRED, reason: 'credential expired' })
  t.equal(app.ws.metrics.credentialsExpired, 1)
  t.ok(app.logs.some((l) => l.level === 30 && l.msg === 'credential refresh failed'))
  t.ok(app.logs.some((l) => l.level === 30 && l.msg === 'credential expired; closing (4401)'))
  t.notOk(app.logs.some((l) => l.level >= 50), 'nothing at error level')
})

t.test('a refused, stale or error answer closes with 4401 at once', async (t) => {
  const app = await build(t, FAST)
  app.addWebSocketRoute('/s', Session)
  for (const answer of [
    (ref: number) => ({ type: 'reply', ref, payload: { token: 'bad' } }),
    (ref: number) => ({ type: 'reply', ref, payload: { token: 'stale' } }),
    (ref: number) => ({ type: 'error', ref, error: { code: 'NO_TOKEN', message: 'logged out' } })
  ]) {
    const client = await connect(app, '/s')
    const { ref } = await client.expect<{ ref: number }>('refresh')
    client.send(answer(ref))
    t.equal((await client.closed).code, 4401)
  }
  t.equal(app.ws.metrics.credentialsExpired, 3)
})

t.test("the plugin's onRefresh decides for resources without one; without any, an expired connection is closed at once", async (t) => {
  const decided: Array<[string, unknown]> = []
  const app = await build(t, {
    credentials: {
      resolutionMs: 5,
      onRefresh: (connection: Connection, credential: unknown) => {
        decided.push([typeof connection.id, credential])
        return Date.now() + 60_000
      }
    }
  })
  app.addWebSocketRoute('/b', Bare)
  const client = await connect(app, '/b')
  const { ref } = await client.expect<{ ref: number }>('refresh')
  client.send({ type: 'reply', ref, payload: 'token-2' })
  await new Promise<void>((resolve) => { const check = (): void => { if (app.ws.metrics.credentialsRefreshed === 1) resolve(); else setImmediate(check) }; check() })
  t.same(decided, [['string', 'token-2']], 'epoch ms accepted too')
  await client.close()

  const none = await build(t, { credentials: { resolutionMs: 5 } })
  none.addWebSocketRoute('/b', Bare)
  const alone = await connect(none, '/b')
  t.equal((await alone.closed).code, 4401)
  t.notOk(alone.trace.some((entry) => entry.direction === 'in' && (entry.data as { type?: string }).type === 'refresh'), 'no request nobody can answer')
})

t.test('an expiry the app sets meanwhile stands; undefined cancels; a bad value throws', async (t) => {
  const app = await build(t, FAST)
  app.addWebSocketRoute('/s', Session)
  const client = await connect(app, '/s')
  const { ref } = await client.expect<{ ref: number }>('refresh')
  const [connection] = app.ws.local()
  const later = new Date(Date.now() + 60_000)
  connection.expiresAt = later
  client.send({ type: 'reply', ref, payload: { token: 'bad' } })
  client.send({ type: 'ping' })
  await client.expect('pong')
  t.same(connection.expiresAt, later)
  t.ok(connection.isOpen, 'not closed: the app gave a new expiry')
  connection.expiresAt = undefined
  t.equal(connection.expiresAt, undefined)
  t.throws(() => { connection.expiresAt = new Date('nope') }, { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => { connection.expiresAt = 5 as never }, { code: 'FST_PACHINKO_OPTION_INVALID' })
  await client.close()
})

t.test('the typed client answers refresh with onRequest', async (t) => {
  const app = await build(t, FAST)
  app.addWebSocketRoute('/s', Session)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = connectClient(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/s`, { WebSocket: WebSocket as never, reconnect: false })
  t.teardown(() => client.close())
  const asked = new Promise<unknown>((resolve) => client.onRequest('refresh', (payload) => { resolve(payload); return { token: 'good' } }))
  t.match(await asked, { expiresAt: String })
  await new Promise<void>((resolve) => { const check = (): void => { if (app.ws.metrics.credentialsRefreshed === 1) resolve(); else setImmediate(check) }; check() })
  t.equal(app.ws.size, 1)
})

t.test('the wheel: one timer for every deadline, never early, rescheduling and cancelling', async (t) => {
  const fired: number[] = []
  let timers = 0
  const original = globalThis.setTimeout
  globalThis.setTimeout = ((fn: () => void, ms: number) => { timers++; return original(fn, ms) }) as typeof setTimeout
  t.teardown(() => { globalThis.setTimeout = original })
  const start = Date.now()
  let early = 0
  const done = new Promise<void>((resolve) => {
    const wheel = new ExpiryWheel<number>(10, (item) => {
      if (Date.now() < start + 15) early++
      fired.push(item)
      if (item === 0) wheel.schedule(1001, Date.now() + 1) // scheduled from within a tick
      if (item === 1001) { resolve(); wheel.close() }
    })
    for (let i = 0; i < 1000; i++) wheel.schedule(i, start + 15 + (i % 3))
    wheel.schedule(5, start + 60_000)
    wheel.schedule(5, start + 15)
    wheel.schedule(7, undefined)
    wheel.cancel(8)
    wheel.cancel(8)
    wheel.schedule(9999, start + 60_000) // still waiting when the others are due
    t.equal(wheel.size, 999, '7 and 8 cancelled')
  })
  await done
  t.equal(early, 0, 'none before its deadline')
  t.equal(fired.length, 999, '998 scheduled, 1 added from a tick')
  t.notOk(fired.includes(7) || fired.includes(8) || fired.includes(9999), 'cancelled and later ones did not fire')
  t.ok(timers <= 4, `${timers} timers for 1000 connections`)
  const closed = new ExpiryWheel<number>(10, () => t.fail('closed'))
  closed.close()
  closed.schedule(1, Date.now())
  t.equal(closed.size, 0)
})

t.test('a connection without wire names (the hub’s) is asked with the default discriminator; a close during the refresh ends it quietly', async (t) => {
  const asked: unknown[] = []
  const metrics = { credentialsRefreshed: 0, credentialsExpired: 0 }
  const logs: string[] = []
  const log = { info: (_: object, msg: string) => logs.push(msg) }
  const connection = {
    id: 'hub.1',
    isOpen: true,
    [kExpiresAt]: Date.now() - 1,
    [kRefresher]: { onRefresh: () => t.fail('not asked') },
    async request (message: unknown) {
      asked.push(message)
      throw new errors.ERR_REQUEST_CLOSED('hub.1')
    },
    close: () => t.fail('not closed again')
  }
  await refreshCredential(connection as unknown as Connection, { graceMs: 10, onRefresh: undefined, metrics: metrics as never, log: log as never })
  t.match(asked, [{ type: 'refresh', payload: { expiresAt: String } }])
  t.same(logs, [], 'nothing to say about a connection that is gone')
  t.same(metrics, { credentialsRefreshed: 0, credentialsExpired: 0 })
})

t.test('credentialExpired: for points of entry such as a channel join', async (t) => {
  t.equal(credentialExpired({ expiresAt: undefined }), false, 'no expiry: never')
  t.equal(credentialExpired({ expiresAt: new Date(1000) }, 1000), true, 'at the deadline')
  t.equal(credentialExpired({ expiresAt: new Date(1001) }, 1000), false)
})
