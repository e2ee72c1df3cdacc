import type { FastifyInstance } from 'fastify'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { buildChangesApp } from '../../example/changes/app.js'

/** The example over a real SQLite file and a real port; clients are a plain `ws` and `fetch`, as from outside. */
async function start (t: Test): Promise<{ app: FastifyInstance, base: string, dbFile: string }> {
  const dbFile = join(t.testdir(), 'changes.db')
  const app = await buildChangesApp({ dbFile })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base: `127.0.0.1:${(app.server.address() as AddressInfo).port}`, dbFile }
}

/** A plain ws subscriber whose frames queue up; `next()` takes the next one. */
async function subscriber (t: Test, url: string): Promise<{ next: () => Promise<Record<string, unknown>>, socket: WebSocket }> {
  const socket = new WebSocket(url)
  t.teardown(() => socket.close())
  const frames: Array<Record<string, unknown>> = []
  const waiting: Array<(frame: Record<string, unknown>) => void> = []
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>
    const waiter = waiting.shift()
    if (waiter === undefined) frames.push(frame)
    else waiter(frame)
  })
  const next = async (): Promise<Record<string, unknown>> => frames.shift() ?? await new Promise((resolve) => waiting.push(resolve))
  t.match(await next(), { type: 'subscribed' })
  return { next, socket }
}

async function call (base: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: unknown }> {
  const response = await fetch(`http://${base}/api${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, json: text === '' ? null : JSON.parse(text) }
}

t.test('CRUD over HTTP reaches plain ws subscribers in flarchitect\'s shape, per model and on all; the rows are in SQLite', async (t) => {
  const { base, dbFile } = await start(t)
  const authors = await subscriber(t, `ws://${base}/api/ws?topic=author&ack=1`)
  const all = await subscriber(t, `ws://${base}/api/ws?ack=1`)

  const ada = await call(base, 'POST', '/authors', { name: 'Ada' })
  t.same(ada, { status: 201, json: { id: 1, name: 'Ada' } })
  const event = await authors.next()
  t.same(Object.keys(event), ['ts', 'model', 'method', 'id', 'many', 'payload'])
  t.match(event, { ts: Number, model: 'author', method: 'POST', id: 1, many: false, payload: { id: 1, name: 'Ada' } })
  t.same(await all.next(), event)

  t.equal((await call(base, 'POST', '/books', { title: 'Notes', authorId: 99 })).status, 422)
  t.equal((await call(base, 'POST', '/books', { title: '' })).status, 400)
  t.equal((await call(base, 'PATCH', '/authors/42', { name: 'Nobody' })).status, 404)
  const book = await call(base, 'POST', '/books', { title: 'Notes', authorId: 1 })
  t.same(book.json, { id: 1, title: 'Notes', authorId: 1 })
  t.match(await all.next(), { model: 'book', method: 'POST', id: 1, payload: book.json }, 'the 422, 400 and 404 published nothing')

  t.same((await call(base, 'PATCH', '/authors/1', { name: 'Ada L.' })).json, { id: 1, name: 'Ada L.' })
  t.match(await authors.next(), { method: 'PATCH', id: 1, payload: { name: 'Ada L.' } }, 'the author subscriber never saw the book')
  t.match(await all.next(), { model: 'author', method: 'PATCH' })
  t.match(await call(base, 'PUT', '/books/1', { title: 'Notes II', authorId: null }), { status: 200 })
  t.match(await all.next(), { model: 'book', method: 'PUT', id: 1, payload: { title: 'Notes II', authorId: null } })
  t.equal((await call(base, 'DELETE', '/books/1')).status, 204)
  t.match(await all.next(), { model: 'book', method: 'DELETE', id: 1, payload: null })
  t.equal((await call(base, 'DELETE', '/authors/1')).status, 204)
  t.match(await authors.next(), { model: 'author', method: 'DELETE', id: 1 })
  t.match(await all.next(), { model: 'author', method: 'DELETE', id: 1 })
  t.equal((await call(base, 'DELETE', '/authors/1')).status, 404)
  t.equal((await call(base, 'DELETE', '/books/1')).status, 404)
  t.equal((await call(base, 'PUT', '/books/5', { title: 'x', authorId: null })).status, 404)
  t.equal((await call(base, 'PUT', '/books/5', { title: 'x', authorId: 7 })).status, 422)

  await call(base, 'POST', '/authors', { name: 'Grace' })
  t.match(await all.next(), { model: 'author', payload: { name: 'Grace' } })
  const db = new Database(dbFile, { readonly: true })
  t.same(db.prepare('SELECT id, name FROM authors').all(), [{ id: 2, name: 'Grace' }], 'the SQLite file holds what the API said')
  db.close()
  t.same((await call(base, 'GET', '/authors')).json, [{ id: 2, name: 'Grace' }])
  t.same((await call(base, 'GET', '/books')).json, [])
})

t.test('the page is served at / and subscribes to both models', async (t) => {
  const { app, base } = await start(t)
  const page = await fetch(`http://${base}/`)
  t.match(page.headers.get('content-type'), /text\/html/)
  t.match(await page.text(), /\/api\/ws\?topic=author,book&ack=1/)
  const refused = new WebSocket(`ws://${base}/api/ws?topic=__proto__`)
  const [, response] = await once(refused, 'unexpected-response') as [unknown, { statusCode: number }]
  t.equal(response.statusCode, 400)
  const huge = new WebSocket(`ws://${base}/api/ws?topic=${'a,'.repeat(20_000)}`)
  const [, tooLong] = await once(huge, 'unexpected-response') as [unknown, { statusCode: number }]
  t.equal(tooLong.statusCode, 431, 'Node refuses a request line over its header limit before Fastify sees it')
  const doc = (app.ws.asyncapi() as unknown as { channels: Record<string, { address: string }> }).channels
  t.ok(Object.values(doc).some((channel) => channel.address === '/api/ws'), 'the subscription route is in the AsyncAPI document')
})

t.test('the server reads its settings from the environment, empty meaning unset', async (t) => {
  const { readChangesConfig } = await import('../../example/changes/config.js')
  t.match(readChangesConfig({}), { port: 3004, host: '127.0.0.1', dbFile: 'changes.db', logLevel: 'info', backend: 'memory' })
  t.match(readChangesConfig({ PORT: '0', HOST: '::1', DB_FILE: '/tmp/x.db', LOG_LEVEL: 'warn', REDIS_URL: '' }), { port: 0, host: '::1', dbFile: '/tmp/x.db', logLevel: 'warn', backend: 'memory' })
  t.match(readChangesConfig({ REDIS_URL: 'redis://127.0.0.1:1' }).backend, { name: 'redis' })
})
