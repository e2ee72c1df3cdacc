import 'reflect-metadata'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import pachinko, { WebSocketResource, type PachinkoOptions } from '../lib/index.js'
import { build } from './helpers/build.js'

/* permessage-deflate: off by default, on with the plugin's `compression` option, negotiated with a real ws client. */

class Echo extends WebSocketResource {
  static convention = 'any' as const
  onEcho (msg: { payload: unknown }) {
    this.send({ type: 'echo', payload: msg.payload })
  }
}

async function serve (t: Test, options: PachinkoOptions): Promise<string> {
  const app = await build(t, options)
  app.addWebSocketRoute('/echo', Echo)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/echo`
}

/** Echoes a big payload; resolves with the negotiated extensions and the bytes the server's reply took on the wire. */
async function roundTrip (url: string): Promise<{ extensions: string, wireBytes: number, echoed: boolean }> {
  const ws = new WebSocket(url, { perMessageDeflate: true })
  let extensions = ''
  ws.once('upgrade', (response) => { extensions = String(response.headers['sec-websocket-extensions'] ?? '') })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const socket = (ws as unknown as { _socket: NodeJS.ReadableStream & { bytesRead: number } })._socket
  const before = socket.bytesRead
  const text = 'pachinko '.repeat(2000)
  ws.send(JSON.stringify({ type: 'echo', payload: text }))
  const reply = await new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())))
  const wireBytes = socket.bytesRead - before
  ws.close()
  return { extensions, wireBytes, echoed: JSON.parse(reply).payload === text }
}

t.test('is off by default: nothing is negotiated, frames go uncompressed', async (t) => {
  const result = await roundTrip(await serve(t, {}))
  t.equal(result.extensions, '')
  t.ok(result.echoed)
  t.ok(result.wireBytes > 18000)
})

t.test('compresses once turned on, with its threshold and memory settings', async (t) => {
  const on = await roundTrip(await serve(t, { compression: true }))
  t.match(on.extensions, /permessage-deflate/)
  t.ok(on.echoed)
  t.ok(on.wireBytes < 1000, `the 18 KB reply took ${on.wireBytes} bytes`)
  const tuned = await roundTrip(await serve(t, { compression: { threshold: 100, level: 1, memLevel: 1, serverMaxWindowBits: 9, serverNoContextTakeover: true, clientNoContextTakeover: true, concurrencyLimit: 2 } }))
  t.match(tuned.extensions, /server_no_context_takeover/)
  t.match(tuned.extensions, /server_max_window_bits=9/)
  t.ok(tuned.echoed)
  // ws applies the threshold only without context takeover: with a shared window, small frames compress cheaply
  const shared = await roundTrip(await serve(t, { compression: { threshold: 100_000 } }))
  t.ok(shared.wireBytes < 1000, 'with context takeover the threshold does not apply (ws)')
  const high = await roundTrip(await serve(t, { compression: { threshold: 100_000, serverNoContextTakeover: true } }))
  t.match(high.extensions, /permessage-deflate/)
  t.ok(high.wireBytes > 18000, `a frame under the threshold goes uncompressed (${high.wireBytes} bytes)`)
})

t.test('refuses bad compression settings at register', async (t) => {
  for (const [bad, pattern] of [
    [{ level: 10 }, /compression\.level/], [{ memLevel: 0 }, /compression\.memLevel/], [{ serverMaxWindowBits: 16 }, /serverMaxWindowBits/],
    [{ threshold: -1 }, /threshold/], [{ serverNoContextTakeover: 'yes' }, /serverNoContextTakeover/], ['on', /"compression"/]
  ] as Array<[unknown, RegExp]>) {
    await t.rejects(build(t, { compression: bad as PachinkoOptions['compression'] }), { code: 'FST_PACHINKO_OPTION_INVALID', message: pattern })
  }
})

t.test('applies to a @fastify/websocket you registered yourself', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  await app.register(pachinko, { compression: true })
  app.addWebSocketRoute('/echo', Echo)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const result = await roundTrip(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/echo`)
  t.match(result.extensions, /permessage-deflate/)
})
