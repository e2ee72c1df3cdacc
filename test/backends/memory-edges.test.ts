import 'reflect-metadata'
import t from 'tap'
import { MemoryBackend, WebSocketResource } from '../../lib/index.js'
import { seal, unseal } from '../../lib/backends/envelope.js'
import { connect } from '../../lib/testing/index.js'
import { build, until } from '../helpers/build.js'

class Member extends WebSocketResource {
  override async onConnect () { this.send({ type: 'welcome', payload: this.connection.id }) }
}

t.test('treats repeated and stray membership calls as no-ops', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/m', Member)
  const client = await connect(app, '/m')
  const id = (await client.expect('welcome')).payload as string
  const connection = app.ws.get(id)!
  await app.ws.joinRoom(id, 'r')
  await app.ws.joinRoom(id, 'r')
  await app.ws.leaveRoom(id, 'elsewhere')
  t.equal(await app.ws.roomSize('r'), 1)
  await app.ws.identify(id, 'ann')
  await app.ws.identify(id, 'ann')
  const found = []
  for await (const ref of app.ws.connections({ user: 'ann', room: 'other' })) found.push(ref)
  for await (const ref of app.ws.connections({ room: 'r', user: 'bob' })) found.push(ref)
  t.same(found, [], 'every filter field must match')
  await client.close()
  await until(() => app.ws.size === 0)
  await app.ws.joinRoom(connection, 'after')
  await app.ws.identify(connection, 'ghost')
  await app.ws.label(connection, 'late')
  t.equal(await app.ws.roomSize('after'), 0, 'a closed connection joins nothing')
  t.same([...connection.rooms], [])
  t.equal(connection.user, undefined)
  t.same([...connection.labels], [])
})

t.test('logs a backend that fails to unregister a connection, and still lets close finish', async (t) => {
  class Failing extends MemoryBackend {
    override async remove (connection: Parameters<MemoryBackend['remove']>[0]): Promise<void> {
      await super.remove(connection)
      throw new Error('store unreachable')
    }
  }
  const app = await build(t, { backend: new Failing() })
  app.addWebSocketRoute('/m', Member)
  const client = await connect(app, '/m')
  await client.expect('welcome')
  await client.close()
  await until(() => app.logs.some((l) => l.level === 50 && l.msg === 'backend failed to unregister the connection'))
  t.pass('logged')
})

t.test('seals and unseals cluster envelopes, refusing anything else', async (t) => {
  const frame = Buffer.from('{"type":"x"}')
  const { header, frame: back } = unseal(seal({ n: 'node', x: ['a'] }, frame))
  t.same(header, { n: 'node', x: ['a'] })
  t.equal(back.toString(), frame.toString())
  t.same(unseal(seal({ n: 'node' })).frame.length, 0)
  t.throws(() => unseal(Buffer.from('no newline')), /without a header line/)
  t.throws(() => unseal(Buffer.from('null\nx')), /malformed header/)
  t.throws(() => unseal(Buffer.from('"text"\nx')), /malformed header/)
  t.throws(() => unseal(Buffer.from('{"n":1}\nx')), /malformed header/)
})
