import t from 'tap'
import * as hub from '../../bench/contenders/pachinko-hub.js'
import { connectClient } from '../../bench/load/client.js'

/* Contender 4h speaks the bench protocol through the load generator's `phoenix` client kind. */

t.test('pachinko-hub speaks the bench protocol over the Phoenix channel protocol', async (t) => {
  const server = await hub.start()
  t.teardown(() => server.close())
  const url = `ws://127.0.0.1:${server.port}${server.path}`
  const inbox = (): { frames: Array<[string, any]>, next: () => Promise<[string, any]>, on: (type: string, body: any) => void } => {
    const frames: Array<[string, any]> = []
    const waiting: Array<(frame: [string, any]) => void> = []
    return {
      frames,
      on: (type, body) => { const w = waiting.shift(); if (w !== undefined) w([type, body]); else frames.push([type, body]) },
      next: async () => frames.length > 0 ? frames.shift() as [string, any] : await new Promise((resolve) => waiting.push(resolve))
    }
  }
  const a = inbox()
  const b = inbox()
  const alice = await connectClient({ kind: 'phoenix', url }, a.on)
  const bob = await connectClient({ kind: 'phoenix', url }, b.on)
  alice.send('join', { room: 'r' })
  bob.send('join', { room: 'r' })
  t.same(await a.next(), ['joined', { room: 'r' }])
  t.same(await b.next(), ['joined', { room: 'r' }])
  alice.send('echo', { seq: 1, text: 'x' })
  t.same(await a.next(), ['echo', { seq: 1, text: 'x' }])
  alice.send('echo', { seq: 'no', text: 'x' })
  t.match(await a.next(), ['error', { reason: 'validation', code: 'VALIDATION' }])
  const said = { room: 'r', text: 'hi', sentAt: 1 }
  bob.send('say', said)
  t.same(await a.next(), ['said', said])
  t.same(await b.next(), ['said', said], 'the sender is a member too; the reply to its say is dropped')
  t.equal(server.connections(), 2)
  await alice.close()
  await bob.close()
  await alice.close()
})

t.test('an echo before any join joins a topic of its own first, as the echo scenario needs', async (t) => {
  const server = await hub.start()
  t.teardown(() => server.close())
  const frames: Array<[string, any]> = []
  let arrived: () => void = () => {}
  const client = await connectClient({ kind: 'phoenix', url: `ws://127.0.0.1:${server.port}${server.path}` }, (type, body) => {
    frames.push([type, body])
    arrived()
  })
  const two = new Promise<void>((resolve) => { arrived = () => { if (frames.length === 2) resolve() } })
  client.send('echo', { seq: 1, text: 'x' })
  client.send('echo', { seq: 2, text: 'y' })
  await two
  t.same(frames, [['echo', { seq: 1, text: 'x' }], ['echo', { seq: 2, text: 'y' }]], 'the join\'s own reply is not reported')
  await client.close()
})
