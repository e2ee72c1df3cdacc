import 'reflect-metadata'
import t from 'tap'
import { createBus } from '../lib/testing/index.js'
import { presenceMember as member, presenceNode as node } from './helpers/presence.js'

t.test('two nodes on a bus list each other\'s users; a node that leaves takes its users with it', async (t) => {
  const bus = createBus()
  const a = await node(t, bus.backend({ heartbeatMs: 20 }))
  const b = await node(t, bus.backend({ heartbeatMs: 20 }))
  const ada = await member(t, a.url, 'ada')
  const bob = await member(t, b.url, 'bob')
  await ada.seen.until('ada,bob')
  await bob.seen.until('ada,bob')
  t.same(Object.keys(await a.hub.presence('room:1').list()).sort(), ['ada', 'bob'], 'server-side list is cluster-wide')
  const carl = await member(t, b.url, 'carl')
  await carl.seen.until('ada,bob,carl')
  await ada.seen.until('ada,bob,carl')
  await b.app.close()
  await ada.seen.until('ada')
  t.pass('the users of the closed node left')
})

t.test('after a bus outage, presence re-syncs: leaves and joins made during it reach the other node', async (t) => {
  const bus = createBus()
  const a = await node(t, bus.backend({ heartbeatMs: 20 }))
  const b = await node(t, bus.backend({ heartbeatMs: 20 }))
  const ada = await member(t, a.url, 'ada')
  const bob = await member(t, b.url, 'bob')
  await ada.seen.until('ada,bob')
  bus.outage()
  bob.socket.disconnect()
  const carl = await member(t, b.url, 'carl')
  await carl.seen.until('carl')
  t.equal(ada.seen.users(), 'ada,bob', 'during the outage the other node\'s changes cannot arrive')
  bus.restore()
  await ada.seen.until('ada,carl')
  await carl.seen.until('ada,carl')
  t.pass('both sides agree again')
})
