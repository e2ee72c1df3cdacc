import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { OwnRedis } from '../helpers/redis-server.js'

/*
 * From outside the repo: the built example server (dist/example/changes/server.js)
 * as two processes sharing a Redis of the test's own and one SQLite file;
 * clients are plain `ws` sockets and `fetch`. Run `npm run build` first when
 * running this file alone (`npm test` does).
 */
const server = fileURLToPath(new URL('../../dist/example/changes/server.js', import.meta.url))
const SAFETY_NET_MS = 30_000 // only a hang gets near this

interface LogLine { level: number, msg: string, port?: number }

/** Starts a server process; resolves with its port and every log line it writes, as they come. */
async function startServer (t: Test, env: Record<string, string>): Promise<{ port: number, logs: LogLine[], child: ChildProcess, next: (match: (line: LogLine) => boolean) => Promise<LogLine> }> {
  const child = spawn(process.execPath, [server], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'inherit'], timeout: SAFETY_NET_MS, killSignal: 'SIGKILL' })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: LogLine[] = []
  const waiters: Array<{ match: (line: LogLine) => boolean, resolve: (line: LogLine) => void }> = []
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine
    logs.push(line)
    for (const waiter of waiters.filter((w) => w.match(line))) { waiters.splice(waiters.indexOf(waiter), 1); waiter.resolve(line) }
  })
  const next = async (match: (line: LogLine) => boolean): Promise<LogLine> => logs.find(match) ?? await new Promise((resolve) => waiters.push({ match, resolve }))
  const ready = await next((line) => typeof line.port === 'number')
  return { port: ready.port as number, logs, child, next }
}

async function subscribe (t: Test, url: string): Promise<() => Promise<Record<string, unknown>>> {
  const socket = new WebSocket(url)
  t.teardown(() => socket.terminate())
  const frames: Array<Record<string, unknown>> = []
  const waiting: Array<(frame: Record<string, unknown>) => void> = []
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>
    const waiter = waiting.shift()
    if (waiter === undefined) frames.push(frame)
    else waiter(frame)
  })
  socket.on('error', () => {})
  const next = async (): Promise<Record<string, unknown>> => frames.shift() ?? await new Promise((resolve) => waiting.push(resolve))
  t.match(await next(), { type: 'subscribed' })
  return next
}

async function post (port: number, path: string, body: unknown): Promise<{ status: number, json: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, json: await response.json() }
}

t.test('two processes over Redis: a write on one reaches subscribers of both; with Redis gone the write still succeeds and one warning is logged', async (t) => {
  if (!existsSync(server)) {
    t.fail('dist/example/changes/server.js is missing: run `npm run build` first (npm test does)')
    return
  }
  const redis = await OwnRedis.start()
  let redisUp = true
  // OwnRedis.kill() waits for an exit, so it is called once
  t.teardown(async () => { if (redisUp) await redis.kill() })
  const dbFile = join(t.testdir(), 'changes.db')
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: 'changes-test', DB_FILE: dbFile }
  const a = await startServer(t, env)
  const b = await startServer(t, env)

  const authorsOnB = await subscribe(t, `ws://127.0.0.1:${b.port}/api/ws?topic=author&ack=1`)
  const allOnB = await subscribe(t, `ws://127.0.0.1:${b.port}/api/ws?ack=1`)
  const allOnA = await subscribe(t, `ws://127.0.0.1:${a.port}/api/ws?ack=1`)

  const ada = await post(a.port, '/authors', { name: 'Ada' })
  t.same(ada, { status: 201, json: { id: 1, name: 'Ada' } })
  for (const next of [authorsOnB, allOnB, allOnA]) t.match(await next(), { model: 'author', method: 'POST', id: 1, many: false, payload: ada.json })
  const book = await post(b.port, '/books', { title: 'Notes', authorId: 1 })
  t.equal(book.status, 201, 'the other process sees the same SQLite file')
  t.match(await allOnA(), { model: 'book', payload: book.json }, 'and its write crosses back')
  t.match(await allOnB(), { model: 'book' })

  await redis.kill()
  redisUp = false
  const during = await post(a.port, '/authors', { name: 'Grace' })
  t.same(during, { status: 201, json: { id: 2, name: 'Grace' } }, 'the response is not affected by the outage')
  // a publish the backend already knew it could not make fails (the feed's warning); one handed to Redis
  // just before the connection dropped is a loss the backend reports (broadcasts settle on hand-over)
  const lost = (line: { msg: string }): boolean => line.msg.includes('publishing the event failed') || line.msg.includes('did not reach the other nodes')
  const warning = await a.next(lost)
  t.equal(warning.level, 40)
  t.match(await allOnA(), { payload: { name: 'Grace' } }, 'the node\'s own subscribers still get it')
  t.equal(a.logs.filter((line) => line.level === 40 && lost(line)).length, 1, 'one warning for the event')
  t.notOk(a.logs.some((line) => line.level >= 50 && line.msg.includes('change feed')), 'nothing at error level from the feed')

  for (const child of [a.child, b.child]) {
    const exit = once(child, 'exit')
    child.kill('SIGTERM')
    t.same(await exit, [0, null])
  }
})
