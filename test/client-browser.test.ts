import 'reflect-metadata'
import { build as esbuild } from 'esbuild'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { buildChatApp } from '../example/chat/app.js'
import { launchChromium, needChromium } from './helpers/chromium.js'

/*
 * fastify-pachinko/client has nothing of Fastify (or the server) in its import
 * graph: bundled for the browser, every input is one of lib/client's own
 * files. That bundle then runs in Chromium against the chat example:
 * requests with replies, an error carrying its ref, a server request
 * answered by the page, and a reconnect.
 */

async function bundle (): Promise<{ code: string, inputs: string[] }> {
  const result = await esbuild({
    entryPoints: ['lib/client/index.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  return { code: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) }
}

t.test('bundles for the browser from lib/client alone: no Fastify, no ws, no server code', async (t) => {
  const { code, inputs } = await bundle()
  t.same(inputs.sort(), ['lib/client/backoff.ts', 'lib/client/client.ts', 'lib/client/index.ts', 'lib/client/request-error.ts', 'lib/client/resume.ts'])
  t.notMatch(code, /fastify|require\(|node:/i)
  t.ok(code.length < 30_000, `the bundle is small (${code.length} bytes)`)
})

t.test('the client works in Chromium against the chat example', async (t) => {
  if (!needChromium(t)) return
  const { code } = await bundle()
  const page = readFileSync(new URL('./fixtures/client-page/index.html', import.meta.url), 'utf8')
  const app = await buildChatApp()
  t.teardown(() => app.close())
  app.get('/client.js', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(code))
  app.get('/client-page', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(page))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const browser = await launchChromium(t)
  const tab = await browser.newPage()
  const failures: string[] = []
  tab.on('pageerror', (err) => failures.push(err.message))
  await tab.goto(`http://127.0.0.1:${port}/client-page?room=lobby&user=ann`)
  await tab.waitForSelector('#status:text-is("open")')
  await tab.waitForSelector('text=Welcome to #lobby, ann!')

  await tab.evaluate(async () => { await (globalThis as unknown as { say: (text: string) => Promise<void> }).say('hello from Chromium') })
  t.match(JSON.parse(await tab.textContent('#reply') as string), { user: 'ann', text: 'hello from Chromium' }, 'a request resolves with its reply')
  await tab.waitForSelector('text=ann: hello from Chromium')
  await tab.evaluate(async () => { await (globalThis as unknown as { say: (text: string) => Promise<void> }).say('') })
  t.equal(await tab.textContent('#error'), 'ClientRequestError VALIDATION', 'an error frame with the ref rejects the request')

  const [connection] = [...app.ws.local()]
  t.same(await connection.request({ type: 'confirm', payload: { question: 'stay?' } }, { timeoutMs: 3000 }), { confirmed: 'stay?', by: 'ann' }, 'the page answers a server request')

  await app.ws.disconnect(connection.id, 1012, 'restart')
  await tab.waitForFunction(() => (globalThis as unknown as { statuses: string[] }).statuses.join(',') === 'open,reconnecting,open')
  t.equal(app.ws.size, 1, 'reconnected')
  t.same(failures, [])
})
