import 'reflect-metadata'
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { buildChatApp } from '../example/chat/app.js'
import type { ChatRoom } from '../example/chat/chat-room.js'
import { WebSocketResource } from '../lib/index.js'
import { ClientRequestError, backoffDelay, connectClient, isFinalClose, type ClientOptions, type StatusEvent, type WebSocketConstructor } from '../lib/client/index.js'

/* The typed client from Node, over a real port, with the ws package as its WebSocket. */

const Ws = WebSocket as unknown as WebSocketConstructor

async function listening (t: Test, setup: (app: FastifyInstance) => void = () => {}): Promise<{ app: FastifyInstance, url: string }> {
  const app = await buildChatApp()
  t.teardown(() => app.close())
  setup(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

function client<R = typeof ChatRoom> (t: Test, url: string, options: ClientOptions = {}) {
  const c = connectClient<R>(url, { WebSocket: Ws, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options })
  t.teardown(() => c.close())
  return c
}

function next (c: { onStatus: (fn: (e: StatusEvent) => void) => () => void }, status: StatusEvent['status']): Promise<StatusEvent> {
  return new Promise((resolve) => {
    const off = c.onStatus((event) => { if (event.status === status) { off(); resolve(event) } })
  })
}

function message<T> (c: { on: (tag: never, fn: (payload: T) => void) => () => void }, tag: string): Promise<T> {
  return new Promise((resolve) => {
    const off = c.on(tag as never, (payload: T) => { off(); resolve(payload) })
  })
}

t.test('sends, listens and requests against the chat example, typed from ChatRoom', async (t) => {
  const { url } = await listening(t)
  const ann = client(t, `${url}/ws/chat/general?user=ann`)
  t.equal(ann.status, 'connecting')
  const welcome = message<{ text: string }>(ann, 'systemMessage')
  await next(ann, 'open')
  t.match((await welcome).text, /Welcome to #general, ann!/)
  const bob = client(t, `${url}/ws/chat/general?user=bob`)
  const joined = message<{ user: string }>(ann, 'userJoined')
  await next(bob, 'open')
  t.same(await joined, { user: 'bob' })

  const heard = message<{ user: string, text: string }>(bob, 'newMessage')
  const line = await ann.request('sendMessage', { text: 'hello' }, { timeoutMs: 2000 })
  t.match(line, { user: 'ann', text: 'hello' }, 'the reply is the handler\'s result')
  t.match(await heard, { user: 'ann', text: 'hello' })
  t.ok(bob.send('startTyping'))
  t.same(await message(ann, 'userTyping'), { user: 'bob', isTyping: true })

  const refused = await ann.request('sendMessage', { text: '' }).catch((e: unknown) => e)
  t.ok(refused instanceof ClientRequestError)
  t.match(refused, { code: 'VALIDATION', issues: [{ path: '/payload/text' }] }, 'an error frame with the ref rejects with its code')
  const unknown = await ann.request('dance' as 'sendMessage', { text: 'x' }).catch((e: unknown) => e)
  t.match(unknown, { code: 'UNKNOWN_TYPE' })
  const errors: unknown[] = []
  ann.on('error', (body) => errors.push(body.code))
  ann.send('sendMessage', { text: '' })
  await new Promise<void>((resolve) => { const off = ann.on('error', () => { off(); resolve() }) })
  t.same(errors, ['VALIDATION'], 'an error frame that answers no request goes to on("error")')
})

t.test('answers the server\'s requests with onRequest, and refuses the ones it has no handler for', async (t) => {
  const { app, url } = await listening(t)
  const ann = client<unknown>(t, `${url}/ws/chat/general?user=ann`)
  await next(ann, 'open')
  const [connection] = [...app.ws.local()]
  ann.onRequest('confirm', (payload) => ({ ok: true, asked: payload }))
  ann.onRequest('slow', async () => await new Promise((resolve) => setTimeout(() => resolve('later'), 5)))
  const off = ann.onRequest('fail', () => { throw Object.assign(new Error('no way'), { code: 'DECLINED' }) })
  ann.onRequest('reject', async () => { throw new Error('plain') })
  ann.onRequest('odd', () => { throw 'a string' }) // eslint-disable-line no-throw-literal
  t.same(await app.ws.request(connection.id, { type: 'confirm', payload: 1 }), { ok: true, asked: 1 })
  t.equal(await connection.request({ type: 'slow' }), 'later')
  await t.rejects(connection.request({ type: 'fail' }), { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'DECLINED', message: 'no way' } })
  await t.rejects(connection.request({ type: 'reject' }), { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'CLIENT_ERROR', message: 'plain' } })
  await t.rejects(connection.request({ type: 'odd' }), { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'CLIENT_ERROR', message: 'a string' } })
  off()
  await t.rejects(connection.request({ type: 'fail' }), { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'UNKNOWN_TYPE' } })
  await t.rejects(connection.request({ type: 'nobody' }), { code: 'FST_PACHINKO_REQUEST_FAILED', clientError: { code: 'UNKNOWN_TYPE', message: 'no onRequest handler for "nobody"' } })
})

t.test('reconnects with backoff after the server goes away, and delivers what was queued meanwhile', async (t) => {
  const { app, url } = await listening(t)
  const ann = client(t, `${url}/ws/chat/general?user=ann`)
  const bob = client(t, `${url}/ws/chat/general?user=bob`)
  await Promise.all([next(ann, 'open'), next(bob, 'open')])
  const [annConnection] = [...app.ws.local()]
  const reconnecting = next(ann, 'reconnecting')
  await app.ws.disconnect(annConnection.id, 1012, 'restarting')
  const event = await reconnecting
  t.match(event, { code: 1012, reason: 'restarting' })
  t.ok((event.delayMs as number) >= 0 && (event.delayMs as number) <= 10)
  t.ok(ann.send('sendMessage', { text: 'queued while away' }), 'queued')
  const heard = message<{ text: string }>(bob, 'newMessage')
  await next(ann, 'open')
  t.equal((await heard).text, 'queued while away', 'sent once connected again')
})

t.test('does not reconnect after a final close (1008, 4xxx), after close(), or past maxAttempts', async (t) => {
  const { app, url } = await listening(t)
  const nobody = client(t, `${url}/ws/chat/general`)
  t.match(await next(nobody, 'closed'), { code: 1008 }, 'refused by onConnect: 1008 is final')
  t.equal(nobody.send('startTyping'), false, 'a closed client sends nothing')
  await t.rejects(nobody.request('startTyping'), { code: 'CLOSED' })

  const ann = client(t, `${url}/ws/chat/general?user=ann`)
  await next(ann, 'open')
  const pending = ann.request('sendMessage', { text: 'x' }, { timeoutMs: 5000 })
  await app.ws.disconnect([...app.ws.local()][0].id, 4001, 'kicked')
  t.match(await next(ann, 'closed'), { code: 4001, reason: 'kicked' })
  await pending.then(() => t.pass('answered before the close'), (err: ClientRequestError) => t.equal(err.code, 'CLOSED'))

  const gone = client(t, 'ws://127.0.0.1:1/nothing', { reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } })
  const statuses: string[] = []
  gone.onStatus((e) => statuses.push(e.status))
  await next(gone, 'closed')
  t.same(statuses, ['reconnecting', 'reconnecting', 'closed'], 'two attempts, then it gives up')

  const never = client(t, 'ws://127.0.0.1:1/nothing', { reconnect: false })
  await next(never, 'closed')
  const byHand = client(t, `${url}/ws/chat/general?user=cat`)
  await next(byHand, 'open')
  const asked = byHand.request('sendMessage', { text: 'y' }, { timeoutMs: 5000 })
  byHand.close()
  await t.rejects(asked, { code: 'CLOSED' })
  t.equal(byHand.status, 'closed')
  byHand.close()
})

t.test('bounds the offline queue, times requests out, and ignores frames that are not JSON objects', async (t) => {
  const { app, url } = await listening(t, (app) => {
    app.addWebSocketHook('beforeMessage', (ctx) => { if (ctx.tag === 'stopTyping') ctx.drop() })
  })
  const ann = client(t, `${url}/ws/chat/general?user=ann`, { queueLimit: 2, requestTimeoutMs: 30 })
  t.ok(ann.send('startTyping'))
  t.ok(ann.send('stopTyping'))
  t.notOk(ann.send('startTyping'), 'the third is refused')
  await t.rejects(ann.request('sendMessage', { text: 'x' }), { code: 'QUEUE_FULL' })
  await next(ann, 'open')
  await t.rejects(ann.request('stopTyping'), { code: 'TIMEOUT', message: /within 30 ms/ })
  const [connection] = [...app.ws.local()]
  const bodiless = ann.request('stopTyping', undefined, { timeoutMs: 2000 })
  connection.sendRaw('{"type":"error","ref":3}')
  await t.rejects(bodiless, { code: 'UNKNOWN', message: 'no message' }, 'an error frame without a body still rejects, coded')
  connection.sendRaw('not json')
  connection.sendRaw('[1,2]')
  connection.sendRaw('{"payload":1}')
  connection.send({ type: 'reply', ref: 999, payload: 'nobody asked' })
  const line = await ann.request('sendMessage', { text: 'still fine' })
  t.equal(line.text, 'still fine')
})

t.test('negotiates a subprotocol and reports it', async (t) => {
  class Versioned extends WebSocketResource {
    static convention = 'any' as const
    onWhich () { return this.connection.protocol }
  }
  const { url } = await listening(t, (app) => { app.addWebSocketRoute('/v', Versioned, { subprotocols: ['v2', 'v1'] }) })
  const c = client<typeof Versioned>(t, `${url}/v`, { protocols: ['v3', 'v1', 'v2'] })
  t.equal(c.protocol, '', 'nothing agreed before the handshake')
  await next(c, 'open')
  t.equal(c.protocol, 'v1', 'the first of the client\'s offers the route speaks')
  t.equal(await c.request('which'), 'v1')
})

t.test('computes capped, jittered delays and knows which closes are final', async (t) => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: Infinity }
  t.same([0, 1, 2, 3, 4, 50].map((n) => backoffDelay(n, options, () => 0.999)), [99, 199, 399, 799, 999, 999])
  t.equal(backoffDelay(3, options, () => 0), 0, 'full jitter reaches down to 0')
  t.same([1000, 1008, 4000, 4999].map(isFinalClose), [true, true, true, true])
  t.same([1001, 1005, 1006, 1011, 1012, 1013, 3000].map(isFinalClose), [false, false, false, false, false, false, false])
  const original = (globalThis as { WebSocket?: unknown }).WebSocket
  t.teardown(() => { (globalThis as { WebSocket?: unknown }).WebSocket = original })
  delete (globalThis as { WebSocket?: unknown }).WebSocket
  t.throws(() => connectClient('ws://x'), /no global WebSocket here; pass \{ WebSocket \}/)
  ;(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket
  const viaGlobal = connectClient('ws://127.0.0.1:1/x', { reconnect: false })
  await next(viaGlobal, 'closed')
  t.pass('Node\'s global WebSocket (or one put there) is used when none is passed')
})
