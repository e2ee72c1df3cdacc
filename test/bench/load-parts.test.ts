import t from 'tap'
import * as pachinko from '../../bench/contenders/pachinko.js'
import { closeAll, Conn, openMany } from '../../bench/load/pool.js'
import { nowAbs, sleep as delay, until, Window } from '../../bench/load/window.js'
import { percentile, Samples, spread } from '../../bench/stats.js'

/* The load generator's shared parts: latency samples, the measured window, and the connection pool. */

t.test('samples grow past their first buffer and summarise as nearest-rank percentiles', async (t) => {
  const samples = new Samples()
  t.same(samples.summary(), { p50: NaN, p99: NaN, max: NaN }, 'empty')
  const n = (1 << 16) + 100
  for (let i = n; i >= 1; i--) samples.add(i)
  t.equal(samples.count, n)
  t.same(samples.summary(), { p50: Math.ceil(n / 2), p99: Math.ceil(0.99 * n), max: n })
  t.ok(Number.isNaN(percentile([], 0.5)), 'NaN when empty')
  t.equal(percentile([1, 2, 3], 0), 1, 'rank clamped at the bottom')
  t.same(spread([3, undefined, 1, Infinity, 2]), { median: 2, min: 1, max: 3, n: 3 }, 'odd count, non-finite values left out')
  t.same(spread([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4, n: 4 }, 'even count')
  t.equal(spread([undefined, NaN]), undefined)
})

t.test('a window marks its start and end and reports its length and the generator CPU share', async (t) => {
  const marks: string[] = []
  const window = new Window(async (name) => { marks.push(name) })
  const before = nowAbs()
  await window.open()
  t.ok(window.recording)
  await delay(20)
  const { seconds, loadgenCpu } = await window.close()
  t.notOk(window.recording)
  t.same(marks, ['start', 'end'])
  t.ok(seconds >= 0.015, `${seconds} s`)
  t.ok(loadgenCpu >= 0, `${loadgenCpu} of a core`)
  t.ok(nowAbs() > before)
  t.equal(await until(() => true, 10), true)
  t.equal(await until(() => false, 20), false, 'gives up after its deadline')
})

t.test('the pool joins rooms, routes frames to waiters or the handler, retries refused handshakes and closes all', async (t) => {
  const server = await pachinko.start()
  t.teardown(() => server.close())
  const target = { kind: 'ws' as const, url: `ws://127.0.0.1:${server.port}${server.path}` }
  const conns = await openMany([target], 3, 'pool', 2)
  t.equal(conns.length, 3)
  t.equal(server.connections(), 3)
  const seen: string[] = []
  conns[0].handler = (type) => seen.push(type)
  conns[0].client.send('echo', { seq: 1, text: 'x' })
  await until(() => seen.length === 1, 2000)
  t.same(seen, ['echo'], 'a frame nobody waits for goes to the handler')
  await t.rejects(conns[1].next('never', 20), /no "never" frame within 20 ms/)
  const echoed = conns[2].next('echo')
  conns[2].client.send('echo', { seq: 2, text: 'y' })
  await echoed
  conns[2].client.send('echo', { seq: 3, text: 'z' })
  const after = conns[2].next('echo')
  conns[2].client.send('echo', { seq: 4, text: 'z' })
  await after
  t.pass('a frame with neither a waiter nor a handler is dropped (the one after it still arrives)')
  const alone = await Conn.open(target)
  t.equal(server.connections(), 4, 'opened without a room')
  await closeAll([...conns, alone])
  await until(() => server.connections() === 0, 2000)
  t.equal(server.connections(), 0)
  await t.rejects(openMany([{ kind: 'ws', url: 'ws://127.0.0.1:1/' }], 1), 'a handshake refused three times fails the task')
})
