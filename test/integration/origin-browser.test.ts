import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import type { Browser } from 'playwright-core'
import { WebSocket } from 'ws'
import { buildChatApp } from '../../example/chat/app.js'
import { launchChromium, needChromium } from '../helpers/chromium.js'

/*
 * Cross-site WebSocket hijacking, in a real browser: a page on another origin
 * opens a socket to the chat (the browser would send the visitor's cookies);
 * the chat answers its upgrade with HTTP 403 before any socket exists. The
 * chat's own page, served by the chat, still joins; a Node client (no
 * Origin) still connects.
 */

async function launch (t: Test): Promise<Browser | undefined> {
  return needChromium(t) ? await launchChromium(t) : undefined
}

t.test('a page on another origin cannot open a socket to the chat (HTTP 403); the chat’s own page and a Node client can', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const logs: Array<{ level: number, msg: string, origin?: string, statusCode?: number }> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line)); done() } })
  const app = await buildChatApp({ server: { logger: { level: 'info', stream } } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const chat = `127.0.0.1:${(app.server.address() as AddressInfo).port}`

  // the attacker's site: another port is another origin
  const evil: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html')
    res.end(`<!doctype html><title>evil</title><script>
      const ws = new WebSocket('ws://${chat}/ws/chat/lobby?user=mallory')
      ws.onopen = () => { document.title = 'opened' }
      ws.onclose = (event) => { document.title = 'closed ' + event.code }
    </script>`)
  })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => evil.close(resolve)))
  const evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`

  const attacker = await browser.newPage()
  await attacker.goto(`${evilOrigin}/`)
  // a string, so the test's TypeScript needs no DOM types
  await attacker.waitForFunction("document.title.startsWith('closed') || document.title === 'opened'")
  t.equal(await attacker.title(), 'closed 1006', 'the browser never got a socket')
  t.match(logs.find((l) => l.msg === 'WebSocket upgrade refused: origin not allowed'), { level: 30, origin: evilOrigin, statusCode: 403 })
  t.equal(app.ws.size, 0)

  const ann = await browser.newPage()
  await ann.goto(`http://${chat}/`)
  await ann.fill('#name', 'ann')
  await ann.fill('#room', 'lobby')
  await ann.click('#join button')
  await ann.waitForSelector('text=You are the first one here.')
  t.equal(app.ws.size, 1, "the chat's own page joined")

  const node = new WebSocket(`ws://${chat}/ws/chat/lobby?user=bot`)
  const welcome = await new Promise<{ type: string }>((resolve, reject) => {
    node.once('message', (data) => resolve(JSON.parse(data.toString())))
    node.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${String(res.statusCode)}`)))
  })
  t.equal(welcome.type, 'systemMessage', 'a Node client without Origin gets in')
  await ann.waitForSelector('text=bot joined')
  node.close()
  t.notOk(logs.some((l) => l.level >= 50), 'nothing at error level')
})
