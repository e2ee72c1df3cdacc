import 'reflect-metadata'
import { WORKERS_KEY } from '../metadata-keys.js'
import type { WorkerContext, WorkerOptions } from './worker.js'

/** What `@worker` writes, one per decorated method. */
export interface WorkerRecord {
  method: string | symbol
  options: WorkerOptions | undefined
}

/**
 * A method decorator that checks the method accepts a `WorkerContext`.
 * @typeParam T - the decorated method's type
 */
export type WorkerMethodDecorator = <T extends (context: WorkerContext) => unknown> (
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<T>
) => void

/**
 * Marks a method as a background worker; `app.addWebSocketWorkers(instance)`
 * starts each marked method bound to the instance. The name defaults to
 * `ClassName.method`. Options are checked when the instance is added.
 * @example
 * class Jobs {
 *   @worker({ restart: 'on-failure' })
 *   async sweep ({ signal, ws }: WorkerContext) { … }
 * }
 * app.addWebSocketWorkers(new Jobs())
 */
export function worker (options?: WorkerOptions): WorkerMethodDecorator {
  return (target, key) => {
    const records: WorkerRecord[] = Reflect.getOwnMetadata(WORKERS_KEY, target) ?? []
    records.push({ method: key, options })
    Reflect.defineMetadata(WORKERS_KEY, records, target)
  }
}
