import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import WebSocket from 'ws'
import { buildChatApp } from '../../example/chat/app.js'
import { readChatConfig } from '../../example/chat/config.js'
import { readClientFiles } from '../../example/chat/client-files.js'
import { connect } from '../../lib/testing/index.js'
import { until } from '../helpers/build.js'

/** The chat's frames with a text: `systemMessage` and `newMessage`. */
interface TextFrame { payload: { text: string } }
interface PresenceFrame { payload: { room: string, user: string, users: string[] } }

async function chat (t: Test) {
  const logs: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line))
      done()
    }
  })
  const app = Object.assign(await buildChatApp({ server: { logger: { level: 'debug', stream } } }), { logs })
  t.teardown(() => app.close())
  return app
}

const errorLines = (app: { logs: Array<{ level: number, msg: string }> }) => app.logs.filter((l) => l.level >= 50)

t.test('welcomes a newcomer and tells the others, chats, types, and says goodbye', async (t) => {
  const app = await chat(t)
  const ann = await connect(app, '/ws/chat/general', { query: { user: 'ann' } })
  t.match((await ann.expect<TextFrame>('systemMessage')).payload.text, /Welcome to #general, ann! You are the first/)
  const bob = await connect(app, '/ws/chat/general', { query: { user: 'bob' } })
  t.match((await bob.expect<TextFrame>('systemMessage')).payload.text, /Here: ann\./)
  t.same((await ann.expect('userJoined')).payload, { user: 'bob' })

  bob.send({ type: 'sendMessage', payload: { text: 'hi ann' } })
  const said = (await ann.expect<{ payload: { user: string, text: string, at: string } }>('newMessage')).payload
  t.match(said, { user: 'bob', text: 'hi ann' })
  t.ok(Math.abs(Date.parse(said.at) - Date.now()) < 60_000, 'stamped with the server\'s time')
  t.same((await bob.expect('newMessage')).payload, said, 'the sender sees it too')

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

t.test('tells a newcomer who is in the room, itself included', async (t) => {
  const app = await chat(t)
  const ann = await connect(app, '/ws/chat/general', { query: { user: 'ann' } })
  t.same((await ann.expect<PresenceFrame>('presence')).payload, { room: 'general', user: 'ann', users: ['ann'] })
  const bob = await connect(app, '/ws/chat/general', { query: { user: 'bob' } })
  t.same((await bob.expect<PresenceFrame>('presence')).payload.users, ['ann', 'bob'])
  const cat = await connect(app, '/ws/chat/other', { query: { user: 'cat' } })
  t.same((await cat.expect<PresenceFrame>('presence')).payload.users, ['cat'], 'only this room')
})

t.test('refuses a bad user or room name with a reason the page can show, and logs no error', async (t) => {
  const app = await chat(t)
  const cases: Array<[string, string]> = [
    ['/ws/chat/general', 'a user name is required'],
    ['/ws/chat/general?user=%20%20%20', 'a user name is required'],
    [`/ws/chat/general?user=${'x'.repeat(33)}`, 'the user name is longer than 32 characters'],
    ['/ws/chat/general?user=a&user=b', 'give one user name, not 2'],
    ['/ws/chat/general?user=a%07b', 'the user name has control characters'],
    ['/ws/chat/?user=x', 'a room name is required'],
    ['/ws/chat/%20%20?user=x', 'a room name is required'],
    [`/ws/chat/${'r'.repeat(33)}?user=x`, 'the room name is longer than 32 characters'],
    ['/ws/chat/a%0Ab?user=x', 'the room name has control characters']
  ]
  for (const [path, reason] of cases) {
    const client = await connect(app, path)
    t.same((await client.expect('error')).error, { code: 'JOIN_REFUSED', message: reason }, path)
    t.same(await client.closed, { code: 1008, reason }, 'and the close carries it too')
  }
  t.same(errorLines(app), [], 'no error-level log line for any of them')
  t.ok(app.logs.some((l) => l.level === 30 && /connection refused: give one user name/.test(l.msg)), 'refusals log at info')
})

t.test('a user joining again on a second connection is not told about herself, and the room hears one join and one leave', async (t) => {
  const app = await chat(t)
  const ann = await connect(app, '/ws/chat/general', { query: { user: 'ann' } })
  await ann.expect('presence')
  const erin = await connect(app, '/ws/chat/general', { query: { user: 'erin' } })
  await ann.expect('userJoined')
  const again = await connect(app, '/ws/chat/general', { query: { user: 'erin' } })
  t.match((await again.expect<TextFrame>('systemMessage')).payload.text, /Welcome to #general, erin! Here: ann\.$/, 'not "Here: ann, erin"')
  t.same((await again.expect<PresenceFrame>('presence')).payload.users, ['ann', 'erin'])
  await erin.close()
  await until(() => app.ws.size === 2, 2000, 'the old connection to go')
  ann.send({ type: 'sendMessage', payload: { text: 'marker' } })
  await again.expect('newMessage')
  const seen = (client: typeof ann, type: string) => client.trace.filter((e) => e.direction === 'in' && (e.data as { type: string }).type === type).map((e) => (e.data as { payload: unknown }).payload)
  t.same(seen(again, 'userLeft'), [], 'the old connection\'s leave never reaches the new one')
  t.same(seen(ann, 'userJoined'), [{ user: 'erin' }], 'the room heard erin join once')
  t.same(seen(ann, 'userLeft'), [], 'and not leave: she is still here')
  await again.close()
  t.same((await ann.expect('userLeft')).payload, { user: 'erin' }, 'her last connection leaving is a leave')
})

t.test('lists the rooms people are in, busiest first', async (t) => {
  const app = await chat(t)
  t.same((await app.inject('/rooms')).json(), { rooms: [] })
  for (const [room, user] of [['quiet', 'a'], ['busy', 'b'], ['busy', 'c'], ['also', 'd']]) await (await connect(app, `/ws/chat/${room}`, { query: { user } })).expect('presence')
  t.same((await app.inject('/rooms')).json(), { rooms: [{ name: 'busy', users: 2 }, { name: 'also', users: 1 }, { name: 'quiet', users: 1 }] }, 'ties by name')
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
  t.match(page.body, /import \{ connectClient \} from '\/client\/index.js'/, 'the page talks through fastify-pachinko/client')
  const client = await app.inject('/client/index.js')
  t.equal(client.statusCode, 200)
  t.match(client.headers['content-type'], /text\/javascript/)
  t.match(client.body, /export function connectClient/)
  t.notMatch(client.body, /sourceMappingURL/, 'no map to a source the server does not serve')
  t.equal((await app.inject('/client/backoff.js')).statusCode, 200, 'its own imports resolve')
  t.equal(readClientFiles(['./not-built/']).size, 0, 'no build: nothing to serve, and no crash')
  for (const file of ['nope.js', '..%2F..%2Fpackage.json', 'index.d.ts']) t.equal((await app.inject(`/client/${file}`)).statusCode, 404, file)
  t.match(page.body, /<link rel="icon" href="data:image\/svg\+xml,/, 'the icon is inline, so no request for /favicon.ico')
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

t.test('reads its settings from the environment: PORT, HOST, REDIS_URL, REDIS_PREFIX', async (t) => {
  t.same(readChatConfig({}), { port: 3000, host: '127.0.0.1', redisUrl: undefined, redisPrefix: 'pachinko-chat' })
  t.same(readChatConfig({ PORT: '3001', HOST: '0.0.0.0', REDIS_URL: 'redis://r:6379', REDIS_PREFIX: 'team-a' }),
    { port: 3001, host: '0.0.0.0', redisUrl: 'redis://r:6379', redisPrefix: 'team-a' })
  t.same(readChatConfig({ REDIS_URL: '', REDIS_PREFIX: '' }), readChatConfig({}), 'empty counts as unset')
})
