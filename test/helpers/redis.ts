import { Redis } from 'ioredis'
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'

/** Where the tests' Redis is: REDIS_URL, or the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

let available: Promise<boolean> | undefined

/** Whether Redis answers a PING within a second. */
export async function redisAvailable (url = REDIS_URL): Promise<boolean> {
  available ??= (async () => {
    const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      return await client.ping() === 'PONG'
    } catch {
      return false
    } finally {
      client.disconnect()
    }
  })()
  return await available
}

/**
 * True when the test can use Redis. In CI a missing Redis fails the test;
 * elsewhere it is skipped with one line saying why.
 */
export async function needRedis (t: Test): Promise<boolean> {
  if (await redisAvailable()) return true
  if (process.env.CI === 'true') {
    t.fail(`Redis is required in CI but does not answer at ${REDIS_URL}`)
  } else {
    t.plan(0, `skipped: no Redis at ${REDIS_URL} (start one or set REDIS_URL)`)
  }
  return false
}

/** A key/channel prefix of this test's own, so tests can share one Redis (never FLUSHALL). */
export function testPrefix (name: string): string {
  return `pachinko-test:${name}:${randomBytes(4).toString('hex')}`
}
