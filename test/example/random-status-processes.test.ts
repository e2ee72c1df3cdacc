import Database from 'better-sqlite3'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'

/*
 * The two terminals of the README, as child processes: the built server
 * (dist/example/random_status/server.js) and the built client, over TCP,
 * against a real SQLite file; Ctrl-C is a SIGINT. `npm test` builds first;
 * run `npm run build` before running this file alone.
 */
const dist = fileURLToPath(new URL('../../dist/example/random_status/', import.meta.url))
const SAFETY_NET_MS = 30_000 // only a hang gets near this

/** Starts a built script; its lines of stdout come through an iterator. */
function run (t: Test, script: string, args: string[], env: Record<string, string>): { child: ChildProcess, lines: AsyncIterator<string>, stderr: () => string } {
  const child = spawn(process.execPath, [join(dist, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: SAFETY_NET_MS, killSignal: 'SIGKILL' })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator](), stderr: () => stderr }
}

async function nextJson (lines: AsyncIterator<string>, match: (value: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const { value, done } = await lines.next()
    if (done === true) throw new Error('the process ended first')
    const parsed = JSON.parse(value) as Record<string, unknown>
    if (match(parsed)) return parsed
  }
}

t.test('the built client and server talk over TCP in two processes, and both stop cleanly on Ctrl-C', async (t) => {
  if (!existsSync(join(dist, 'server.js'))) {
    t.fail('dist/example/random_status/server.js is missing: run `npm run build` first (npm test does)')
    return
  }
  const databasePath = join(t.testdir(), 'status.sqlite')
  const server = run(t, 'server.js', [], { PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: databasePath, RANDOM_INTERVAL_MS: '50' })
  const ready = await nextJson(server.lines, (line) => typeof line.port === 'number')
  const port = ready.port as number
  t.match(ready.msg, `ws://127.0.0.1:${port}/ws`)

  const client = run(t, 'client.js', ['shipping', 'the', 'example'], { STATUS_URL: `ws://127.0.0.1:${port}/ws` })
  t.same(await nextJson(client.lines, () => true), { type: 'status', payload: { text: null, updatedAt: null } }, 'it prints the current status first')
  const changed = await nextJson(client.lines, (m) => m.type === 'status')
  t.match(changed, { type: 'status', payload: { text: 'shipping the example' } }, 'it sent its argument as the status and prints the broadcast')
  t.match(await nextJson(client.lines, (m) => m.type === 'random'), { type: 'random', payload: Number }, 'and the random numbers')

  const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json()
  t.same(status, (changed as { payload: unknown }).payload, 'GET /status answers it')
  const db = new Database(databasePath, { readonly: true })
  t.equal((db.prepare('SELECT text FROM status').get() as { text: string }).text, 'shipping the example', 'it is in the SQLite file')
  db.close()

  const clientExit = once(client.child, 'exit')
  client.child.kill('SIGINT')
  t.same(await clientExit, [0, null], 'the client exits 0 on Ctrl-C', { stderr: client.stderr() })
  t.match(client.stderr(), /connected to ws:\/\/127\.0\.0\.1:\d+\/ws; Ctrl-C to quit/)

  const serverExit = once(server.child, 'exit')
  server.child.kill('SIGINT')
  t.same(await serverExit, [0, null], 'the server exits 0 on Ctrl-C', { stderr: server.stderr() })
})

t.test('the built client says why when no server answers, and exits 1', async (t) => {
  if (!existsSync(join(dist, 'client.js'))) {
    t.fail('dist/example/random_status/client.js is missing: run `npm run build` first (npm test does)')
    return
  }
  const client = run(t, 'client.js', [], { STATUS_URL: 'ws://127.0.0.1:1/ws' })
  const [code] = await once(client.child, 'exit')
  t.equal(code, 1)
  t.match(client.stderr(), /ECONNREFUSED/)
})

t.test('the built client says so and exits 1 when the server shuts down under it', async (t) => {
  if (!existsSync(join(dist, 'server.js'))) return t.fail('run `npm run build` first (npm test does)')
  const server = run(t, 'server.js', [], { PORT: '0', DATABASE_PATH: join(t.testdir(), 'status.sqlite') })
  const { port } = await nextJson(server.lines, (line) => typeof line.port === 'number') as { port: number }
  const client = run(t, 'client.js', [], { STATUS_URL: `ws://127.0.0.1:${port}/ws` })
  await nextJson(client.lines, (m) => m.type === 'status')
  const clientExit = once(client.child, 'exit')
  server.child.kill('SIGTERM')
  t.same(await clientExit, [1, null])
  t.match(client.stderr(), /connection closed by the server \(1001 server shutting down\)/)
})

t.test('Ctrl-C while the built client is still connecting exits 0 at once', async (t) => {
  if (!existsSync(join(dist, 'client.js'))) return t.fail('run `npm run build` first (npm test does)')
  // a TCP server that takes the connection and never answers the upgrade: the client stays in CONNECTING
  const silent = createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => silent.close(resolve)))
  const accepted = once(silent, 'connection')
  const client = run(t, 'client.js', ['never', 'sent'], { STATUS_URL: `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws` })
  const [socket] = await accepted as [Socket]
  t.teardown(() => socket.destroy())
  const exited = once(client.child, 'exit')
  client.child.kill('SIGINT')
  t.same(await exited, [0, null], 'exits 0', { stderr: client.stderr() })
})
