import 'reflect-metadata'
import t from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build } from '../test/helpers/build.js'

class M extends WebSocketResource { async onConnect () { await this.join('lobby'); this.send({ type: 'welcome', payload: this.connection.id }) } }
t.test('w', async (t) => {
  const keep = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(keep))
  const app = await build(t, { backpressure: { highWaterMark: 16 * 1024, policy: 'wait', sendTimeoutMs: 500 } })
  app.addWebSocketRoute('/m', M)
  const slow = await connect(app, '/m')
  const id = (await slow.expect('welcome')).payload
  slow.socket.pause()
  const c = app.ws.get(id)!
  const frame = JSON.stringify({ type: 'blob', payload: 'x'.repeat(4096) })
  while (c.bufferedAmount <= 80 * 1024) c.socket.send(frame)
  console.error('buffered', c.bufferedAmount, (c.rawSocket as any)._writableState.needDrain)
  const p = app.ws.broadcastToRoom('lobby', { type: 'waited' })
  setTimeout(() => { console.error('resume', c.bufferedAmount); slow.socket.resume() }, 50)
  setTimeout(() => { console.error('later', c.bufferedAmount, (c.rawSocket as any)._writableState.needDrain, (slow.socket as any)._socket.isPaused?.()) }, 150)
  await p.then(() => console.error('resolved'), (e) => console.error('rejected', e.message))
})
