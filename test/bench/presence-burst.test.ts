import t, { type Test } from 'tap'
import type { ContenderModule } from '../../bench/contenders/contender.js'
import * as hub from '../../bench/contenders/pachinko-hub.js'
import * as presence from '../../bench/contenders/pachinko-presence.js'
import * as presenceFlush from '../../bench/contenders/pachinko-presence-flush.js'
import * as presenceHand from '../../bench/contenders/pachinko-presence-hand.js'
import { runPresence, type PresenceTask } from '../../bench/load/presence.js'

/* Scenario (j): the presence burst's load task against each of its contenders, in-process. */

const CLIENTS = 5

async function burst (t: Test, module: ContenderModule, options: Partial<PresenceTask> = {}): Promise<{ result: Awaited<ReturnType<typeof runPresence>>, marks: string[], frames: number }> {
  const server = await module.start()
  t.teardown(() => server.close())
  const marks: string[] = []
  const framesAt: number[] = []
  const task: PresenceTask = { kind: 'presence', targets: [{ kind: 'phoenix', url: `ws://127.0.0.1:${server.port}${server.path}` }], clients: CLIENTS, warmupClients: 2, presence: true, room: 'presence', ...options }
  const result = await runPresence(task, async (name) => {
    marks.push(name)
    framesAt.push(server.framesOut?.() as number)
  })
  t.equal(server.connections(), task.clients + task.warmupClients, 'the warm-up clients are connections of their own')
  return { result, marks, frames: framesAt[1] - framesAt[0] }
}

for (const [name, module] of [['pachinko-presence', presence], ['pachinko-presence-flush', presenceFlush], ['pachinko-presence-hand', presenceHand]] as const) {
  t.test(`${name}: every client gets its reply and presence_state, the first sees every key`, async (t) => {
    const { result, marks, frames } = await burst(t, module)
    t.same(result.problems, [])
    t.same(marks, ['start', 'end'], 'the window is the burst alone')
    t.equal(result.units, CLIENTS)
    t.match(result.checks, { joins: CLIENTS, states: CLIENTS, keys: CLIENTS })
    t.ok(result.latency.p50 > 0 && result.latency.p99 >= result.latency.p50)
    t.ok(frames >= 2 * CLIENTS, `a reply and a state per client at least (${frames} frames)`)
  })
}

t.test('the hand-written peer sends a diff per join to everyone, batched presence far fewer', async (t) => {
  const hand = await burst(t, presenceHand, { clients: 20 })
  const batched = await burst(t, presence, { clients: 20 })
  t.ok(hand.frames >= 20 * 2 + 20 * 19 / 2, `hand-written: ${hand.frames} frames`)
  t.ok(batched.frames < hand.frames / 2, `batched: ${batched.frames} frames`)
})

t.test('the hub without presence is done at the join replies alone', async (t) => {
  const { result, frames } = await burst(t, hub, { presence: false })
  t.same(result.problems, [])
  t.match(result.checks, { joins: CLIENTS, states: 0, keys: 0 })
  t.equal(frames, CLIENTS, 'one reply per join')
})

t.test('a burst that stops before it is done fails the run instead of hanging', async (t) => {
  // the hub has no presence: the presence_state the task waits for never comes
  const { result } = await burst(t, hub, { stallMs: 200 })
  t.equal(result.units, 0)
  t.match(result.problems, [/warm-up burst never completed/, new RegExp(`burst stalled: ${CLIENTS}/${CLIENTS} join replies, 0 presence states`)])
})
