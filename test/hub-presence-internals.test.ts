import t from 'tap'
import { BusPresence } from '../lib/backends/bus-presence.js'
import { clusterPresenceStore } from '../lib/backends/cluster-presence-store.js'
import type { PresenceStore } from '../lib/backends/presence-store.js'
import { ClusterCheck } from '../lib/hub/presence/cluster-check.js'
import { group, remoteEntries } from '../lib/hub/presence/presence-list.js'
import { PresenceTracker, type PresenceHost } from '../lib/hub/presence/tracker.js'
import { recordingLogger, type LogEntry } from '../lib/testing/recording-logger.js'

function host (store: PresenceStore | undefined, lines: LogEntry[] = []): PresenceHost {
  return {
    log: recordingLogger(lines),
    intervalOf: () => 0,
    roomOf: (topic) => `room/${topic}`,
    store: () => store,
    broadcast: async () => {}
  }
}

t.test('records from the store that are not [key, { phx_ref }] are skipped', async (t) => {
  const records = [[
    ['a', 'not json'], ['b', '{"x":1}'], ['c', '[1,{}]'], ['d', '["k",null]'], ['e', '["k",{"phx_ref":2}]'], ['f', '["k",{"phx_ref":"f"}]']
  ] as const]
  t.same(group(remoteEntries(records)), { k: { metas: [{ phx_ref: 'f' }] } })
})

t.test('untracking and ending on topics this node never saw do nothing', async (t) => {
  const tracker = new PresenceTracker(host(undefined))
  t.same(tracker.entriesOf('nowhere', 'k'), [])
  t.same(tracker.ownedBy('nowhere', {}, 'k'), [])
  tracker.untrack('nowhere', [])
  tracker.ended('nowhere', {})
  t.equal(tracker.topics.size, 0)
})

t.test('a topic is forgotten once nothing is tracked or shown in it', async (t) => {
  const tracker = new PresenceTracker(host(undefined))
  const states: string[] = []
  const channel = {}
  tracker.subscribe('t', channel, (json) => states.push(json))
  const ref = tracker.track('t', channel, 'ada', { a: 1 })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(states, [JSON.stringify({ ada: { metas: [{ a: 1, phx_ref: ref }] } })])
  t.equal(tracker.topics.size, 1, 'kept while it has presences')
  tracker.ended('t', channel)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(tracker.topics.size, 0)
})

t.test('a check that is still running is not started twice; a record gone from the store is republished', async (t) => {
  const records = new BusPresence(() => {})
  let calls = 0
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const store: PresenceStore = {
    ...clusterPresenceStore(records, 'me', 10, 1000, async () => []) as PresenceStore,
    others: async () => { calls++; await gate; return [] }
  }
  const lines: LogEntry[] = []
  const tracker = new PresenceTracker(host(store, lines))
  const check = new ClusterCheck(tracker, store, recordingLogger(lines))
  tracker.track('t', {}, 'ada', {})
  await new Promise((resolve) => setImmediate(resolve))
  const first = check.check()
  await check.check()
  release()
  await first
  t.equal(calls, 1, 'the second check returned at once')
  t.equal((await records.read(['me'], 'room/t'))[0].length, 1, 'the flush wrote the store')
  await records.replace('me', 'room/t', [], 1000)
  await check.check()
  t.equal(tracker.stale, true, 'the missing record was noticed')
  await check.check()
  t.equal((await records.read(['me'], 'room/t'))[0].length, 1, 'and republished')
  t.equal(tracker.stale, false)
  check.stop()
  tracker.stop()
})

t.test('a clustered backend whose transport keeps no presence has no presence store', async (t) => {
  t.equal(clusterPresenceStore(undefined, 'me', 10, 1000, async () => []), undefined)
})
