import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { ERR_OPTION_INVALID } from '../errors.js'
import { WORKERS_KEY } from '../metadata-keys.js'
import type { WorkerRecord } from './worker-decorator.js'
import { describe, resolveWorker, type ResolvedWorker } from './worker-options.js'
import { WorkerRunner, type RunnerHost } from './worker-runner.js'
import type { WorkerFunction, WorkerOptions } from './worker.js'

/** Plugin-level worker settings. */
export interface WorkerDefaults {
  /** Default `stopTimeoutMs` of every worker. */
  stopTimeoutMs: number
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
