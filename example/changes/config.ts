import { redisBackend, type PachinkoOptions } from '../../lib/index.js'

/** The server's settings, read from the environment by `server.ts`. */
export interface ChangesConfig {
  port: number
  host: string
  dbFile: string
  logLevel: string
  /** Where the feed's events travel: this process, or Redis when REDIS_URL is set. */
  backend: NonNullable<PachinkoOptions['backend']>
}

/**
 * Reads PORT (3004), HOST (127.0.0.1), DB_FILE (changes.db), LOG_LEVEL (info),
 * REDIS_URL (unset: memory) and REDIS_PREFIX (pachinko-changes); empty counts as unset.
 */
export function readChangesConfig (env: NodeJS.ProcessEnv): ChangesConfig {
  const redisUrl = set(env.REDIS_URL)
  return {
    port: Number(set(env.PORT) ?? 3004),
    host: set(env.HOST) ?? '127.0.0.1',
    dbFile: set(env.DB_FILE) ?? 'changes.db',
    logLevel: set(env.LOG_LEVEL) ?? 'info',
    backend: redisUrl === undefined ? 'memory' : redisBackend({ url: redisUrl, prefix: set(env.REDIS_PREFIX) ?? 'pachinko-changes' })
  }
}

function set (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
