import 'reflect-metadata'
import t from 'tap'
import { Channel, handlesEvent } from '../lib/index.js'
import { build } from './helpers/build.js'
import { listen, rawClient } from './helpers/phoenix.js'

class Room extends Channel {
  @handlesEvent('ping')
  ping () { return { pong: true } }
}

const limited = (f: any): boolean => f[3] === 'phx_reply' && f[4].status === 'error' && f[4].response.code === 'RATE_LIMITED'

t.test('events and joins have buckets of their own; heartbeats are free; other sockets are unaffected', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket', { rateLimit: { messages: 5, perMs: 60_000, closeAfter: false, joins: { messages: 2, perMs: 60_000, closeAfter: false } } })
    .channel('room:{id}', Room)
  const url = await listen(app)
  const flood = await rawClient(t, url)
  for (let i = 0; i < 20; i++) flood.send([null, `h${i}`, 'phoenix', 'heartbeat', {}])
  for (let i = 0; i < 20; i++) t.equal((await flood.reply(`h${i}`))[4].status, 'ok')
  for (const id of ['1', '2', '3']) flood.send([id, id, `room:${id}`, 'phx_join', {}])
  t.equal((await flood.reply('1'))[4].status, 'ok')
  t.equal((await flood.reply('2'))[4].status, 'ok')
  const refused = await flood.reply('3')
  t.match(refused[4], { status: 'error', response: { reason: 'rate limited', code: 'RATE_LIMITED', retryAfterMs: Number } })
  for (let i = 0; i < 8; i++) flood.send(['1', `p${i}`, 'room:1', 'ping', {}])
  const replies = []
  for (let i = 0; i < 8; i++) replies.push(await flood.reply(`p${i}`))
  t.same(replies.map((r) => r[4].status), ['ok', 'ok', 'ok', 'ok', 'ok', 'error', 'error', 'error'], 'events past the bucket are refused, not dispatched')
  t.ok(replies.slice(5).every(limited))
  t.equal(app.ws.metrics.messagesLimited, 4)
  const other = await rawClient(t, url)
  other.send(['1', '1', 'room:1', 'phx_join', {}])
  t.equal((await other.reply('1'))[4].status, 'ok', 'another socket has its own buckets')
  other.send(['1', '2', 'room:1', 'ping', {}])
  t.same((await other.reply('2'))[4], { status: 'ok', response: { pong: true } })
})

t.test('sustained abuse closes with 1008; the plugin\'s rateLimit applies to hubs; false turns it off', async (t) => {
  const app = await build(t, { rateLimit: { messages: 1, perMs: 60_000, closeAfter: 2 } })
  app.addWebSocketHub('/socket').channel('room:{id}', Room)
  app.addWebSocketHub('/free', { rateLimit: false }).channel('room:{id}', Room)
  t.throws(() => app.addWebSocketHub('/bad', { rateLimit: { messages: 0, perMs: 1 } }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  const url = await listen(app, '')
  const abuser = await rawClient(t, `${url}/socket`)
  for (let i = 0; i < 4; i++) abuser.send([`${i}`, `${i}`, `room:${i}`, 'phx_join', {}])
  t.equal((await abuser.closed).code, 1008)
  t.equal(app.ws.metrics.rateLimitCloses, 1)
  const free = await rawClient(t, `${url}/free`)
  for (let i = 0; i < 4; i++) free.send([`${i}`, `${i}`, `room:${i}`, 'phx_join', {}])
  for (let i = 0; i < 4; i++) t.equal((await free.reply(`${i}`))[4].status, 'ok')
})
