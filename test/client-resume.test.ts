import 'reflect-metadata'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import pachinko, { WebSocketResource } from '../lib/index.js'
import { connectClient, type StatusEvent, type WebSocketConstructor } from '../lib/client/index.js'
import { Resume } from '../lib/client/resume.js'

/* The typed client resumes a room with history after a reconnect: real port, the ws package as its WebSocket. */

class Feed extends WebSocketResource {
  override async onConnect () {
    const { offset, epoch } = this.request.query as { offset?: string, epoch?: string }
    const since = epoch === undefined ? null : { offset: Number(offset), epoch }
    this.send({ type: 'joined', payload: await this.join('feed', { since }) })
  }
}

t.test('with resume, a client cut off while 50 messages are broadcast reconnects with its position and gets all of them once, in order', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko)
  app.ws.keepHistory('feed', { size: 100, ttlMs: 60_000 })
  app.addWebSocketRoute('/feed', Feed)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/feed?user=ann`
  const client = connectClient(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, resume: true, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } })
  t.teardown(() => client.close())
  const news: unknown[] = []
  const joins: Array<{ recovered: boolean, replayed: number }> = []
  let joined!: () => void
  client.on('joined' as never, (payload: { recovered: boolean, replayed: number }) => { joins.push(payload); joined() })
  client.on('news' as never, (payload: unknown) => news.push(payload))
  await new Promise<void>((resolve) => { joined = resolve })
  t.equal(client.position, undefined, 'no position before the first broadcast')
  await app.ws.broadcastToRoom('feed', { type: 'news', payload: 0 })
  while (news.length === 0) await new Promise((resolve) => setImmediate(resolve))
  t.match(client.position, { offset: 1, epoch: String })

  const reconnecting = new Promise<StatusEvent>((resolve) => client.onStatus((event) => { if (event.status === 'reconnecting') resolve(event) }))
  const rejoined = new Promise<void>((resolve) => { joined = resolve })
  for (const connection of app.ws.local()) connection.terminate()
  await reconnecting
  for (let i = 1; i <= 50; i++) await app.ws.broadcastToRoom('feed', { type: 'news', payload: i })
  await rejoined
  t.match(joins[1], { recovered: true }, 'the second join recovered')
  await app.ws.broadcastToRoom('feed', { type: 'news', payload: 'live' })
  while (!news.includes('live')) await new Promise((resolve) => setImmediate(resolve))
  t.same(news, [...Array.from({ length: 51 }, (_, i) => i), 'live'], 'every broadcast once, in order')
  t.equal(client.position?.offset, 52)
})

t.test('without resume (or with resume: false) the client keeps no position', async (t) => {
  for (const resume of [false, undefined]) {
    const client = connectClient('ws://127.0.0.1:1/nowhere', { WebSocket: WebSocket as unknown as WebSocketConstructor, resume, reconnect: false })
    client.close()
    t.equal(client.position, undefined)
  }
})

t.test('the resume URL: the position replaces what the query had, other parameters stay, names can be chosen', async (t) => {
  const resume = new Resume({ offset: 'o', epoch: 'e' })
  t.equal(resume.url('ws://h/feed?x=1'), 'ws://h/feed?x=1', 'nothing to add before a position')
  resume.observe({ type: 'news', offset: 'not a number', epoch: 'e1' })
  t.equal(resume.position, undefined)
  resume.observe({ type: 'news', offset: 3, epoch: 'e1' })
  t.equal(resume.url('ws://h/feed?x=1&o=1&e=old'), 'ws://h/feed?x=1&o=3&e=e1')
  t.equal(resume.url('/feed'), '/feed?o=3&e=e1')
  const defaults = new Resume(true)
  defaults.observe({ offset: 7, epoch: 'a b' })
  t.equal(defaults.url('ws://h/feed'), 'ws://h/feed?offset=7&epoch=a+b')
})
