import 'reflect-metadata'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import pachinko, { WebSocketResource } from '../lib/index.js'
import { connect, UpgradeRefusedError } from '../lib/testing/index.js'
import { build } from './helpers/build.js'

/* Subprotocol negotiation, driven by a plain ws client over a real port. */

class Versioned extends WebSocketResource {
  override onConnect () {
    this.send({ type: 'hello', payload: this.connection.protocol })
  }
}

async function serve (t: Test, app: Awaited<ReturnType<typeof build>>): Promise<string> {
  app.addWebSocketRoute('/chat', Versioned, { subprotocols: ['chat.v2', 'chat.v1'] })
  app.addWebSocketRoute('/any', Versioned)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** Opens a ws client; resolves with the protocol and first frame, or the HTTP status it was refused with. */
async function open (url: string, protocols?: string | string[], headers?: Record<string, string>): Promise<{ protocol: string, hello: unknown } | { status: number, body: string }> {
  const ws = new WebSocket(url, protocols, { headers })
  return await new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => resolve({ status: res.statusCode as number, body }))
    })
    ws.once('message', (data: Buffer) => {
      resolve({ protocol: ws.protocol, hello: JSON.parse(data.toString()).payload })
      ws.close()
    })
    ws.once('error', (err) => { if (!/Unexpected server response/.test(err.message)) reject(err) })
  })
}

t.test('picks the first of the client\'s offers the route speaks, and shows it as connection.protocol', async (t) => {
  const url = await serve(t, await build(t))
  t.same(await open(`${url}/chat`, ['chat.v3', 'chat.v1', 'chat.v2']), { protocol: 'chat.v1', hello: 'chat.v1' })
  t.same(await open(`${url}/chat`, ['chat.v2']), { protocol: 'chat.v2', hello: 'chat.v2' })
  t.same(await open(`${url}/any`, ['x', 'y']), { protocol: 'x', hello: 'x' }, 'a route without the option keeps ws\'s choice')
  t.same(await open(`${url}/any`), { protocol: '', hello: '' })
})

t.test('answers HTTP 400 before the upgrade when nothing is in common or the header is malformed', async (t) => {
  const app = await build(t)
  const url = await serve(t, app)
  const none = await open(`${url}/chat`, ['chat.v3'])
  t.match(none, { status: 400 })
  t.match(JSON.parse((none as { body: string }).body), { statusCode: 400, message: /this route speaks chat\.v2, chat\.v1/ })
  t.match(await open(`${url}/chat`), { status: 400 }, 'no offer at all is nothing in common')
  for (const header of ['chat.v2,,chat.v1', 'chat v2', 'chat.v2, chat.v2', 'ü', Array.from({ length: 40 }, (_, i) => `p${i}`).join(','), '"chat.v2"']) {
    const refused = await open(`${url}/chat`, undefined, { 'sec-websocket-protocol': header })
    t.match(refused, { status: 400 }, header.slice(0, 30))
    t.match((refused as { body: string }).body, /invalid Sec-WebSocket-Protocol header/)
  }
  t.equal(app.ws.size, 0, 'no socket was ever opened')
  t.notOk(app.logs.some((l) => l.level >= 50))
  const injected = await connect(app, '/chat', { headers: { 'sec-websocket-protocol': 'chat.v1' } })
  t.equal((await injected.expect('hello')).payload, 'chat.v1', 'the testing helper can offer protocols too')
  await t.rejects(connect(app, '/chat'), UpgradeRefusedError)
  await t.rejects(connect(app, '/chat', { headers: { 'sec-websocket-protocol': ['chat.v1', 'chat.v2'] as unknown as string } }), { name: 'UpgradeRefusedError', statusCode: 400 }, 'a header that is not one string')
})

t.test('refuses bad subprotocols options at addWebSocketRoute', async (t) => {
  const app = await build(t)
  for (const bad of [[], 'chat', ['chat v1'], ['a', 'a'], [1]]) {
    t.throws(() => app.addWebSocketRoute('/x', Versioned, { subprotocols: bad as string[] }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /subprotocols/ })
  }
})

t.test('works when you registered @fastify/websocket yourself, keeping your handleProtocols for other routes', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { options: { handleProtocols: (protocols) => [...protocols].pop() ?? false } })
  await app.register(pachinko)
  app.addWebSocketRoute('/chat', Versioned, { subprotocols: ['chat.v2', 'chat.v1'] })
  app.addWebSocketRoute('/any', Versioned)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  t.same(await open(`${url}/chat`, ['chat.v1', 'chat.v2']), { protocol: 'chat.v1', hello: 'chat.v1' })
  t.same(await open(`${url}/any`, ['x', 'y']), { protocol: 'y', hello: 'y' })
})
