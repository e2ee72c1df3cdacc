import 'reflect-metadata'
import t from 'tap'
import { WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import { WebSocketResource } from '../lib/index.js'
import { connect, UpgradeRefusedError } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

class Echo extends WebSocketResource {
  static convention = 'any' as const
  onEcho (msg: { payload: unknown }) { this.send({ type: 'echo', payload: msg.payload }) }
}

t.test('maxConnections counts in-process sockets until they close (HTTP 503 beyond it)', async (t) => {
  const app = await build(t, { maxConnections: 1 })
  app.addWebSocketRoute('/e', Echo)
  const a = await connect(app, '/e')
  await t.rejects(connect(app, '/e'), new UpgradeRefusedError(503))
  await a.close()
  const b = await connect(app, '/e')
  b.send({ type: 'echo', payload: 1 })
  t.equal((await b.expect('echo')).payload, 1)
  t.equal(app.ws.metrics.upgradesRefused, 1)
})
