import 'reflect-metadata'
import { Presence as PhxPresence, type Channel as PhxChannel } from 'phoenix'
import t, { type Test } from 'tap'
import { Channel, type Backend } from '../lib/index.js'
import { createBus } from '../lib/testing/index.js'
import { build } from './helpers/build.js'
import { join, listen, phoenix } from './helpers/phoenix.js'

class Room extends Channel<{ id: string }, Record<string, unknown>, { user: string }> {
  override onJoin () {
    this.presence.track(this.assigns.user, { node: this.ws.nodeId })
    return {}
  }
}

async function node (t: Test, backend: Backend) {
  const app = await build(t, { backend })
  const hub = app.addWebSocketHub('/socket', { connect: (params) => ({ user: params.user }) })
  hub.channel('room:{id}', Room, { presence: { intervalMs: 5 } })
  return { app, hub, url: await listen(app) }
}

/** The phoenix client's Presence, and a wait for the users it lists. */
function watch (channel: PhxChannel) {
  const presence = new PhxPresence(channel)
  const waiters: Array<() => void> = []
  presence.onSync(() => { for (const w of waiters.splice(0)) w() })
  const users = (): string => presence.list((key: string) => key).sort().join()
  return {
    users,
    async until (expected: string) {
      while (users() !== expected) await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
}

async function member (t: Test, url: string, user: string, topic = 'room:1') {
  const socket = phoenix(t, url, { params: { user } })
  const channel = socket.channel(topic)
  const seen = watch(channel)
  t.equal((await join(channel)).status, 'ok', `${user} joined`)
  return { socket, channel, seen }
}

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
