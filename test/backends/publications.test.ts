import 'reflect-metadata'
import type { Duplex } from 'node:stream'
import t, { type Test } from 'tap'
import { WebSocketResource, redisBackend, type ClusterTransport, type PachinkoOptions } from '../../lib/index.js'
import { UNACKNOWLEDGED_LIMIT } from '../../lib/backends/cluster-publications.js'
import { kBackend } from '../../lib/symbols.js'
import { connect, createBus } from '../../lib/testing/index.js'
import { build, until } from '../helpers/build.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

/*
 * An awaited broadcast on a clustered backend settles once it is delivered on
 * this node and handed to the transport, not once the server acknowledged it:
 * one connection's back-to-back broadcasts then pipeline instead of taking a
 * round trip each. While the transport is down, or with too many publications
 * unacknowledged, it waits and rejects with the failure; a failure after the
 * hand-over is logged.
 */

class Member extends WebSocketResource {
  static convention = 'any' as const
  override async onConnect () {
    await this.join('r')
    this.send({ type: 'welcome' })
  }

  async onSay (msg: { payload: { n: number } }) {
    await this.broadcast('r', { type: 'said', payload: msg.payload.n })
    this.send({ type: 'done', payload: msg.payload.n })
  }
}

async function twoNodes (t: Test, backend: () => PachinkoOptions['backend']) {
  const apps = [await build(t, { backend: backend() }), await build(t, { backend: backend() })]
  for (const app of apps) app.addWebSocketRoute('/m', Member)
  const member = async (node: number) => {
    const client = await connect(apps[node], '/m', { t })
    await client.expect('welcome')
    return client
  }
  return { apps, member }
}

/** The bus transport of a node, its publish held until the test settles it. */
function holdPublications (app: Awaited<ReturnType<typeof build>>) {
  const transport = (app.ws[kBackend] as unknown as { transport: ClusterTransport }).transport
  const real = transport.publish.bind(transport)
  const held: Array<{ settle: (error?: Error) => void }> = []
  transport.publish = (channel, payload) => new Promise((resolve, reject) => {
    held.push({ settle: (error) => { if (error === undefined) resolve(real(channel, payload)); else reject(error) } })
  })
  return held
}

const turn = async () => await new Promise((resolve) => setImmediate(resolve))

t.test('an awaited broadcast settles before the server acknowledged it; the publication still arrives', async (t) => {
  const bus = createBus()
  const { apps: [x], member } = await twoNodes(t, () => bus.backend())
  const onX = await member(0)
  const onY = await member(1)
  const held = holdPublications(x)
  await x.ws.broadcastToRoom('r', { type: 'said', payload: 1 })
  t.equal(held.length, 1, 'resolved with its publication still unacknowledged')
  t.equal((await onX.expect('said')).payload, 1, 'delivered on this node already')
  held[0].settle()
  t.equal((await onY.expect('said')).payload, 1, 'and on the other node once the transport carried it')
})

t.test('a publication that fails after the hand-over is logged: warn for the first of a run, debug for the rest', async (t) => {
  const x = await build(t, { backend: createBus().backend() })
  const held = holdPublications(x)
  for (let n = 0; n < 4; n++) await x.ws.broadcastToRoom('r', { type: 'said', payload: n })
  const lost = () => x.logs.filter((line) => /did not reach the other nodes/.test(line.msg))
  held[0].settle(new Error('connection reset'))
  held[1].settle(new Error('connection reset'))
  await until(() => lost().length === 2)
  t.same(lost().map((line) => line.level), [40, 20], 'one warning, then debug')
  t.equal((lost()[0].err as { code?: string }).code, 'FST_PACHINKO_BACKEND_UNAVAILABLE', 'with the coded error')
  held[2].settle()
  await turn()
  held[3].settle(new Error('connection reset'))
  await until(() => lost().length === 3)
  t.equal(lost()[2].level, 40, 'a loss after a publication got through warns again')
  t.equal(x.logs.filter((line) => line.level >= 50).length, 0, 'nothing at error level')
})

t.test(`past ${UNACKNOWLEDGED_LIMIT} unacknowledged publications a broadcast waits for its own, and gets its failure`, async (t) => {
  const x = await build(t, { backend: createBus().backend() })
  const held = holdPublications(x)
  for (let n = 0; n < UNACKNOWLEDGED_LIMIT; n++) await x.ws.broadcastToRoom('r', { type: 'said', payload: n })
  let settled = false
  const waiting = x.ws.broadcastToRoom('r', { type: 'said', payload: 'over' }).finally(() => { settled = true })
  await turn()
  t.equal(held.length, UNACKNOWLEDGED_LIMIT + 1)
  t.notOk(settled, 'the broadcast over the limit waits for its acknowledgement')
  held[UNACKNOWLEDGED_LIMIT].settle(new Error('no route'))
  await t.rejects(waiting, { code: 'FST_PACHINKO_BACKEND_UNAVAILABLE' })
  const acknowledged = x.ws.broadcastToRoom('r', { type: 'said', payload: 'over, and through' })
  await turn()
  held[UNACKNOWLEDGED_LIMIT + 1].settle()
  t.equal(await acknowledged, undefined, 'one over the limit that gets through resolves once acknowledged')
  for (const publication of held.slice(0, UNACKNOWLEDGED_LIMIT)) publication.settle()
  await turn()
  await x.ws.broadcastToRoom('r', { type: 'said', payload: 'after' })
  t.equal(held.length, UNACKNOWLEDGED_LIMIT + 3, 'once acknowledged, broadcasts stop waiting again')
})

t.test('over Redis: 200 awaited broadcasts sent back to back reach both nodes, all of them, in order', async (t) => {
  if (!(await needRedis(t))) return
  const prefix = testPrefix('publications')
  const { member } = await twoNodes(t, () => redisBackend({ url: REDIS_URL, prefix }))
  const sender = await member(0)
  const [local, remote] = [await member(0), await member(1)]
  const count = 200
  // one write: the server reads every message in one go, so they queue behind each other's broadcasts
  const raw = (sender.socket as unknown as { _socket: Duplex })._socket
  raw.cork()
  for (let n = 0; n < count; n++) sender.send({ type: 'say', payload: { n } })
  raw.uncork()
  const said = (client: typeof sender) => client.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === 'said').map((e) => (e.data as { payload: number }).payload)
  const done = () => sender.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === 'done').length
  await until(() => said(remote).length === count && said(local).length === count && done() === count, 10_000, 'every broadcast on both nodes')
  const expected = Array.from({ length: count }, (_, n) => n)
  t.same(said(remote), expected, 'the other node got every one, in order')
  t.same(said(local), expected, 'this node too')
  t.same(said(sender), expected, 'the sender too')
})
