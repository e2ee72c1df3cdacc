import 'reflect-metadata'
import t from 'tap'
import { Type } from 'typebox'
import { Channel, handlesEvent } from '../lib/index.js'
import { build } from './helpers/build.js'
import { join, listen, phoenix, push, rawClient } from './helpers/phoenix.js'

class Room extends Channel<{ id: string }> {
  @handlesEvent('say', Type.Object({ text: Type.String() }))
  say (payload: { text: string }) {
    return { echoed: payload.text, proto: Object.getPrototypeOf(payload) === Object.prototype }
  }

  @handlesEvent('loose')
  loose (payload: Record<string, unknown>) {
    return { keys: Object.keys(payload) }
  }
}

t.test('a hostile client gets clear answers, and the server and other clients carry on', async (t) => {
  const app = await build(t)
  app.addWebSocketHub('/socket', { maxTopicLength: 64 }).channel('room:{id}', Room)
  const url = await listen(app)
  const bystander = phoenix(t, url)
  const room = bystander.channel('room:1')
  await join(room)
  const evil = await rawClient(t, url)

  // not a Phoenix message: nothing to correlate an answer with; ignored, the connection stays open
  for (const frame of ['not json', '{"topic":"room:1"}', '42', 'null', '[1,2,3]', '[]']) evil.send(frame)
  // answerable when the frame still names its ref and topic
  evil.send(['j', 'r1', 'room:1', 'phx_join', 'not an object'])
  t.same(await evil.reply('r1'), [null, 'r1', 'room:1', 'phx_reply', { status: 'error', response: { reason: 'payload must be an object' } }])
  evil.send([{}, 'r2', 'room:1', 'phx_join', {}])
  t.same(await evil.reply('r2'), [null, 'r2', 'room:1', 'phx_reply', { status: 'error', response: { reason: 'join_ref must be a string, a number or null' } }])
  evil.send([null, 'r3', 'room:1', '', {}])
  t.same((await evil.reply('r3'))[4].response, { reason: 'event must be a non-empty string' })
  evil.send([null, { ref: 1 }, 'room:1', 'phx_join', {}])
  evil.send([null, 'x'.repeat(300), 'room:1', 'phx_join', {}])
  // numeric refs are echoed verbatim, as Phoenix does
  evil.send([7, 7, 'room:2', 'phx_join', {}, 'extra elements are ignored'])
  t.same(await evil.reply(7), [7, 7, 'room:2', 'phx_reply', { status: 'ok', response: {} }])
  // events for topics not joined
  evil.send([null, 'u', 'room:99', 'say', { text: 'hi' }])
  t.same(await evil.reply('u'), [null, 'u', 'room:99', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }])
  // giant topics are refused without running the pattern match
  evil.send([null, 'g', 'room:' + 'x'.repeat(100_000), 'phx_join', {}])
  const giant = await evil.reply('g')
  t.equal(giant[2].length, 64)
  t.same(giant[4], { status: 'error', response: { reason: 'topic too long' } })
  // __proto__ payloads are refused as routes refuse them (onProtoPoisoning: 'error')
  evil.send('[7,"p","room:2","say",{"text":"a","__proto__":{"polluted":true}}]')
  t.same(await evil.reply('p'), [null, 'p', 'room:2', 'phx_reply', { status: 'error', response: { reason: 'payload contains a forbidden prototype property' } }])
  evil.send('[7,"c","room:2","loose",{"constructor":{"prototype":{"polluted":true}}}]')
  t.same((await evil.reply('c'))[4].status, 'error')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  // binary frames are refused with an error reply to the push's ref
  const header = Buffer.from([0, 1, 1, 6, 3])
  evil.send(Buffer.concat([header, Buffer.from('7b' + 'room:2' + 'say'), Buffer.from([1, 2, 3])]))
  t.same(await evil.reply('b'), [null, 'b', 'room:2', 'phx_reply', { status: 'error', response: { reason: 'binary payloads are not supported; send a JSON object' } }])
  evil.send(Buffer.from([9, 9, 9]))

  // 10,000 joins: a hundred succeed, the rest are refused one by one
  for (let i = 0; i < 10_000; i++) evil.send([`j${i}`, `j${i}`, `room:${i}`, 'phx_join', {}])
  const last = await evil.reply('j9999')
  t.same(last[4], { status: 'error', response: { reason: 'too many channels joined' } })
  const replies = evil.frames.splice(0)
  t.same(replies.filter((f: any) => f[3] === 'phx_close'), [[7, 7, 'room:2', 'phx_close', {}]], 'joining room:2 again closed the first join')
  t.equal(replies.filter((f: any) => f[4]?.status === 'ok').length, 101, 'room:0 to room:100 joined: 100 channels, room:2 among them twice')

  t.same(await push(room, 'say', { text: 'still here' }), { status: 'ok', response: { echoed: 'still here', proto: true } })
  t.equal(app.logs.filter((line) => line.level >= 50).length, 0, 'a client never causes an error-level log')
  evil.ws.close()
  await evil.closed
})

t.test('a frame over maxPayload closes that hub socket with 1009 (a debug line, never an error) and nothing else', async (t) => {
  const app = await build(t, { maxPayload: 1024 })
  app.addWebSocketHub('/socket').channel('room:{id}', Room)
  const url = await listen(app)
  const bystander = phoenix(t, url)
  const room = bystander.channel('room:1')
  await join(room)
  const evil = await rawClient(t, url)
  evil.send([null, 'big', 'room:1', 'say', { text: 'x'.repeat(2048) }])
  t.equal((await evil.closed).code, 1009, 'Message Too Big')
  t.ok(app.logs.some((line) => line.level === 20 && line.msg === 'socket error'), 'the socket error is logged at debug')
  t.same(await push(room, 'say', { text: 'still here' }), { status: 'ok', response: { echoed: 'still here', proto: true } })
  t.equal(app.logs.filter((line) => line.level >= 50).length, 0, 'nothing at error level')
})
