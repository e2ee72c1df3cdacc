import t from 'tap'
import { redisBackend } from '../../lib/index.js'
import { buildChatApp } from '../../example/chat/app.js'
import { connect } from '../../lib/testing/index.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

/** The chat's frames with a text: `systemMessage` and `newMessage`. */
interface TextFrame { payload: { text: string } }

t.test('two chat servers over Redis form one chat: messages, typing and presence cross', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('chat')
  const servers = []
  for (let i = 0; i < 2; i++) {
    const app = await buildChatApp({ pachinko: { backend: redisBackend({ url: REDIS_URL, prefix }) } })
    t.teardown(() => app.close())
    servers.push(app)
  }
  const ann = await connect(servers[0], '/ws/chat/general', { query: { user: 'ann' } })
  await ann.expect('systemMessage')
  const bob = await connect(servers[1], '/ws/chat/general', { query: { user: 'bob' } })
  t.match((await bob.expect<TextFrame>('systemMessage')).payload.text, /Here: ann\./, 'presence across servers')
  t.same((await ann.expect('userJoined')).payload, { user: 'bob' })
  bob.send({ type: 'startTyping' })
  t.same((await ann.expect('userTyping')).payload, { user: 'bob', isTyping: true })
  bob.send({ type: 'sendMessage', payload: { text: 'hello from server 2' } })
  t.match((await ann.expect('newMessage')).payload, { user: 'bob', text: 'hello from server 2' })
  t.match((await bob.expect('newMessage')).payload, { user: 'bob', text: 'hello from server 2' })
  await bob.close()
  t.same((await ann.expect('userLeft')).payload, { user: 'bob' })
})

t.test('over Redis, a user on both servers is one member: one join, no leave until her last connection goes', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('chat-twice')
  const servers = []
  for (let i = 0; i < 2; i++) {
    const app = await buildChatApp({ pachinko: { backend: redisBackend({ url: REDIS_URL, prefix }) } })
    t.teardown(() => app.close())
    servers.push(app)
  }
  const ann = await connect(servers[0], '/ws/chat/general', { query: { user: 'ann' } })
  await ann.expect('presence')
  const erinHere = await connect(servers[0], '/ws/chat/general', { query: { user: 'erin' } })
  await ann.expect('userJoined')
  const erinThere = await connect(servers[1], '/ws/chat/general', { query: { user: 'erin' } })
  t.match((await erinThere.expect<TextFrame>('systemMessage')).payload.text, /Here: ann\.$/, 'her other connection is not company')
  t.same((await erinThere.expect<{ payload: { users: string[] } }>('presence')).payload.users, ['ann', 'erin'])
  t.same((await servers[1].inject('/rooms')).json(), { rooms: [{ name: 'general', users: 3 }] }, 'the rooms list counts the cluster')
  await erinHere.close()
  ann.send({ type: 'sendMessage', payload: { text: 'marker' } })
  await erinThere.expect('newMessage')
  t.notOk(ann.trace.some((e) => (e.data as { type?: string }).type === 'userLeft'), 'no leave while she is still on the other server')
  await erinThere.close()
  t.same((await ann.expect('userLeft')).payload, { user: 'erin' })
})
