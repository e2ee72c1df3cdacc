import 'reflect-metadata'
import t from 'tap'
import { WebSocketResource } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

let release: () => void = () => {}

/** Holds its first message until released, so the rest queue up behind it. */
class Held extends WebSocketResource {
  static convention = 'any' as const
  async onWork (msg: { payload: number }) {
    if (msg.payload === 0) await new Promise<void>((resolve) => { release = resolve })
    this.send({ type: 'done', payload: msg.payload })
  }
}

const pausedOf = (socket: unknown): boolean => (socket as { isPaused: boolean }).isPaused

t.test('inboundQueue.maxFrames pauses the socket past the limit, counts it, and resumes once the queue halves; nothing is lost', async (t) => {
  const app = await build(t, { inboundQueue: { maxFrames: 4 } })
  app.addWebSocketRoute('/h', Held)
  const client = await connect(app, '/h')
  for (let i = 0; i < 10; i++) client.send({ type: 'work', payload: i })
  const [connection] = app.ws.local()
  await until(() => app.ws.metrics.inboundPaused === 1, 2000, 'the pause')
  t.equal(pausedOf(connection.socket), true)
  release()
  for (let i = 0; i < 10; i++) t.equal((await client.expect<{ payload: number }>('done')).payload, i)
  t.equal(pausedOf(connection.socket), false, 'resumed')
  t.equal(app.ws.metrics.inboundPaused, 1)
  await client.close()
})

t.test('inboundQueue.maxBytes pauses on queued bytes', async (t) => {
  const app = await build(t, { inboundQueue: { maxBytes: 100 } })
  app.addWebSocketRoute('/h', Held)
  const client = await connect(app, '/h')
  client.send({ type: 'work', payload: 0 })
  client.send({ type: 'work', payload: 1, pad: 'x'.repeat(200) })
  await until(() => app.ws.metrics.inboundPaused === 1, 2000, 'the pause')
  release()
  t.equal((await client.expect<{ payload: number }>('done')).payload, 0)
  t.equal((await client.expect<{ payload: number }>('done')).payload, 1)
  await client.close()
})
