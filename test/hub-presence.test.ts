import 'reflect-metadata'
import { Presence as PhxPresence, type Channel as PhxChannel } from 'phoenix'
import t from 'tap'
import { Type } from 'typebox'
import { Channel, handlesEvent, type PresenceList } from '../lib/index.js'
import { build } from './helpers/build.js'
import { join, listen, phoenix, push, rawClient } from './helpers/phoenix.js'

class Room extends Channel<{ id: string }, Record<string, unknown>, { user: string }> {
  override onJoin (payload: Record<string, unknown>) {
    if (payload.watch !== true) this.presence.track(this.assigns.user, { device: payload.device ?? 'web' })
    return {}
  }

  @handlesEvent('status', Type.Object({ status: Type.String() }))
  status (payload: { status: string }) {
    return { ref: this.presence.update(this.assigns.user, { status: payload.status }) ?? null }
  }

  @handlesEvent('away')
  away () {
    return { untracked: this.presence.untrack(this.assigns.user) }
  }

  @handlesEvent('again')
  again () {
    return { ref: this.presence.track(this.assigns.user, { again: true }) }
  }

  @handlesEvent('who')
  async who () {
    return await this.presence.list()
  }
}

class Plain extends Channel {
  override onJoin () {
    this.presence.track('x')
  }
}

class Quiet extends Channel {}

async function app (t: Parameters<typeof build>[0], intervalMs = 5) {
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket', { connect: (params) => ({ user: params.user }) })
  hub.channel('room:{id}', Room, { presence: { intervalMs } })
  hub.channel('plain:{id}', Plain)
  hub.channel('quiet:{id}', Quiet)
  return { app, hub, url: await listen(app) }
}

/** The phoenix client's Presence on a channel, with a way to wait for the list to look some way. */
function watch (channel: PhxChannel) {
  const presence = new PhxPresence(channel)
  const waiters: Array<() => void> = []
  presence.onSync(() => { for (const w of waiters.splice(0)) w() })
  return {
    presence,
    users: () => presence.list((key: string, p: { metas: unknown[] }) => `${key}×${p.metas.length}`).sort(),
    async until (predicate: () => boolean) {
      while (!predicate()) await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
}

t.test('the phoenix client\'s Presence lists who is online: joins, a second device, leave, disconnect', async (t) => {
  const { url } = await app(t)
  const ada = phoenix(t, url, { params: { user: 'ada' } })
  const bob = phoenix(t, url, { params: { user: 'bob' } })
  const bob2 = phoenix(t, url, { params: { user: 'bob' } })
  const adaRoom = ada.channel('room:1', { device: 'laptop' })
  const seen = watch(adaRoom)
  t.equal((await join(adaRoom)).status, 'ok')
  await seen.until(() => seen.users().join() === 'ada×1')
  const bobRoom = bob.channel('room:1')
  const bobSeen = watch(bobRoom)
  await join(bobRoom)
  await seen.until(() => seen.users().join() === 'ada×1,bob×1')
  await bobSeen.until(() => bobSeen.users().join() === 'ada×1,bob×1')
  const laptop = seen.presence.list((key: string, p: any) => p.metas.map((m: any) => m.device)).flat()
  t.same(laptop.sort(), ['laptop', 'web'], 'metas carry what was tracked')
  await join(bob2.channel('room:1', { device: 'phone' }))
  await seen.until(() => seen.users().join() === 'ada×1,bob×2')
  await new Promise<void>((resolve) => bobRoom.leave().receive('ok', () => resolve()))
  await seen.until(() => seen.users().join() === 'ada×1,bob×1')
  bob2.disconnect()
  await seen.until(() => seen.users().join() === 'ada×1')
  t.pass('a leave and a disconnect untrack')
})

t.test('an update is a leave of the old meta and a join with phx_ref_prev; untrack and track again', async (t) => {
  const { url } = await app(t)
  const watcher = await rawClient(t, url, 'vsn=2.0.0&user=eve')
  watcher.send(['1', '1', 'room:1', 'phx_join', { watch: true }])
  await watcher.reply('1')
  const state = await watcher.take((f) => f[3] === 'presence_state')
  t.same(state, ['1', null, 'room:1', 'presence_state', {}], 'the state is pushed with the join ref')
  const ada = phoenix(t, url, { params: { user: 'ada' } })
  const room = ada.channel('room:1')
  await join(room)
  const joined = await watcher.take((f) => f[3] === 'presence_diff')
  t.equal(joined[0], null, 'diffs are broadcasts')
  const first = joined[4].joins.ada.metas[0]
  t.match(first, { device: 'web', phx_ref: String })
  t.same(joined[4].leaves, {})
  const updated = await push(room, 'status', { status: 'away' })
  const diff = (await watcher.take((f) => f[3] === 'presence_diff'))[4]
  t.same(diff.leaves, { ada: { metas: [first] } })
  t.same(diff.joins, { ada: { metas: [{ status: 'away', phx_ref: updated.response.ref, phx_ref_prev: first.phx_ref }] } })
  t.same((await push(room, 'away')).response, { untracked: true })
  t.same(Object.keys((await watcher.take((f) => f[3] === 'presence_diff'))[4].leaves), ['ada'])
  t.same((await push(room, 'away')).response, { untracked: false }, 'nothing left to untrack')
  t.same((await push(room, 'status', { status: 'x' })).response, { ref: null }, 'updating an untracked key does nothing')
  const again = (await push(room, 'again')).response.ref
  const rejoined = (await watcher.take((f) => f[3] === 'presence_diff'))[4]
  t.same(rejoined.joins.ada.metas, [{ again: true, phx_ref: again }])
  const twice = (await push(room, 'again')).response.ref
  const diff2 = (await watcher.take((f) => f[3] === 'presence_diff'))[4]
  t.same(diff2.joins.ada.metas[0].phx_ref_prev, again, 'tracking a tracked key updates it')
  t.equal(diff2.joins.ada.metas[0].phx_ref, twice)
  const list = (await push(room, 'who')).response as PresenceList
  t.same(Object.keys(list), ['ada'])
})

t.test('every join gets presence_state, rejoins too', async (t) => {
  const { url } = await app(t)
  const raw = await rawClient(t, url, 'vsn=2.0.0&user=zed')
  raw.send(['1', '1', 'room:9', 'phx_join', {}])
  await raw.reply('1')
  t.same(Object.keys((await raw.take((f) => f[3] === 'presence_state'))[4]), ['zed'])
  raw.send(['2', '2', 'room:9', 'phx_join', {}])
  await raw.reply('2')
  const state = await raw.take((f) => f[3] === 'presence_state' && f[0] === '2')
  t.equal(state[4].zed.metas.length, 1, 'the old channel\'s presence left, the new one\'s is there')
  raw.send(['2', '3', 'room:9', 'phx_leave', {}])
  await raw.reply('3')
})

t.test('a burst of joins is one diff per interval, not one per join', async (t) => {
  const { hub, url } = await app(t, 50)
  const raw = await rawClient(t, url, 'vsn=2.0.0&user=w')
  raw.send(['1', '1', 'room:big', 'phx_join', { watch: true }])
  await raw.reply('1')
  await raw.take((f) => f[3] === 'presence_state')
  const server = hub.presence('room:big')
  for (let i = 0; i < 1000; i++) server.track(`u${i}`, { i })
  const diff = await raw.take((f) => f[3] === 'presence_diff')
  t.equal(Object.keys(diff[4].joins).length, 1000, 'all 1000 joins in one frame')
  t.equal(Object.keys(await server.list()).length, 1000)
  server.update('u1', { i: -1 })
  t.equal(server.update('nobody', {}), undefined)
  t.equal(server.untrack('u2'), true)
  t.equal(server.untrack('u2'), false)
  const next = (await raw.take((f) => f[3] === 'presence_diff'))[4]
  t.same(Object.keys(next.joins), ['u1'])
  t.same(Object.keys(next.leaves).sort(), ['u1', 'u2'])
  t.equal(raw.frames.filter((f: any) => f[3] === 'presence_diff').length, 0, 'no other diff')
})

t.test('keys like __proto__ are ordinary keys; bad keys and metas are coded errors', async (t) => {
  const { hub, url } = await app(t, 0)
  const server = hub.presence('room:odd')
  server.track('__proto__', { a: 1 })
  server.track('constructor')
  const list = await server.list()
  t.same(Object.keys(list).sort(), ['__proto__', 'constructor'])
  t.equal(Object.getPrototypeOf(list), null)
  t.throws(() => server.track('', {}), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => server.track(1 as never, {}), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => server.track('x'.repeat(2000), {}), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => server.track('k', [] as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => server.track('k', null as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  t.throws(() => server.track('k', cyclic), { code: 'FST_PACHINKO_HUB_NOT_SERIALIZABLE' })
  t.throws(() => hub.presence('plain:1'), { code: 'FST_PACHINKO_HUB_PRESENCE_OFF' })
  t.throws(() => hub.presence('nothing'), { code: 'FST_PACHINKO_HUB_PRESENCE_OFF' })
  t.throws(() => hub.presence(5 as never), { code: 'FST_PACHINKO_HUB_PRESENCE_OFF' })
  const raw = await rawClient(t, url, 'vsn=2.0.0&user=p')
  raw.send(['0', '0', 'quiet:1', 'phx_join', {}])
  await raw.reply('0')
  raw.send(['0', 'l', 'quiet:1', 'phx_leave', {}])
  await raw.reply('l')
  t.notOk(raw.frames.some((f: any) => f[3] === 'presence_state'), 'a channel without presence gets no presence_state')
  raw.send(['1', '1', 'plain:1', 'phx_join', {}])
  const reply = await raw.reply('1')
  t.same(reply[4], { status: 'error', response: { reason: 'internal' } }, 'this.presence without { presence: true } fails the join')
  const watcher = await rawClient(t, url, 'vsn=2.0.0&user=q')
  watcher.send(['1', '1', 'room:odd', 'phx_join', { watch: true }])
  await watcher.reply('1')
  const state = (await watcher.take((f) => f[3] === 'presence_state'))[4]
  t.same(Object.keys(state).sort(), ['__proto__', 'constructor'], 'the wire carries them as keys')
})

t.test('presence options are checked at declaration', async (t) => {
  const app = await build(t)
  const hub = app.addWebSocketHub('/socket')
  for (const presence of [null, 1, 'yes', [], { intervalMs: -1 }, { intervalMs: 1.5 }, { intervalMs: 'x' }, { intervalMs: 70_000 }]) {
    t.throws(() => hub.channel(`t${String(Math.random())}`, Room, { presence } as never), { code: 'FST_PACHINKO_OPTION_INVALID' }, JSON.stringify(presence))
  }
  hub.channel('off', Room, { presence: false })
  hub.channel('on', Room, { presence: true })
  hub.channel('other', Room, { presence: {} })
  t.throws(() => hub.presence('off'), { code: 'FST_PACHINKO_HUB_PRESENCE_OFF' })
  t.same(await hub.presence('on').list(), {})
  t.same(await hub.presence('other').list(), {})
})

t.test('an included hub reaches the presence of its parent; an unserved one throws', async (t) => {
  const { WebSocketHub } = await import('../lib/index.js')
  const app = await build(t)
  const parent = app.addWebSocketHub('/socket')
  const admin = new WebSocketHub()
  t.throws(() => admin.presence('room:1'), { code: 'FST_PACHINKO_HUB_NOT_SERVED' })
  admin.channel('room:{id}', Room, { presence: true })
  parent.include(admin, { prefix: 'admin:' })
  admin.presence('room:1').track('root')
  t.same(Object.keys(await parent.presence('admin:room:1').list()), ['root'])
})

t.test('closing the app stops the flushes; tracking after it is harmless', async (t) => {
  const served = await app(t, 1000)
  served.hub.presence('room:1').track('late')
  await served.app.close()
  t.ok(served.hub.presence('room:1').track('later'), 'still answers with a ref, and schedules nothing')
  t.same(Object.keys(await served.hub.presence('room:1').list()).sort(), ['late', 'later'])
})
