import 'reflect-metadata'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { Test } from 'tap'
import t from 'tap'
import { worker } from '../lib/workers/worker-decorator.js'
import type { WorkerContext } from '../lib/index.js'
import { build, until, type LogLine } from './helpers/build.js'

const DEBUG = 20
const INFO = 30
const WARN = 40
const ERROR = 50

async function buildApp (t: Test, workerStopTimeoutMs?: number): Promise<Awaited<ReturnType<typeof build>>> {
  return await build(t, { workerStopTimeoutMs })
}

function logsOf (app: { logs: LogLine[] }, name: string, level?: number): LogLine[] {
  return app.logs.filter((line) => line.worker === name && (level === undefined || line.level === level))
}

t.test('starts a worker on ready, not before, with app.ws, a signal and a logger named for it', async (t) => {
  const app = await buildApp(t)
  let context: WorkerContext | undefined
  t.equal(app.addWebSocketWorker(async function watcher (ctx) {
    context = ctx
    await once(ctx.signal, 'abort')
  }), app, 'returns the instance')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(context, undefined, 'not started before ready()')
  await app.ready()
  await until(() => context !== undefined)
  t.equal(context?.ws, app.ws)
  t.equal(context?.app, app)
  t.equal(context?.signal.aborted, false)
  context?.log.info('hello from the worker')
  t.match(app.logs.find((line) => line.msg === 'hello from the worker'), { worker: 'watcher' }, 'the name defaults to the function name')
  t.match(logsOf(app, 'watcher', DEBUG), [{ msg: 'worker started' }])
})

t.test('runs a worker in the encapsulation context it was added in, seeing that context\'s decorators', async (t) => {
  const app = await buildApp(t)
  let seen: unknown
  let scoped: unknown
  await app.register(async (child) => {
    child.decorate('greeting', 'hello from the child context')
    child.addWebSocketWorker(async ({ app: instance, signal }) => {
      scoped = instance
      seen = (instance as unknown as { greeting: string }).greeting
      await once(signal, 'abort')
    }, { name: 'scoped' })
  })
  await app.ready()
  await until(() => seen !== undefined)
  t.equal(seen, 'hello from the child context')
  t.not(scoped, app)
  t.notOk(app.hasDecorator('greeting'), 'the decorator stayed in the child')
})

t.test('aborts the signal on close and waits for the worker to finish its cleanup', async (t) => {
  const app = await buildApp(t)
  let started = false
  let cleaned = false
  app.addWebSocketWorker(async ({ signal }) => {
    started = true
    await once(signal, 'abort')
    await delay(20)
    cleaned = true
  }, { name: 'cleaner' })
  await app.ready()
  await until(() => started)
  await app.close()
  t.ok(cleaned, 'close waited for the cleanup')
  t.match(logsOf(app, 'cleaner', DEBUG).at(-1), { msg: 'worker stopped' })
  t.same(app.logs.filter((line) => line.level >= WARN), [])
})

t.test('never starts a worker when the app is closed before it was ready', async (t) => {
  const app = await buildApp(t)
  let called = false
  app.addWebSocketWorker(async () => { called = true }, { name: 'unborn' })
  await app.close()
  t.notOk(called)
  t.same(logsOf(app, 'unborn'), [])
})

t.test('warns with the worker\'s name when it does not stop within its stopTimeoutMs, and close completes', async (t) => {
  const app = await buildApp(t, 60_000)
  app.addWebSocketWorker(async () => { await new Promise(() => {}) }, { name: 'stubborn', stopTimeoutMs: 30 })
  app.addWebSocketWorker(async ({ signal }) => { await once(signal, 'abort') }, { name: 'polite' })
  await app.ready()
  await app.close()
  t.match(logsOf(app, 'stubborn', WARN), [{ stopTimeoutMs: 30, msg: /worker "stubborn" did not stop within 30 ms/ }])
  t.same(logsOf(app, 'polite', WARN), [])
})

t.test('uses the plugin-level stopTimeoutMs when the worker sets none', async (t) => {
  const app = await buildApp(t, 30)
  app.addWebSocketWorker(async () => { await new Promise(() => {}) }, { name: 'stubborn' })
  await app.ready()
  await app.close()
  t.match(logsOf(app, 'stubborn', WARN), [{ stopTimeoutMs: 30, msg: /did not stop within 30 ms/ }])
})

t.test('fails fast: a failing worker is logged with its name and the app is closed', async (t) => {
  const app = await buildApp(t)
  let bystanderStopped = false
  app.addWebSocketWorker(async ({ signal }) => {
    await once(signal, 'abort')
    bystanderStopped = true
  }, { name: 'bystander' })
  app.addWebSocketWorker(async () => {
    await delay(20)
    throw new Error('database gone')
  }, { name: 'importer' })
  await app.ready()
  await until(() => bystanderStopped, 5000, 'the app to close')
  t.match(logsOf(app, 'importer', ERROR), [{ err: { message: 'database gone' }, msg: /worker failed; closing the app/ }])
  t.same(logsOf(app, 'importer', WARN), [], 'not restarted')
})

t.test('fails fast once when workers fail while the app is still booting', async (t) => {
  const app = await buildApp(t)
  let closes = 0
  app.addHook('onClose', async () => { closes++ })
  app.addWebSocketWorker(function explode () { throw new Error('first') })
  app.addWebSocketWorker(async function implode () { throw new Error('second') })
  await app.ready()
  await until(() => closes === 1, 5000, 'the app to close')
  t.match(logsOf(app, 'explode', ERROR), [{ err: { message: 'first' } }])
  t.match(logsOf(app, 'implode', ERROR), [{ err: { message: 'second' } }])
  await app.close()
  t.equal(closes, 1)
})

t.test('logs when closing the app after a failure fails', async (t) => {
  const app = await buildApp(t)
  app.addHook('onClose', async () => { throw new Error('hook broke') })
  app.addWebSocketWorker(async () => { throw new Error('worker broke') }, { name: 'broken' })
  await app.ready()
  await until(() => logsOf(app, 'broken', ERROR).length === 2, 5000, 'the failed close to be logged')
  t.match(logsOf(app, 'broken', ERROR)[1], { err: { message: 'hook broke' }, msg: 'could not close the app after the worker failed' })
})

t.test('on-failure: restarts with exponential backoff, capped at maxMs, and logs each restart', async (t) => {
  const app = await buildApp(t)
  let runs = 0
  app.addWebSocketWorker(async ({ signal }) => {
    runs++
    if (runs <= 4) throw new Error(`run ${runs} failed`)
    await once(signal, 'abort')
  }, { name: 'flaky', restart: 'on-failure', backoff: { initialMs: 1, factor: 3, maxMs: 20 } })
  await app.ready()
  await until(() => runs === 5, 5000, 'the fifth run')
  const restarts = logsOf(app, 'flaky', WARN)
  t.same(restarts.map((line) => [line.attempt, line.delayMs]), [[1, 1], [2, 3], [3, 9], [4, 20]])
  t.match(restarts, [{ err: { message: 'run 1 failed' }, msg: 'worker failed; restart 1 in 1 ms' }, {}, {}, { err: { message: 'run 4 failed' } }])
  t.same(logsOf(app, 'flaky', ERROR), [], 'the app is not closed')
})

t.test('on-failure: starts the backoff over after a run that lasted longer than maxMs', async (t) => {
  const app = await buildApp(t)
  let runs = 0
  app.addWebSocketWorker(async ({ signal }) => {
    runs++
    if (runs === 3) await delay(30)
    if (runs <= 3) throw new Error(`run ${runs} failed`)
    await once(signal, 'abort')
  }, { name: 'recovering', restart: 'on-failure', backoff: { initialMs: 1, factor: 2, maxMs: 10 } })
  await app.ready()
  await until(() => runs === 4, 5000, 'the fourth run')
  t.same(logsOf(app, 'recovering', WARN).map((line) => line.attempt), [1, 2, 1])
})

t.test('on-failure: close cuts a backoff wait short', async (t) => {
  const app = await buildApp(t)
  let runs = 0
  app.addWebSocketWorker(async () => {
    runs++
    throw new Error('down')
  }, { name: 'waiting', restart: 'on-failure', backoff: { initialMs: 60_000 } })
  await app.ready()
  await until(() => logsOf(app, 'waiting', WARN).length === 1)
  await app.close()
  t.equal(runs, 1)
  t.match(logsOf(app, 'waiting', DEBUG).at(-1), { msg: 'worker stopped during its backoff' })
  t.same(logsOf(app, 'waiting', WARN).length, 1, 'no "did not stop" warning: the wait was aborted')
})

t.test('logs a worker that returns on its own as finished and does not restart it', async (t) => {
  const app = await buildApp(t)
  let runs = 0
  app.addWebSocketWorker(async () => {
    runs++
    await delay(5)
  }, { name: 'one-shot', restart: 'on-failure', backoff: { initialMs: 1 } })
  await app.ready()
  await until(() => logsOf(app, 'one-shot', INFO).length === 1)
  t.match(logsOf(app, 'one-shot', INFO), [{ msg: 'worker finished' }])
  await app.close()
  t.equal(runs, 1)
  t.same(app.logs.filter((line) => line.level >= WARN), [])
})

t.test('treats a worker that throws after its signal was aborted as stopped, not failed', async (t) => {
  const app = await buildApp(t)
  let started = false
  app.addWebSocketWorker(async ({ signal }) => {
    started = true
    await once(signal, 'abort')
    throw new Error('interrupted')
  }, { name: 'interrupted' })
  await app.ready()
  await until(() => started)
  await app.close()
  t.match(logsOf(app, 'interrupted', DEBUG).at(-1), { err: { message: 'interrupted' }, msg: 'worker threw after it was stopped' })
  t.same(app.logs.filter((line) => line.level >= WARN), [])
})

t.test('hands the worker the DI container: singletons resolve, connection-scoped services do not', async (t) => {
  const app = await buildApp(t)
  class Clock { now () { return 1 } }
  class PerConnection {}
  app.ws.container.register(Clock).register(PerConnection, undefined, { scope: 'connection' })
  let result: unknown
  app.addWebSocketWorker(async ({ container }) => {
    const clock = await container.resolve(Clock)
    result = await container.resolve(PerConnection).then(() => 'resolved', (err: { code: string }) => `${clock.now()} ${err.code}`)
  }, { name: 'injected' })
  await app.ready()
  await until(() => result !== undefined)
  t.equal(result, '1 FST_PACHINKO_DI_CAPTIVE')
})

t.test('@worker: every decorated method of an instance runs as a worker bound to it', async (t) => {
  class Jobs {
    ticks = 0
    constructor (readonly label: string) {}

    @worker()
    async tick ({ signal }: WorkerContext) {
      this.ticks++
      await once(signal, 'abort')
    }

    @worker({ name: 'jobs.sweeper', restart: 'on-failure', backoff: { initialMs: 1 } })
    async sweep ({ signal, log }: WorkerContext) {
      log.info({ label: this.label }, 'sweeping')
      await once(signal, 'abort')
    }

    notAWorker () {}
  }
  class NightlyJobs extends Jobs {
    @worker()
    async report ({ signal }: WorkerContext) { await once(signal, 'abort') }
  }
  const app = await buildApp(t)
  const jobs = new NightlyJobs('nightly')
  t.equal(app.addWebSocketWorkers(jobs), app, 'returns the instance')
  await app.ready()
  await until(() => app.logs.some((line) => line.msg === 'sweeping'))
  t.equal(jobs.ticks, 1)
  t.match(app.logs.find((line) => line.msg === 'sweeping'), { worker: 'jobs.sweeper', label: 'nightly' })
  const started = app.logs.filter((line) => line.msg === 'worker started').map((line) => line.worker)
  t.same(started.sort(), ['NightlyJobs.report', 'NightlyJobs.tick', 'jobs.sweeper'])
  await app.close()
  t.same(app.logs.filter((line) => line.level >= WARN), [])
})

t.test('refuses bad worker declarations with FST_PACHINKO_OPTION_INVALID naming the option', async (t) => {
  const app = await buildApp(t)
  const fn = async (): Promise<void> => {}
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['a string', () => app.addWebSocketWorker('nope' as never), /"worker": must be a function, got string/],
    ['null', () => app.addWebSocketWorker(null as never), /"worker": must be a function, got null/],
    ['an object', () => app.addWebSocketWorker({} as never), /"worker": must be a function, got an object/],
    ['an anonymous function without a name', () => app.addWebSocketWorker(async () => {}), /"name": .*needs \{ name \}/],
    ['options that are not an object', () => app.addWebSocketWorker(fn, 'fast' as never), /"options": must be an object, got string/],
    ['an empty name', () => app.addWebSocketWorker(fn, { name: '' }), /"name": must be a non-empty string/],
    ['an unknown restart policy', () => app.addWebSocketWorker(fn, { name: 'w', restart: 'always' as never }), /"restart": must be 'never' or 'on-failure', got always \(worker "w"\)/],
    ['a zero stopTimeoutMs', () => app.addWebSocketWorker(fn, { name: 'w', stopTimeoutMs: 0 }), /"stopTimeoutMs": must be a positive integer, got 0/],
    ['a fractional stopTimeoutMs', () => app.addWebSocketWorker(fn, { name: 'w', stopTimeoutMs: 1.5 }), /"stopTimeoutMs"/],
    ['a string stopTimeoutMs', () => app.addWebSocketWorker(fn, { name: 'w', stopTimeoutMs: '5' as never }), /"stopTimeoutMs"/],
    ['a backoff that is not an object', () => app.addWebSocketWorker(fn, { name: 'w', backoff: 5 as never }), /"backoff": must be an object \(worker "w"\)/],
    ['a negative initialMs', () => app.addWebSocketWorker(fn, { name: 'w', backoff: { initialMs: -1 } }), /"backoff.initialMs": must be a positive integer/],
    ['a factor under 1', () => app.addWebSocketWorker(fn, { name: 'w', backoff: { factor: 0.5 } }), /"backoff.factor": must be a finite number of at least 1, got 0.5/],
    ['an infinite factor', () => app.addWebSocketWorker(fn, { name: 'w', backoff: { factor: Infinity } }), /"backoff.factor"/],
    ['a string factor', () => app.addWebSocketWorker(fn, { name: 'w', backoff: { factor: '2' as never } }), /"backoff.factor"/],
    ['a zero maxMs', () => app.addWebSocketWorker(fn, { name: 'w', backoff: { maxMs: 0 } }), /"backoff.maxMs": must be a positive integer/],
    ['a maxMs under initialMs', () => app.addWebSocketWorker(fn, { name: 'w', backoff: { initialMs: 50, maxMs: 10 } }), /"backoff.maxMs": must be at least backoff.initialMs \(50\), got 10/],
    ['addWebSocketWorkers(null)', () => app.addWebSocketWorkers(null as never), /"instance": must be an object whose class has @worker methods, got null/],
    ['addWebSocketWorkers(42)', () => app.addWebSocketWorkers(42 as never), /"instance": .* got number/],
    ['an object with no @worker methods', () => app.addWebSocketWorkers({}), /"instance": Object has no @worker methods/],
    ['an instance of a class with no @worker methods', () => app.addWebSocketWorkers(new (class Idle { run () {} })()), /Idle has no @worker methods/],
    ['an object without a prototype', () => app.addWebSocketWorkers(Object.create(null)), /anonymous class has no @worker methods/]
  ]
  for (const [what, declare, message] of bad) t.throws(declare, { code: 'FST_PACHINKO_OPTION_INVALID', message }, what)
  await app.ready()
  t.same(app.logs.filter((line) => line.worker !== undefined), [], 'nothing was registered')
})

t.test('refuses a duplicate worker name, across calls and within one instance, registering nothing of a bad batch', async (t) => {
  class Twins {
    @worker({ name: 'twin' }) async one () {}
    @worker({ name: 'twin' }) async two () {}
  }
  class Collides {
    @worker({ name: 'solo' }) async first () {}
    @worker({ name: 'taken' }) async second () {}
  }
  const app = await buildApp(t)
  app.addWebSocketWorker(async () => {}, { name: 'taken' })
  t.throws(() => app.addWebSocketWorker(async () => {}, { name: 'taken' }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /a worker named "taken" already exists/ })
  await app.register(async (child) => {
    t.throws(() => child.addWebSocketWorker(async () => {}, { name: 'taken' }), { message: /"taken" already exists/ }, 'names are unique across contexts')
  })
  t.throws(() => app.addWebSocketWorkers(new Twins()), { code: 'FST_PACHINKO_OPTION_INVALID', message: /a worker named "twin" already exists/ })
  t.throws(() => app.addWebSocketWorkers(new Collides()), { message: /"taken" already exists/ })
  t.doesNotThrow(() => app.addWebSocketWorker(async () => {}, { name: 'solo' }), 'the refused batch registered nothing')
})

t.test('refuses a @worker that is not a method', async (t) => {
  class Odd { declare ticker: unknown }
  worker()(Odd.prototype, 'ticker', {} as TypedPropertyDescriptor<() => void>)
  const app = await buildApp(t)
  t.throws(() => app.addWebSocketWorkers(new Odd()), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"Odd.ticker": is decorated with @worker but is not a method/ })
})

t.test('refuses workers added once the app is ready or listening', async (t) => {
  class Late {
    @worker() async run () {}
  }
  const app = await buildApp(t)
  await app.ready()
  t.throws(() => app.addWebSocketWorker(async () => {}, { name: 'late' }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"addWebSocketWorker": called after the app is ready/ })
  t.throws(() => app.addWebSocketWorkers(new Late()), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"addWebSocketWorkers": called after the app is ready/ })
  const listening = await buildApp(t)
  await listening.listen({ port: 0, host: '127.0.0.1' })
  t.throws(() => listening.addWebSocketWorker(async () => {}, { name: 'late' }), { code: 'FST_PACHINKO_OPTION_INVALID' })
})

/** Runs the fixture in its own process; resolves with its exit code and log lines once it exits by itself. */
async function runFixture (scenario: string): Promise<{ code: number | null, logs: LogLine[] }> {
  // the kill is a safety net: loading the TypeScript sources takes seconds, exiting milliseconds
  const child = fork(new URL('./fixtures/workers-exit.ts', import.meta.url), [scenario], { execArgv: process.execArgv, silent: true, timeout: 60_000, killSignal: 'SIGKILL' })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  const logs = out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine)
  return { code, logs }
}

t.test('leaves nothing behind: after close() the process exits on its own', async (t) => {
  const { code, logs } = await runFixture('close')
  t.equal(code, 0, 'exited by itself with code 0 (a kill at the deadline would give null)')
  t.match(logs.find((line) => line.worker === 'flaky' && line.level === WARN), { attempt: 1, delayMs: 60_000 })
  t.match(logs.find((line) => line.worker === 'flaky' && line.level === DEBUG && line.msg !== 'worker started'), { msg: 'worker stopped during its backoff' })
  t.match(logs.find((line) => line.worker === 'stubborn' && line.level === WARN), { msg: /did not stop/ })
  for (const name of ['looper', 'child']) t.ok(logs.some((line) => line.worker === name && line.msg === 'worker stopped'), `${name} stopped`)
})

t.test('fails fast for real: a worker that cannot start closes a listening app and the process exits', async (t) => {
  const { code, logs } = await runFixture('fail-fast')
  t.equal(code, 0, 'exited by itself with code 0')
  t.match(logs.find((line) => line.level === ERROR), { worker: 'broken', err: { message: 'cannot start' } })
})
