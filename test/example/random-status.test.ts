import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildRandomStatusApp } from '../../example/random_status/app.js'
import { DEFAULT_DATABASE_PATH, readConfig, statusUrl } from '../../example/random_status/config.js'
import { connect } from '../../lib/testing/index.js'

/*
 * The random_status example through its public surface: HTTP, the WebSocket
 * route and the worker, against a real SQLite file in the test's own folder.
 */

interface StatusFrame { type: 'status', payload: { text: string | null, updatedAt: string | null } }
interface LogLine { level: number, msg: string }

async function start (t: Test, databasePath: string, randomIntervalMs = 60_000) {
  const logs: LogLine[] = []
  const app = await buildRandomStatusApp({
    databasePath,
    randomIntervalMs,
    server: { logger: { level: 'debug', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } } }
  })
  t.teardown(() => app.close())
  return { app, logs }
}

t.test('creates the database and its table on first start and serves an empty status', async (t) => {
  const path = join(t.testdir(), 'status.sqlite')
  t.notOk(existsSync(path))
  const { app } = await start(t, path)
  t.ok(existsSync(path), 'the file exists once the app is built')
  const reply = await app.inject('/status')
  t.equal(reply.statusCode, 200)
  t.same(reply.json(), { text: null, updatedAt: null })
  const client = await connect<StatusFrame>(app, '/ws')
  t.same((await client.expect<StatusFrame>('status')).payload, { text: null, updatedAt: null }, 'a new client is told the current status')
})

t.test('stores a status sent over the socket in SQLite and broadcasts it to every client', async (t) => {
  const path = join(t.testdir(), 'status.sqlite')
  const { app, logs } = await start(t, path)
  const ann = await connect(app, '/ws', { t })
  const bob = await connect(app, '/ws', { t })
  await ann.expect('status')
  await bob.expect('status')

  ann.send({ type: 'status', payload: { text: 'writing docs' } })
  const seenByBob = (await bob.expect<StatusFrame>('status')).payload
  t.equal(seenByBob.text, 'writing docs')
  t.match(seenByBob.updatedAt, /^\d{4}-\d\d-\d\dT/)
  t.same((await ann.expect<StatusFrame>('status')).payload, seenByBob, 'the sender gets the broadcast too')
  t.same((await app.inject('/status')).json(), seenByBob, 'GET /status answers what was stored')

  const db = new Database(path, { readonly: true })
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT text, updated_at AS updatedAt FROM status').all(), [seenByBob], 'one row, in the file itself')
  t.ok(logs.some((l) => l.msg === 'status changed'))
})

t.test('keeps the status across a restart on the same file', async (t) => {
  const path = join(t.testdir(), 'status.sqlite')
  const first = await start(t, path)
  const client = await connect(first.app, '/ws')
  await client.expect('status')
  client.send({ type: 'status', payload: { text: 'before the restart' } })
  await client.expect('status')
  await first.app.close()

  const second = await start(t, path)
  t.equal((await second.app.inject('/status')).json().text, 'before the restart')
})

t.test('refuses malformed, oversized, wrong-typed and hostile status messages without touching the database or logging errors', async (t) => {
  const path = join(t.testdir(), 'status.sqlite')
  const { app, logs } = await start(t, path)
  const client = await connect(app, '/ws', { t })
  await client.expect('status')
  const bad: Array<[unknown, string]> = [
    [{ type: 'status' }, 'VALIDATION'],
    [{ type: 'status', payload: {} }, 'VALIDATION'],
    [{ type: 'status', payload: { text: '' } }, 'VALIDATION'],
    [{ type: 'status', payload: { text: 'x'.repeat(281) } }, 'VALIDATION'],
    [{ type: 'status', payload: { text: 42 } }, 'VALIDATION'],
    [{ type: 'status', payload: { text: 'ok', mood: 'sneaky' } }, 'VALIDATION'],
    [{ type: 'status', payload: 'text' }, 'VALIDATION'],
    [{ type: 'random', payload: 1 }, 'UNKNOWN_TYPE'],
    [[1, 2], 'BAD_MESSAGE']
  ]
  for (const [message, code] of bad) {
    client.send(message)
    t.equal((await client.expect('error')).error.code, code, JSON.stringify(message).slice(0, 60))
  }
  client.sendRaw('{"type":"status","payload":{"text":"x","__proto__":{"polluted":true}}}', { binary: false })
  t.equal((await client.expect('error')).error.code, 'BAD_JSON', '__proto__ keys are refused')
  client.sendRaw('{"type":"status"')
  t.equal((await client.expect('error')).error.code, 'BAD_JSON')
  client.sendRaw(Buffer.from('binary'))
  t.equal((await client.expect('error')).error.code, 'UNSUPPORTED_DATA')

  t.same((await app.inject('/status')).json(), { text: null, updatedAt: null }, 'nothing was stored')
  client.send({ type: 'status', payload: { text: 'still works' } })
  t.equal((await client.expect<StatusFrame>('status')).payload.text, 'still works')
  t.same(logs.filter((l) => l.level >= 50), [], 'no error-level log line')
})

t.test('broadcasts a random number to every client each interval, from onReady until close', async (t) => {
  const path = join(t.testdir(), 'status.sqlite')
  const { app, logs } = await start(t, path, 10)
  const started = (): boolean => logs.some((l) => (l as { worker?: string }).worker === 'random' && l.msg === 'worker started')
  t.notOk(started(), 'not before the app is ready')
  const ann = await connect(app, '/ws')
  const bob = await connect(app, '/ws')
  const seen: number[][] = []
  for (const client of [ann, bob]) {
    const numbers: number[] = []
    for (let i = 0; i < 3; i++) numbers.push((await client.expect<{ payload: number }>('random')).payload)
    t.ok(numbers.every((n) => typeof n === 'number' && n >= 0 && n < 1), `numbers in [0, 1): ${numbers.join(', ')}`)
    seen.push(numbers)
  }
  t.same(seen[0], seen[1], 'every client gets the same broadcast')
  await app.close()
  t.ok(started(), 'the worker started on ready')
  t.notOk(logs.some((l) => l.level >= 40), 'it stopped on close without a warning')
})

t.test('reads its settings from the environment, with defaults, and names a bad variable', async (t) => {
  t.same(readConfig({}), { port: 3003, host: '127.0.0.1', databasePath: DEFAULT_DATABASE_PATH, randomIntervalMs: 5000 })
  t.ok(DEFAULT_DATABASE_PATH.startsWith(tmpdir()), 'the default file is under the OS temp dir')
  t.same(readConfig({ PORT: '8080', HOST: '0.0.0.0', DATABASE_PATH: '/data/s.db', RANDOM_INTERVAL_MS: '250' }),
    { port: 8080, host: '0.0.0.0', databasePath: '/data/s.db', randomIntervalMs: 250 })
  t.same(readConfig({ PORT: '', HOST: '', DATABASE_PATH: '' }).port, 3003, 'empty counts as unset')
  t.throws(() => readConfig({ PORT: 'eighty' }), /PORT must be an integer from 0 to 65535, got "eighty"/)
  t.throws(() => readConfig({ RANDOM_INTERVAL_MS: '0' }), /RANDOM_INTERVAL_MS must be an integer from 1/)
  t.throws(() => readConfig({ RANDOM_INTERVAL_MS: '1.5' }), /RANDOM_INTERVAL_MS/)
  t.equal(statusUrl({}), 'ws://127.0.0.1:3003/ws', 'the client connects to the server\'s default address')
  t.equal(statusUrl({ STATUS_URL: 'ws://example.test/ws' }), 'ws://example.test/ws')
})
