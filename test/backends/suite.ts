import 'reflect-metadata'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { Type } from 'typebox'
import { message, WebSocketResource } from '../../lib/index.js'
import { connect, type TestConnection } from '../../lib/testing/index.js'
import { until, untilAsync } from '../helpers/build.js'

/*
 * The backend contract, run against every backend: memory (one node), the
 * in-process bus and real Redis (three Fastify instances each).
 */

/** Makes `nodes` apps that share one backend cluster, each with the plugin registered; closes them at teardown. */
export type ClusterFactory = (t: Test, nodes: number) => Promise<FastifyInstance[]>

class Member extends WebSocketResource {
  static schema = message('leave', Type.String())

  override async onConnect () {
    const { rooms, user, label } = this.request.query as { rooms?: string, user?: string, label?: string }
    for (const room of rooms?.split(',') ?? []) await this.join(room)
    if (user !== undefined) await this.identify(user)
    if (label !== undefined) await this.ws.label(this.connection, label)
    this.send({ type: 'welcome', payload: this.connection.id })
  }

  async onLeave (msg: { payload: string }) {
    await this.leave(msg.payload)
    this.send({ type: 'left' })
  }
}

type Client = TestConnection & { id: string }

async function cluster (t: Test, make: ClusterFactory, nodes: number) {
  const apps = await make(t, nodes)
  for (const app of apps) app.addWebSocketRoute('/m', Member)
  const join = async (node: number, query: Record<string, string> = {}): Promise<Client> => {
    const client = await connect(apps[node % apps.length], '/m', { query })
    const id = (await client.expect('welcome')).payload as string
    return Object.assign(client, { id })
  }
  const at = (node: number): FastifyInstance => apps[node % apps.length]
  return { apps, at, join, last: apps.length - 1 }
}

function count (client: TestConnection, type: string): number {
  return client.trace.filter((e) => e.direction === 'in' && (e.data as { type?: string }).type === type).length
}

async function collect<T> (iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

export function backendSuite (t: Test, name: string, make: ClusterFactory, nodes: number): void {
  t.test(`${name}: broadcasts to a room reach its members on every node exactly once`, async (t) => {
    const { at, join, last } = await cluster(t, make, nodes)
    const members = [await join(0, { rooms: 'r' }), await join(1, { rooms: 'r' }), await join(2, { rooms: 'r' })]
    const outsider = await join(last, { rooms: 'other' })
    await at(last).ws.broadcastToRoom('r', { type: 'news', payload: 1 })
    for (const member of members) t.equal((await member.expect('news')).payload, 1)
    await at(0).ws.broadcastToRoom('r', { type: 'sentinel' })
    for (const member of members) await member.expect('sentinel')
    for (const member of members) t.equal(count(member, 'news'), 1, 'exactly once')
    t.equal(count(outsider, 'news'), 0)
    await at(0).ws.broadcastToRoom('r', { type: 'some' }, { exclude: [members[1].id, members[2].id] })
    await members[0].expect('some')
    await at(0).ws.broadcastToAll({ type: 'everyone' }, { exclude: members[0].id })
    for (const client of [members[1], members[2], outsider]) await client.expect('everyone')
    await at(0).ws.broadcastToRoom('r', { type: 'sentinel2' })
    for (const member of members) await member.expect('sentinel2')
    t.equal(count(members[1], 'some') + count(members[2], 'some'), 0, 'excluded ids are excluded on every node')
    t.equal(count(members[0], 'everyone'), 0)
  })

  t.test(`${name}: sends to one connection on any node, and rejects for unknown ids`, async (t) => {
    const { at, join, last } = await cluster(t, make, nodes)
    const target = await join(last)
    await at(0).ws.sendTo(target.id, { type: 'direct', payload: 'hi' })
    t.equal((await target.expect('direct')).payload, 'hi')
    await t.rejects(at(0).ws.sendTo(`${at(last).ws.nodeId}.unknown`, { type: 'x' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
    await t.rejects(at(0).ws.sendTo('nonode.unknown', { type: 'x' }), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
    await at(0).ws.disconnect(target.id, 4001, 'from afar')
    t.same(await target.closed, { code: 4001, reason: 'from afar' })
    await t.rejects(at(0).ws.disconnect(`${at(last).ws.nodeId}.unknown`), { code: 'FST_PACHINKO_CONNECTION_NOT_FOUND' })
  })

  t.test(`${name}: reaches every tab of a user on every node, and disconnects them all`, async (t) => {
    const { at, join, last } = await cluster(t, make, nodes)
    const tabs = [await join(0, { user: 'ann' }), await join(last, { user: 'ann' })]
    const bob = await join(1, { user: 'bob' })
    await at(1).ws.sendToUser('ann', { type: 'dm', payload: 'for ann' })
    for (const tab of tabs) t.equal((await tab.expect('dm')).payload, 'for ann')
    t.same((await collect(at(0).ws.connections({ user: 'ann' }))).map((r) => r.id).sort(), tabs.map((c) => c.id).sort())
    t.equal(await at(1).ws.disconnectUser('nobody'), 0)
    t.equal(await at(1).ws.disconnectUser('ann', 4002, 'bye'), 2)
    for (const tab of tabs) t.same(await tab.closed, { code: 4002, reason: 'bye' })
    await at(0).ws.sendToUser('bob', { type: 'dm', payload: 'for bob' })
    t.equal((await bob.expect('dm')).payload, 'for bob')
    t.equal(count(bob, 'dm'), 1)
  })

  t.test(`${name}: answers queries for the whole cluster`, async (t) => {
    const { apps, at, join, last } = await cluster(t, make, nodes)
    const a = await join(0, { rooms: 'game:1,lobby', label: 'admin' })
    const b = await join(1, { rooms: 'game:2', user: 'bob' })
    const c = await join(last, { rooms: 'game:1' })
    const asker = at(last)
    t.equal(await asker.ws.count(), 3)
    t.equal(await asker.ws.roomSize('game:1'), 2)
    t.equal(await asker.ws.roomSize('nowhere'), 0)
    t.same((await asker.ws.roomsOf(a.id)).sort(), ['game:1', 'lobby'])
    t.same(await asker.ws.roomsOf(b.id), ['game:2'])
    t.same(await asker.ws.roomsOf('nonode.unknown'), [])
    t.same((await asker.ws.roomsByPrefix('game:')).sort(), ['game:1', 'game:2'])
    t.same((await collect(asker.ws.connectionsInRoom('game:1'))).map((r) => r.id).sort(), [a.id, c.id].sort())
    const admins = await collect(asker.ws.connections({ label: 'admin' }))
    t.equal(admins.length, 1)
    t.match(admins[0], { id: a.id, nodeId: at(0).ws.nodeId, labels: ['admin'], local: apps.length === 1 })
    t.same((await collect(asker.ws.connections())).length, 3)
    const [bobRef] = await collect(asker.ws.connections({ user: 'bob' }))
    await bobRef.send({ type: 'via-ref' })
    await b.expect('via-ref')
    await bobRef.close(4003, 'via ref')
    t.equal((await b.closed).code, 4003)
    await until(() => apps[1 % apps.length].ws.size === (apps.length === 1 ? 2 : 0), 2000, 'b gone')
    await untilAsync(async () => await asker.ws.count() === 2)
  })

  t.test(`${name}: forgets what leaves: rooms emptied by leave and disconnect no longer count`, async (t) => {
    const { at, join, last } = await cluster(t, make, nodes)
    const a = await join(0, { rooms: 'r' })
    const b = await join(last, { rooms: 'r' })
    t.equal(await at(1).ws.roomSize('r'), 2)
    b.send({ type: 'leave', payload: 'r' })
    await b.expect('left')
    t.equal(await at(0).ws.roomSize('r'), 1)
    await a.close()
    await until(() => at(0).ws.get(a.id) === undefined)
    t.equal(await at(last).ws.roomSize('r'), 0)
    t.same(await at(last).ws.roomsByPrefix(''), [])
    await at(last).ws.broadcastToRoom('r', { type: 'nobody' })
    t.equal(count(b, 'nobody'), 0)
  })
}
