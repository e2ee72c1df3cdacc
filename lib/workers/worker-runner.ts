import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ResolvedWorker } from './worker-options.js'
import type { WorkerContext } from './worker.js'

/** What a runner needs from the app: the fail-fast path. */
export interface RunnerHost {
  /** Closes the app because a `restart: 'never'` worker failed (once, and not while it is already closing). */
  failFast (log: FastifyBaseLogger): void
}

/**
 * One worker's life: started on `onReady` with the encapsulated instance it
 * was added to, restarted per its policy, stopped on `onClose` by aborting its
 * signal and waiting up to `stopTimeoutMs`. Its run loop never rejects.
 */
export class WorkerRunner {
  private readonly controller = new AbortController()
  private started: { running: Promise<void>, log: FastifyBaseLogger } | undefined

  constructor (readonly worker: ResolvedWorker, private readonly host: RunnerHost) {}

  /** Calls the worker with its context; returns at once (the worker runs on). */
  start (app: FastifyInstance): void {
    const log = app.log.child({ worker: this.worker.name })
    const ws = app.ws
    const context: WorkerContext = { ws, signal: this.controller.signal, log, app, container: ws.container }
    log.debug('worker started')
    this.started = { running: this.loop(context, log), log }
  }

  /** Aborts the signal and waits for the worker, at most `stopTimeoutMs`; warns and gives up past it. */
  async stop (): Promise<void> {
    this.controller.abort()
    if (this.started === undefined) return // closed before ready: never started
    const { running, log } = this.started
    const { stopTimeoutMs, name } = this.worker
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, stopTimeoutMs, false) })
    const stopped = await Promise.race([running.then(() => true), timedOut])
    clearTimeout(timer)
    if (!stopped) log.warn({ stopTimeoutMs }, `worker "${name}" did not stop within ${stopTimeoutMs} ms; closing without it`)
  }

  private async loop (context: WorkerContext, log: FastifyBaseLogger): Promise<void> {
    const { fn, restart, backoff } = this.worker
    const signal = this.controller.signal
    let attempt = 0
    for (;;) {
      const startedAt = performance.now()
      try {
        await fn(context)
        if (signal.aborted) log.debug('worker stopped')
        else log.info('worker finished')
        return
      } catch (err) {
        if (signal.aborted) {
          log.debug({ err }, 'worker threw after it was stopped')
          return
        }
        if (restart === 'never') {
          log.error({ err }, 'worker failed; closing the app so the process can be restarted')
          this.host.failFast(log)
          return
        }
        // a run that lasted longer than the longest wait was healthy for a while: start the backoff over
        if (performance.now() - startedAt > backoff.maxMs) attempt = 0
        attempt++
        const delayMs = Math.min(backoff.initialMs * backoff.factor ** (attempt - 1), backoff.maxMs)
        log.warn({ err, attempt, delayMs }, `worker failed; restart ${attempt} in ${delayMs} ms`)
        // rejects (and clears its timer) when the signal is aborted on close
        if (!(await sleep(delayMs, true, { signal }).catch(() => false))) {
          log.debug('worker stopped during its backoff')
          return
        }
      }
    }
  }
}
