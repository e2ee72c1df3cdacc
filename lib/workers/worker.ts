import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { ConnectionManager } from '../manager/connection-manager.js'
import type { Container } from '../resources/container.js'

/* What a worker is: the function, what it is called with, and its options. */

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

/** The type of `app.addWebSocketWorker`. */
export type AddWebSocketWorker = (fn: WorkerFunction, options?: WorkerOptions) => FastifyInstance
/** The type of `app.addWebSocketWorkers`. */
export type AddWebSocketWorkers = (instance: object) => FastifyInstance
