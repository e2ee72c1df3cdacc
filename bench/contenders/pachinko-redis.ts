import type { Backend } from '../../lib/index.js'
import type { ContenderServer, StartOptions } from './contender.js'
import { startPachinko } from './pachinko.js'

/*
 * Contender 4 for two nodes: the same resource over the Redis backend,
 * `redisBackend({ url, prefix })` from lib/backends/redis.ts. That module is
 * loaded by a computed specifier so the bench still builds before it exists;
 * the orchestrator reports the scenario as n/a until then (see
 * `redisBackendAvailable` in ../paths.ts).
 */

type RedisBackendFactory = (options: { url: string, prefix: string }) => Backend

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  if (options.redis === undefined) throw new Error('pachinko-redis needs options.redis ({ url, prefix })')
  const specifier = new URL('../../lib/backends/redis.js', import.meta.url).href
  const { redisBackend } = await import(specifier) as { redisBackend?: RedisBackendFactory }
  if (typeof redisBackend !== 'function') throw new Error('lib/backends/redis.ts does not export redisBackend()')
  return await startPachinko(options, { backend: redisBackend({ url: options.redis.url, prefix: options.redis.prefix }) })
}
