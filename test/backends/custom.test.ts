import 'reflect-metadata'
import t from 'tap'
import type { Backend, BackendContext, Connection, ConnectionFilter, ConnectionRef, DeliveryOptions, Target } from '../../lib/index.js'
import { errors, handlesMessage, WebSocketResource } from '../../lib/index.js'
import { connect } from '../../lib/testing/index.js'
import { build } from '../helpers/build.js'
import { backendSuite } from './suite.js'

/*
 * A backend a user could write: only the exported types and the context the
 * plugin hands it, nothing of MemoryBackend's. It passes the same contract
 * suite as the library's own backends.
 */
class SetBackend implements Backend {
  readonly name = 'sets'
  private context!: BackendContext
  private readonly rooms = new Map<string, Set<Connection>>()
  failJoins = false

  async start (context: BackendContext): Promise<void> {
    this.context = context
  }

  async close (): Promise<void> {}

  add (): void {}

  async remove (connection: Connection): Promise<void> {
    for (const room of connection.rooms) this.rooms.get(room)?.delete(connection)
  }

  async join (connection: Connection, room: string): Promise<void> {
    if (this.failJoins) throw new Error('store down')
    const members = this.rooms.get(room) ?? new Set()
    members.add(connection)
    this.rooms.set(room, members)
  }

  async leave (connection: Connection, room: string): Promise<void> {
    this.rooms.get(room)?.delete(connection)
  }

  async identify (): Promise<void> {
    if (this.failJoins) throw new Error('store down')
  }

  async label (): Promise<void> {
    if (this.failJoins) throw new Error('store down')
  }

  async publish (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> {
    await this.context.deliver(this.recipients(target), frame, options)
  }

  async sendTo (id: string, frame: Buffer, options: DeliveryOptions): Promise<void> {
    const connection = this.context.local.get(id)
    if (connection === undefined) throw new errors.ERR_CONNECTION_NOT_FOUND(id)
    await this.context.deliverOne(connection, frame, options)
  }

  async disconnect (id: string, code: number, reason: string): Promise<void> {
    const connection = this.context.local.get(id)
    if (connection === undefined) throw new errors.ERR_CONNECTION_NOT_FOUND(id)
    connection.close(code, reason)
  }

  async disconnectUser (user: string, code: number, reason: string): Promise<number> {
    const devices = [...this.context.local.values()].filter((c) => c.user === user)
    for (const connection of devices) connection.close(code, reason)
    return devices.length
  }

  async roomSize (room: string): Promise<number> {
    return this.rooms.get(room)?.size ?? 0
  }

  async roomsOf (id: string): Promise<string[]> {
    return [...(this.context.local.get(id)?.rooms ?? [])]
  }

  async roomsByPrefix (prefix: string): Promise<string[]> {
    return [...this.rooms].filter(([room, members]) => members.size > 0 && room.startsWith(prefix)).map(([room]) => room)
  }

  async count (): Promise<number> {
    return this.context.local.size
  }

  async * connections (filter: ConnectionFilter): AsyncIterable<ConnectionRef> {
    for (const connection of this.context.local.values()) {
      if (filter.room !== undefined && !connection.rooms.has(filter.room)) continue
      if (filter.user !== undefined && connection.user !== filter.user) continue
      if (filter.label !== undefined && !connection.labels.has(filter.label)) continue
      yield this.context.refOf(connection)
    }
  }

  private recipients (target: Target): Iterable<Connection> {
    if (target.kind === 'room') return this.rooms.get(target.room) ?? []
    const all = [...this.context.local.values()]
    return target.kind === 'user' ? all.filter((c) => c.user === target.user) : all
  }
}

backendSuite(t, 'a backend written against the exported types', async (t) => [await build(t, { backend: new SetBackend() })], 1)

class Joiner extends WebSocketResource {
  @handlesMessage('join')
  async joinRoom (msg: { payload: string }) {
    await this.join(msg.payload).catch((err: Error) => this.send({ type: 'failed', payload: err.message }))
    this.send({ type: 'rooms', payload: [...this.connection.rooms] })
  }
}

t.test('undoes the recorded membership when the backend refuses a join, and snapshot() counts what the manager recorded', async (t) => {
  const backend = new SetBackend()
  const app = await build(t, { backend })
  app.addWebSocketRoute('/j', Joiner)
  const client = await connect(app, '/j')
  client.send({ type: 'join', payload: 'a' })
  t.same((await client.expect('rooms')).payload, ['a'])
  t.equal(app.ws.snapshot().rooms, 1)
  backend.failJoins = true
  client.send({ type: 'join', payload: 'b' })
  t.equal((await client.expect('failed')).payload, 'store down')
  t.same((await client.expect('rooms')).payload, ['a'], 'the refused room is not recorded')
  t.equal(app.ws.snapshot().rooms, 1)
  const [connection] = app.ws.local()
  await t.rejects(app.ws.identify(connection, 'ann'), { message: 'store down' })
  t.equal(connection.user, undefined, 'the refused identity is not recorded')
  await t.rejects(app.ws.label(connection, 'vip'), { message: 'store down' })
  t.same([...connection.labels], [], 'the refused label is not recorded')
})
