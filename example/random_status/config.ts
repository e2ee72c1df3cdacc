import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The example's settings, read from the environment by `server.ts`. */
export interface RandomStatusConfig {
  port: number
  host: string
  /** The SQLite file; created, with its table, on first start. */
  databasePath: string
  /** How often the worker broadcasts a random number. */
  randomIntervalMs: number
}

/** The database file when `DATABASE_PATH` is not set: one per machine, under the OS temp dir. */
export const DEFAULT_DATABASE_PATH = join(tmpdir(), 'pachinko-random-status.sqlite')

/**
 * Reads PORT (3003), HOST (127.0.0.1), DATABASE_PATH and RANDOM_INTERVAL_MS
 * (5000); a value that is set but unusable throws, naming the variable.
 */
export function readConfig (env: NodeJS.ProcessEnv): RandomStatusConfig {
  return {
    port: integer(env, 'PORT', 3003, 0, 65535),
    host: text(env, 'HOST', '127.0.0.1'),
    databasePath: text(env, 'DATABASE_PATH', DEFAULT_DATABASE_PATH),
    randomIntervalMs: integer(env, 'RANDOM_INTERVAL_MS', 5000, 1, 2 ** 31 - 1)
  }
}

/** Where `client.ts` connects: STATUS_URL, or the server's default address. */
export function statusUrl (env: NodeJS.ProcessEnv): string {
  return text(env, 'STATUS_URL', 'ws://127.0.0.1:3003/ws')
}

function text (env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name]
  return value === undefined || value === '' ? fallback : value
}

function integer (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = env[name]
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got "${value}"`)
  return parsed
}
