import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { buildChatApp } from '../../example/chat/app.js'
import { connect } from '../../lib/testing/index.js'

/** The chat's frames with a text: `systemMessage` and `newMessage`. */
interface TextFrame { payload: { text: string } }

async function chat (t: Test) {
  const app = await buildChatApp()
  t.teardown(() => app.close())
  return app
}

t.test('welcomes a newcomer and tells the others, chats, types, and says goodbye', async (t) => {
  const app = await chat(t)
  const ann = await connect(app, '/ws/chat/general', { query: { user: 'ann' } })
  t.match((await ann.expect<TextFrame>('systemMessage')).payload.text, /Welcome to #general, ann! You are the first/)
  const bob = await connect(app, '/ws/chat/general', { query: { user: 'bob' } })
  t.match((await bob.expect<TextFrame>('systemMessage')).payload.text, /Here: ann\./)
  t.same((await ann.expect('userJoined')).payload, { user: 'bob' })

  bob.send({ type: 'sendMessage', payload: { text: 'hi ann' } })
  t.same((await ann.expect('newMessage')).payload, { user: 'bob', text: 'hi ann' })
  t.same((await bob.expect('newMessage')).payload, { user: 'bob', text: 'hi ann' }, 'the sender sees it too')

  ann.send({ type: 'startTyping' })
  t.same((await bob.expect('userTyping')).payload, { user: 'ann', isTyping: true })
  ann.send({ type: 'stopTyping' })
  t.same((await bob.expect('userTyping')).payload, { user: 'ann', isTyping: false })
  t.notOk(ann.trace.some((e) => e.direction === 'in' && (e.data as { type: string }).type === 'userTyping'), 'not to the typist')

  await bob.close()
  t.same((await ann.expect('userLeft')).payload, { user: 'bob' })
})

t.test('keeps rooms apart', async (t) => {
  const app = await chat(t)
  const a = await connect(app, '/ws/chat/one', { query: { user: 'a' } })
  const b = await connect(app, '/ws/chat/two', { query: { user: 'b' } })
  b.send({ type: 'sendMessage', payload: { text: 'in two' } })
  await b.expect('newMessage')
  a.send({ type: 'sendMessage', payload: { text: 'in one' } })
  t.equal((await a.expect<TextFrame>('newMessage')).payload.text, 'in one')
  t.notOk(a.trace.some((e) => JSON.stringify(e.data).includes('in two')))
})

t.test('refuses a connection without a user name with 1008', async (t) => {
  const app = await chat(t)
  for (const query of [{}, { user: '   ' }, { user: 'x'.repeat(33) }] as Array<Record<string, string>>) {
    const client = await connect(app, '/ws/chat/general', { query })
    t.equal((await client.closed).code, 1008)
  }
})

t.test('answers garbage with error frames and stays open', async (t) => {
  const app = await chat(t)
  const client = await connect(app, '/ws/chat/general', { query: { user: 'ann' } })
  client.sendRaw('garbage')
  t.equal((await client.expect('error')).error.code, 'BAD_JSON')
  client.send({ type: 'sendMessage', payload: { text: '' } })
  t.equal((await client.expect('error')).error.code, 'VALIDATION')
  client.send({ type: 'dance' })
  t.equal((await client.expect('error')).error.code, 'UNKNOWN_TYPE')
  client.send({ type: 'sendMessage', payload: { text: 'still here' } })
  await client.expect('newMessage')
})

t.test('serves the page at / and a health snapshot', async (t) => {
  const app = await chat(t)
  const page = await app.inject('/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /new WebSocket\(/)
  const health = await app.inject('/health')
  t.match(health.json(), { backend: 'memory', connections: 0 })
})

t.test('works over a real network socket with a plain ws client', async (t) => {
  const app = await chat(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const open = (user: string) => new Promise<{ socket: WebSocket, frames: Array<{ type: string, payload: Record<string, unknown> }> }>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/chat/net?user=${user}`)
    const frames: Array<{ type: string, payload: Record<string, unknown> }> = []
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())))
    socket.on('open', () => resolve({ socket, frames }))
    socket.on('error', reject)
  })
  const next = async (client: { frames: Array<{ type: string }> }, type: string) => {
    for (let i = 0; i < 200; i++) {
      const index = client.frames.findIndex((f) => f.type === type)
      if (index !== -1) return client.frames.splice(index, 1)[0]
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error(`no ${type}`)
  }
  const ann = await open('ann')
  await next(ann, 'systemMessage')
  const bob = await open('bob')
  await next(ann, 'userJoined')
  bob.socket.send(JSON.stringify({ type: 'sendMessage', payload: { text: 'over tcp' } }))
  t.match(await next(ann, 'newMessage'), { payload: { user: 'bob', text: 'over tcp' } })
  const closed = new Promise<number>((resolve) => bob.socket.on('close', resolve))
  bob.socket.close(1000)
  t.equal(await closed, 1000)
  t.match(await next(ann, 'userLeft'), { payload: { user: 'bob' } })
  const annClosed = new Promise<number>((resolve) => ann.socket.on('close', resolve))
  await app.close()
  t.equal(await annClosed, 1001, 'shutdown says going away')
})
