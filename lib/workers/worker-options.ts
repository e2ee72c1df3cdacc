import { ERR_OPTION_INVALID } from '../errors.js'
import type { WorkerFunction, WorkerOptions } from './worker.js'

/** A worker after defaults and validation. */
export interface ResolvedWorker {
  readonly name: string
  readonly fn: WorkerFunction
  readonly restart: 'never' | 'on-failure'
  readonly stopTimeoutMs: number
  readonly backoff: { readonly initialMs: number, readonly factor: number, readonly maxMs: number }
}

const RESTART = ['never', 'on-failure'] as const

/**
 * Checks a worker declaration and applies defaults; throws ERR_OPTION_INVALID
 * naming the first bad option and the worker it belongs to.
 */
export function resolveWorker (fn: WorkerFunction, options: unknown, defaultName: string, stopTimeoutMs: number): ResolvedWorker {
  if (options !== undefined && !isObject(options)) throw new ERR_OPTION_INVALID('options', `must be an object, got ${describe(options)}`)
  const opts = (options ?? {}) as WorkerOptions
  const name = opts.name ?? defaultName
  if (typeof name !== 'string' || name.length === 0) {
    throw new ERR_OPTION_INVALID('name', 'must be a non-empty string; an anonymous worker function needs { name }')
  }
  const of = ` (worker "${name}")`
  if (opts.restart !== undefined && !RESTART.includes(opts.restart)) {
    throw new ERR_OPTION_INVALID('restart', `must be 'never' or 'on-failure', got ${String(opts.restart)}${of}`)
  }
  if (opts.backoff !== undefined && !isObject(opts.backoff)) throw new ERR_OPTION_INVALID('backoff', `must be an object${of}`)
  const backoff = opts.backoff ?? {}
  const initialMs = positiveInteger('backoff.initialMs', backoff.initialMs, 100, of)
  const factor = backoff.factor ?? 2
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new ERR_OPTION_INVALID('backoff.factor', `must be a finite number of at least 1, got ${String(factor)}${of}`)
  }
  const maxMs = positiveInteger('backoff.maxMs', backoff.maxMs, Math.max(30000, initialMs), of)
  if (maxMs < initialMs) throw new ERR_OPTION_INVALID('backoff.maxMs', `must be at least backoff.initialMs (${initialMs}), got ${maxMs}${of}`)
  return {
    name,
    fn,
    restart: opts.restart ?? 'never',
    stopTimeoutMs: positiveInteger('stopTimeoutMs', opts.stopTimeoutMs, stopTimeoutMs, of),
    backoff: { initialMs, factor, maxMs }
  }
}

function positiveInteger (option: string, value: unknown, fallback: number, of: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ERR_OPTION_INVALID(option, `must be a positive integer, got ${String(value)}${of}`)
  }
  return value
}

function isObject (value: unknown): value is object {
  return value !== null && typeof value === 'object'
}

/** `null`, `an object` or the `typeof`, for error messages. */
export function describe (value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value
}
