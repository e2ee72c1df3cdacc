import 'reflect-metadata'
import t from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build } from '../test/helpers/build.js'

class M extends WebSocketResource { async onConnect () { await this.join('lobby'); this.send({ type: 'welcome', payload: this.connection.id }) } }
t.test('w', async (t) => {
  const app = await build(t, { backpressure: { highWaterMark: 16 * 1024, policy: 'wait', sendTimeoutMs: 200 } })
  app.addWebSocketRoute('/m', M)
  const slow = await connect(app, '/m')
  const id = (await slow.expect('welcome')).payload
  const fast = await connect(app, '/m')
  await fast.expect('welcome')
  slow.socket.pause()
  const c = app.ws.get(id)!
  const frame = JSON.stringify({ type: 'blob', payload: 'x'.repeat(4096) })
  while (c.bufferedAmount <= 80 * 1024) c.socket.send(frame)
  const p = app.ws.broadcastToRoom('lobby', { type: 'waited' })
  console.error('A')
  await fast.expect('waited')
  console.error('B')
  setTimeout(() => { console.error('resume', c.bufferedAmount); slow.socket.resume() }, 50)
  await p.then(() => console.error('resolved'), (e) => console.error('rejected', e.message))
  await slow.expect('waited')
  console.error('C')
  slow.socket.pause()
  while (c.bufferedAmount <= 80 * 1024) c.socket.send(frame)
  console.error('D')
  await app.ws.broadcastToRoom('lobby', { type: 'too-late' }).then(() => console.error('resolved2'), (e) => console.error('rejected2', e.message))
})
