import t from 'tap'
import type { ContenderServer } from '../../bench/contenders/contender.js'
import * as pachinko from '../../bench/contenders/pachinko.js'
import * as pachinkoDeflate from '../../bench/contenders/pachinko-deflate.js'
import * as socketio from '../../bench/contenders/socketio.js'
import { connectClient, type Target } from '../../bench/load/client.js'

/* The load generator's own client, each kind against a contender that speaks it: join, echo, a ref'd echo, say. */

const kinds: Array<[Target['kind'], { start: () => Promise<ContenderServer> }, string]> = [
  ['ws', pachinko, 'ws'], ['ws-deflate', pachinkoDeflate, 'ws'], ['socket.io', socketio, 'http']
]

for (const [kind, contender, scheme] of kinds) {
  t.test(`the ${kind} client speaks the bench protocol`, async (t) => {
    const server = await contender.start()
    t.teardown(() => server.close())
    const frames: Array<[string, unknown]> = []
    const waiting: Array<(frame: [string, unknown]) => void> = []
    const next = async (): Promise<[string, unknown]> => frames.shift() ?? await new Promise((resolve) => waiting.push(resolve))
    const client = await connectClient({ kind, url: `${scheme}://127.0.0.1:${server.port}${kind === 'socket.io' ? '' : server.path}` }, (type, body) => {
      const waiter = waiting.shift()
      if (waiter !== undefined) waiter([type, body])
      else frames.push([type, body])
    })
    client.send('join', { room: 'r' })
    t.same(await next(), ['joined', { room: 'r' }])
    client.send('echo', { seq: 1, text: 'x' })
    t.same(await next(), ['echo', { seq: 1, text: 'x' }])
    const said = { room: 'r', text: 'hi', sentAt: 1 }
    client.send('say', said)
    t.same(await next(), ['said', said])
    if (kind !== 'socket.io') {
      client.send('echo', { seq: 'not a number', text: 'x' })
      t.match(await next(), ['error', { code: 'VALIDATION' }], 'an error frame reaches the handler as its error')
      client.send('echo', { seq: 2, text: 'a' }, 7)            // two sends in one turn share the cork
      client.send('echo', { seq: 3, text: 'b' })
      t.same(await next(), ['echo', { seq: 2, text: 'a' }])
      t.match(await next(), ['reply'], 'a ref makes it a request: the reply frame follows')
      t.same(await next(), ['echo', { seq: 3, text: 'b' }])
    }
    await client.close()
  })
}
