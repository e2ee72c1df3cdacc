import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { ERR_OPTION_INVALID } from './errors.js'
import type { Container } from './di.js'
import type { ConnectionManager } from './manager.js'
import { WORKERS_KEY, type WorkerRecord } from './worker-decorator.js'
import { describe, resolveWorker, type ResolvedWorker } from './worker-options.js'
import { WorkerRunner, type RunnerHost } from './worker-runner.js'

/** What a worker function is called with. */
export interface WorkerContext {
  /** The connection manager (`app.ws`). */
  ws: ConnectionManager
  /** Aborted when the app closes; stop then, the app waits at most `stopTimeoutMs`. */
  signal: AbortSignal
  /** A child of the app's logger with `{ worker: name }`. */
  log: FastifyBaseLogger
  /** The encapsulated Fastify instance the worker was added to (its decorators are visible). */
  app: FastifyInstance
  /** The built-in DI container (`app.ws.container`): workers resolve singletons from it. */
  container: Container
}

/** A long-running job: runs until its `signal` is aborted (or returns when it is done). */
export type WorkerFunction = (context: WorkerContext) => unknown

/** How `restart: 'on-failure'` waits between runs: `initialMs × factor^(attempt − 1)`, capped at `maxMs`. */
export interface WorkerBackoff {
  /**
   * The first wait.
   * @default 100
   */
  initialMs?: number
  /**
   * How much each consecutive failure multiplies the wait by.
   * @default 2
   */
  factor?: number
  /**
   * The longest wait; a run that lasted longer than this starts the backoff over.
   * @default 30000
   */
  maxMs?: number
}

/** Options of `app.addWebSocketWorker` and `@worker`. */
export interface WorkerOptions {
  /**
   * Unique across the app; it names the worker in logs.
   * @default the function's name, or `ClassName.method` for `@worker`
   */
  name?: string
  /**
   * `'never'` fails fast (logs the error and closes the app, so a process manager restarts the process);
   * `'on-failure'` restarts the worker after a backoff.
   * @default 'never'
   */
  restart?: 'never' | 'on-failure'
  /**
   * On close, how long the worker gets to stop after its signal is aborted; past it, a warning and close carries on.
   * @default the plugin's `workerStopTimeoutMs` (5000)
   */
  stopTimeoutMs?: number
  /** Waits between restarts under `restart: 'on-failure'`. */
  backoff?: WorkerBackoff
}

/** Plugin-level worker settings. */
export interface WorkerDefaults {
  /** Default `stopTimeoutMs` of every worker. */
  stopTimeoutMs: number
}

/** The type of `app.addWebSocketWorker`. */
export type AddWebSocketWorker = (fn: WorkerFunction, options?: WorkerOptions) => FastifyInstance
/** The type of `app.addWebSocketWorkers`. */
export type AddWebSocketWorkers = (instance: object) => FastifyInstance

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Runs `fn` from `onReady` until `onClose`, in this encapsulation context.
     * @example app.addWebSocketWorker(async ({ ws, signal }) => { … }, { name: 'announcer', restart: 'on-failure' })
     */
    addWebSocketWorker: AddWebSocketWorker
    /** Adds every `@worker` method of `instance` as a worker bound to it. */
    addWebSocketWorkers: AddWebSocketWorkers
  }
}

/**
 * Decorates `addWebSocketWorker` and `addWebSocketWorkers` on `app`. Each
 * encapsulation context that adds workers gets one `onReady` hook that starts
 * them and one `onClose` hook that stops them together.
 */
export function installWorkers (app: FastifyInstance, defaults: WorkerDefaults): void {
  const registry = new WorkerRegistry(app)
  app.addHook('onReady', async function workersReady () { registry.ready = true })
  app.addHook('preClose', async function workersClosing () { registry.closing = true })

  app.decorate('addWebSocketWorker', function addWebSocketWorker (this: FastifyInstance, fn: unknown, options?: WorkerOptions) {
    registry.checkNotReady('addWebSocketWorker')
    if (typeof fn !== 'function') throw new ERR_OPTION_INVALID('worker', `must be a function, got ${describe(fn)}`)
    registry.add(this, [resolveWorker(fn as WorkerFunction, options, fn.name, defaults.stopTimeoutMs)])
    return this
  })
  app.decorate('addWebSocketWorkers', function addWebSocketWorkers (this: FastifyInstance, instance: unknown) {
    registry.checkNotReady('addWebSocketWorkers')
    registry.add(this, decoratedWorkers(instance, defaults.stopTimeoutMs))
    return this
  })
}

/** Every worker of one app: unique names, one runner list per encapsulation context, the fail-fast close. */
class WorkerRegistry implements RunnerHost {
  ready = false
  closing = false
  private readonly names = new Set<string>()
  private readonly groups = new WeakMap<FastifyInstance, WorkerRunner[]>()

  constructor (private readonly app: FastifyInstance) {}

  checkNotReady (method: string): void {
    // Fastify only refuses hooks once listening: after a bare ready(), an onReady hook would silently never run
    if (this.ready) throw new ERR_OPTION_INVALID(method, 'called after the app is ready; add workers before ready() or listen()')
  }

  add (instance: FastifyInstance, workers: ResolvedWorker[]): void {
    const batch = new Set<string>()
    for (const { name } of workers) {
      if (this.names.has(name) || batch.has(name)) throw new ERR_OPTION_INVALID('name', `a worker named "${name}" already exists; worker names must be unique`)
      batch.add(name)
    }
    const group = this.groupOf(instance)
    for (const worker of workers) {
      this.names.add(worker.name)
      group.push(new WorkerRunner(worker, this))
    }
  }

  failFast (log: FastifyBaseLogger): void {
    if (this.closing) return
    this.closing = true
    // a worker may fail while onReady hooks still run: close once the app is ready, never in the middle of booting
    const close = async (): Promise<void> => {
      await this.app.ready()
      await this.app.close()
    }
    close().catch((err: unknown) => log.error({ err }, 'could not close the app after the worker failed'))
  }

  private groupOf (instance: FastifyInstance): WorkerRunner[] {
    const existing = this.groups.get(instance)
    if (existing !== undefined) return existing
    const runners: WorkerRunner[] = []
    instance.addHook('onReady', async function startWorkers () {
      for (const runner of runners) runner.start(instance)
    })
    instance.addHook('onClose', async function stopWorkers () {
      await Promise.all(runners.map(async (runner) => await runner.stop()))
    })
    this.groups.set(instance, runners)
    return runners
  }
}

/** The `@worker` methods of an instance's class chain (a subclass's record wins), bound to the instance. */
function decoratedWorkers (instance: unknown, stopTimeoutMs: number): ResolvedWorker[] {
  if (instance === null || typeof instance !== 'object') {
    throw new ERR_OPTION_INVALID('instance', `must be an object whose class has @worker methods, got ${describe(instance)}`)
  }
  const className = (instance.constructor?.name as string | undefined) || 'anonymous class'
  const chain: object[] = []
  for (let p: object | null = Object.getPrototypeOf(instance); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p)
  const records = new Map<string | symbol, WorkerRecord>()
  for (const proto of chain) {
    for (const record of (Reflect.getOwnMetadata(WORKERS_KEY, proto) ?? []) as WorkerRecord[]) records.set(record.method, record)
  }
  if (records.size === 0) throw new ERR_OPTION_INVALID('instance', `${className} has no @worker methods; decorate at least one with @worker()`)

  return [...records.values()].map(({ method, options }) => {
    const label = `${className}.${String(method)}`
    const fn = (instance as Record<string | symbol, unknown>)[method]
    if (typeof fn !== 'function') throw new ERR_OPTION_INVALID(label, 'is decorated with @worker but is not a method')
    return resolveWorker(fn.bind(instance) as WorkerFunction, options, label, stopTimeoutMs)
  })
}
