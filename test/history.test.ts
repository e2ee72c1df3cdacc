import 'reflect-metadata'
import t, { type Test } from 'tap'
import { WebSocketResource, type StreamPosition } from '../lib/index.js'
import { connect, createBus } from '../lib/testing/index.js'
import { MemoryHistory } from '../lib/history/memory-history.js'
import { build } from './helpers/build.js'
import { record, type RecordedFrame as Frame } from './helpers/record.js'

/** Joins `chat:<room>` recovering from the position in the query, and says how that went. */
class Chat extends WebSocketResource<{ room: string }> {
  static convention = 'any' as const
  override async onConnect () {
    const query = this.request.query as { offset?: string, epoch?: string }
    const since = query.epoch === undefined ? null : { offset: Number(query.offset), epoch: query.epoch }
    const recovery = await this.join(`chat:${this.params.room}`, { since })
    this.send({ type: 'joined', payload: recovery })
  }

  async onSay (msg: { type: 'say', payload: string }) {
    await this.broadcast(`chat:${this.params.room}`, { type: 'said', payload: msg.payload }, { excludeSelf: true })
  }
}

async function chatApp (t: Test, size = 100) {
  const app = await build(t)
  app.ws.keepHistory('chat:*', { size, ttlMs: 60_000 })
  app.addWebSocketRoute('/chat/:room', Chat)
  return app
}

t.test('a client cut off while 50 messages are broadcast comes back and gets all 50 in order, then the live ones', async (t) => {
  const app = await chatApp(t)
  const first = await connect(app, '/chat/1')
  const fresh = await first.expect<{ payload: { recovered: boolean, position: StreamPosition, replayed: number } }>('joined')
  t.equal(fresh.payload.recovered, false, 'a client with no position recovers nothing: it fetches the state')
  t.equal(fresh.payload.position.offset, 0)
  await app.ws.broadcastToRoom('chat:1', { type: 'news', payload: 0 })
  const seen = await first.expect<Frame>('news')
  t.same(seen, { type: 'news', payload: 0, offset: 1, epoch: fresh.payload.position.epoch }, 'every broadcast carries its offset and epoch')
  await first.close()

  for (let i = 1; i <= 50; i++) await app.ws.broadcastToRoom('chat:1', { type: 'news', payload: i })
  const back = await connect(app, '/chat/1', { query: { offset: seen.offset!, epoch: seen.epoch! } })
  const frames = record(back)
  const joined = await back.expect<{ payload: { recovered: boolean, position: StreamPosition, replayed: number } }>('joined')
  t.same(joined.payload, { recovered: true, position: { offset: 51, epoch: seen.epoch }, replayed: 50 })
  const missed = frames.filter((f) => f.type === 'news')
  t.same(missed.map((f) => f.payload), Array.from({ length: 50 }, (_, i) => i + 1), 'all 50, in order, before the join answer')
  t.same(missed.map((f) => f.offset), Array.from({ length: 50 }, (_, i) => i + 2))
  await app.ws.broadcastToRoom('chat:1', { type: 'news', payload: 51 })
  t.match(await frames.until((f) => f.payload === 51), { payload: 51, offset: 52 }, 'and the live ones after them')
})

t.test('after an overflow of the history, or with another epoch, the client gets recovered: false', async (t) => {
  const app = await chatApp(t, 10)
  const first = await connect(app, '/chat/2')
  const { payload } = await first.expect<{ payload: { position: StreamPosition } }>('joined')
  await first.close()
  for (let i = 0; i < 11; i++) await app.ws.broadcastToRoom('chat:2', { type: 'news', payload: i })
  const late = await connect(app, '/chat/2', { query: { ...payload.position } })
  const frames = record(late)
  t.same((await late.expect<{ payload: unknown }>('joined')).payload, { recovered: false, position: { offset: 11, epoch: payload.position.epoch }, replayed: 0 })
  t.equal(frames.filter((f) => f.type === 'news').length, 0, 'nothing replayed')
  const stranger = await connect(app, '/chat/2', { query: { offset: 5, epoch: 'another' } })
  t.match(await stranger.expect('joined'), { payload: { recovered: false, replayed: 0 } })
  const ahead = await connect(app, '/chat/2', { query: { offset: 99, epoch: payload.position.epoch } })
  t.match(await ahead.expect('joined'), { payload: { recovered: false } }, 'an offset from the future is no position')
  const exact = await connect(app, '/chat/2', { query: { offset: 11, epoch: payload.position.epoch } })
  t.match(await exact.expect('joined'), { payload: { recovered: true, replayed: 0 } }, 'nothing missed is a recovery')
  const within = await connect(app, '/chat/2', { query: { offset: 1, epoch: payload.position.epoch } })
  t.match(await within.expect('joined'), { payload: { recovered: true, replayed: 10 } }, 'exactly size behind still recovers')
})

t.test('broadcasts racing with a recovery are neither lost nor doubled', async (t) => {
  const app = await chatApp(t, 1000)
  const first = await connect(app, '/chat/3')
  const { payload } = await first.expect<{ payload: { position: StreamPosition } }>('joined')
  await first.close()
  for (let i = 1; i <= 20; i++) await app.ws.broadcastToRoom('chat:3', { type: 'news', payload: i })
  const sending = (async () => {
    for (let i = 21; i <= 60; i++) {
      await app.ws.broadcastToRoom('chat:3', { type: 'news', payload: i })
      await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  const back = await connect(app, '/chat/3', { query: { ...payload.position } })
  const frames = record(back)
  await sending
  await app.ws.broadcastToRoom('chat:3', { type: 'news', payload: 'end' })
  await back.expect('joined')
  await frames.until((f) => f.payload === 'end')
  const news = frames.filter((f) => f.type === 'news').map((f) => f.payload)
  t.same(news.slice(0, -1), Array.from({ length: 60 }, (_, i) => i + 1), 'every offset once, in order')
})

t.test('a message to a member that is in the room already, excludeSelf and an empty message', async (t) => {
  const app = await chatApp(t)
  const alice = await connect(app, '/chat/4')
  const bob = await connect(app, '/chat/4')
  await alice.expect('joined')
  const { payload } = await bob.expect<{ payload: { position: StreamPosition } }>('joined')
  alice.send({ type: 'say', payload: 'hi' })
  t.match(await bob.expect('said'), { payload: 'hi', offset: 1 })
  await app.ws.broadcastToRoom('chat:4', {})
  t.same(await bob.receive(), { offset: 2, epoch: payload.position.epoch }, '{} gets the two fields alone')
  t.match(await alice.receive(), { offset: 2 }, 'excludeSelf left alice out of the first')
  const id = [...app.ws.local()].find((c) => c.rooms.has('chat:4'))!.id
  const again = await app.ws.joinRoom(id, 'chat:4', { since: { offset: 1, epoch: payload.position.epoch } })
  t.same(again, { recovered: true, position: { offset: 2, epoch: payload.position.epoch }, replayed: 1 }, 'a member can recover too')
})

t.test('what a client sends as its position is checked, and programmer errors are coded', async (t) => {
  const app = await chatApp(t)
  app.ws.keepHistory('solo', { size: 5, ttlMs: 1000 })
  app.ws.keepHistory('chat:*', { size: 5, ttlMs: 1000 })
  app.ws.keepHistory('chat:special:*', { size: 7, ttlMs: 1000 })
  const client = await connect(app, '/chat/5')
  await client.expect('joined')
  const connection = [...app.ws.local()][0]
  for (const since of [undefined, null, 'x', { offset: -1, epoch: 'e' }, { offset: 1.5, epoch: 'e' }, { offset: 1, epoch: '' }, { offset: 1, epoch: 'x'.repeat(65) }, { offset: '1', epoch: 'e' }]) {
    t.match(await app.ws.joinRoom(connection, 'solo', { since: since as never }), { recovered: false, replayed: 0 }, `since ${JSON.stringify(since)}`)
  }
  await t.rejects(app.ws.joinRoom(connection, 'plain', { since: null }), { code: 'FST_PACHINKO_HISTORY_NOT_KEPT', message: /Room "plain" keeps no history/ })
  await t.rejects(app.ws.broadcastToRoom('solo', ['not', 'an', 'object']), { code: 'FST_PACHINKO_OPTION_INVALID', message: /must be a JSON object/ })
  t.throws(() => app.ws.keepHistory('', { size: 1, ttlMs: 1 }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /keepHistory\(rooms\)/ })
  t.throws(() => app.ws.keepHistory('*', { size: 1, ttlMs: 1 }), { code: 'FST_PACHINKO_OPTION_INVALID' })
  t.throws(() => app.ws.keepHistory(5 as never, { size: 1, ttlMs: 1 }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /got number/ })
  t.throws(() => app.ws.keepHistory('r', null as never), { message: /must be an object like \{ size: 100, ttlMs: 120000 \}/ })
  t.throws(() => app.ws.keepHistory('r', { size: 0, ttlMs: 1 }), { message: /"keepHistory\(options\).size": must be an integer from 1 to 100000, got 0/ })
  t.throws(() => app.ws.keepHistory('r', { size: 1, ttlMs: 0.5 }), { message: /"keepHistory\(options\).ttlMs": must be a positive integer/ })
  await app.ws.broadcastToRoom('chat:special:1', { type: 'x' })
  const special = await app.ws.joinRoom(connection, 'chat:special:1', { since: null })
  t.equal(special.position.offset, 1, 'the longest prefix decides')
})

t.test('a backend without history: keepHistory throws a coded error, and rooms work as before', async (t) => {
  const bus = createBus()
  const app = await build(t, { backend: bus.backend() })
  t.throws(() => app.ws.keepHistory('chat:*', { size: 10, ttlMs: 1000 }), { code: 'FST_PACHINKO_HISTORY_UNSUPPORTED', message: /The bus backend keeps no room history/ })
  app.addWebSocketRoute('/plain', class extends WebSocketResource {
    override async onConnect () { await this.join('plain') }
  })
  const client = await connect(app, '/plain')
  await app.ws.broadcastToRoom('plain', { type: 'hello' })
  t.same(await client.receive(), { type: 'hello' }, 'no offset on a room without history')
})

t.test('the memory store: ring order, expiry by ttl, streams dropped once idle for their ttl', async (t) => {
  let now = 0
  const store = new MemoryHistory(() => now)
  const limits = { size: 3, ttlMs: 100 }
  const head = (n: number) => ({ head: `{"n":${n}`, separator: ',' })
  const a1 = await store.append('a', head(1), limits)
  t.equal(a1.frame.toString(), `{"n":1,"offset":1,"epoch":"${a1.position.epoch}"}`)
  for (let n = 2; n <= 5; n++) await store.append('a', head(n), limits)
  const read = await store.read('a', { offset: 2, epoch: a1.position.epoch }, limits)
  t.same(read.recovered && read.entries.map((e) => JSON.parse(e.frame.toString()).n), [3, 4, 5], 'the ring keeps the last 3 in order')
  t.match(await store.read('a', { offset: 1, epoch: a1.position.epoch }, limits), { recovered: false }, 'offset 2 was overwritten')
  now = 60
  const b1 = await store.append('b', head(1), limits)
  now = 150
  t.match(await store.read('a', { offset: 4, epoch: a1.position.epoch }, limits), { recovered: false, position: { offset: 0 } }, 'idle past its ttl: a new epoch')
  await store.append('b', head(2), limits)
  now = 170
  t.match(await store.read('b', { offset: 0, epoch: b1.position.epoch }, limits), { recovered: false }, 'an entry older than ttl is gone')
  t.match(await store.read('b', { offset: 1, epoch: b1.position.epoch }, limits), { recovered: true, entries: [{ offset: 2 }] }, 'a younger one is not')
  now = 200
  await store.append('c', head(1), limits)
  now = 400
  await store.append('d', head(1), limits)
  t.match(await store.read('b', null, limits), { position: { offset: 0 } }, 'idle streams were swept by later appends')
})
