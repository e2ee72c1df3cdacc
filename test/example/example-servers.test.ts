import { Redis } from 'ioredis'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'

/*
 * The example servers as a new user starts them (the built dist/ files):
 * the chat takes its Redis key prefix from REDIS_PREFIX, and the reference
 * example's default port is 3002, not the 3001 the README gives a second
 * chat node. `npm test` builds first; run `npm run build` before this file alone.
 */
const dist = (path: string) => fileURLToPath(new URL(`../../dist/example/${path}`, import.meta.url))

/** Starts a built server and resolves with its "Server listening at" URL, or the error it died with. */
async function start (t: Test, script: string, env: Record<string, string | undefined>): Promise<{ url?: string, error?: string, stop: () => Promise<unknown[]> }> {
  // the settings under test come from `env` alone
  const { PORT: _port, HOST: _host, REDIS_URL: _redis, REDIS_PREFIX: _prefix, ...inherited } = process.env
  const child = spawn(process.execPath, [dist(script)], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' })
  const exited = once(child, 'exit')
  const stop = async (): Promise<unknown[]> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return await exited
  }
  t.teardown(stop)
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg: string }
    const listening = /Server listening at (http:\/\/\S+)/.exec(entry.msg)
    if (listening !== null) return { url: listening[1], stop }
  }
  let stderr = ''
  for await (const chunk of child.stderr!) stderr += String(chunk)
  return { error: stderr, stop }
}

t.test('npm start\'s chat server serves the page from memory, and stops on SIGTERM', async (t) => {
  if (!existsSync(dist('chat/server.js'))) return t.fail('run `npm run build` first (npm test does)')
  const { url, stop } = await start(t, 'chat/server.js', { PORT: '0' })
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'on 127.0.0.1 by default')
  const page = await fetch(`${url!}/`)
  t.equal(page.status, 200)
  t.match(await page.text(), /fastify-pachinko chat/)
  t.match(await (await fetch(`${url!}/health`)).json(), { backend: 'memory' }, 'no REDIS_URL: rooms in memory')
  t.same(await stop(), [0, null], 'SIGTERM closes the app and exits 0')
})

t.test('the chat server namespaces its Redis keys with REDIS_PREFIX', async (t) => {
  if (!await needRedis(t)) return
  if (!existsSync(dist('chat/server.js'))) return t.fail('run `npm run build` first (npm test does)')
  const prefix = testPrefix('chat-env')
  const { url } = await start(t, 'chat/server.js', { PORT: '0', REDIS_URL, REDIS_PREFIX: prefix })
  t.ok(url, 'it started')
  const socket = new WebSocket(`${url!.replace('http', 'ws')}/ws/chat/general?user=ann`)
  t.teardown(() => socket.close())
  await once(socket, 'message')
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())
  const keys = await redis.keys(`${prefix}*`)
  t.ok(keys.length > 0, `its keys are under ${prefix}: ${keys.join(', ')}`)
})

t.test('the reference example listens on 3002 by default', async (t) => {
  if (!existsSync(dist('reference/server.js'))) return t.fail('run `npm run build` first (npm test does)')
  const { url, error } = await start(t, 'reference/server.js', {})
  // another program may hold the port on a shared machine: being refused it still shows which one was asked for
  if (url !== undefined) t.equal(url, 'http://127.0.0.1:3002')
  else t.match(error, /EADDRINUSE.*3002/)
})
