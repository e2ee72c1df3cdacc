import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import pachinko, { type PachinkoOptions } from '../../lib/index.js'

/** One parsed log line. */
export interface LogLine { level: number, msg: string, [key: string]: unknown }

/** A Fastify app with the plugin registered, closed at the end of the test, its log lines captured. */
export async function build (t: Test, options: PachinkoOptions = {}, server: FastifyServerOptions = {}): Promise<FastifyInstance & { logs: LogLine[] }> {
  const logs: LogLine[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line))
      done()
    }
  })
  // typed without Fastify's PromiseLike side, which would make the async return drop `logs`
  const app: FastifyInstance = Fastify({ logger: { level: 'debug', stream }, ...server })
  t.teardown(() => app.close())
  await app.register(pachinko, options)
  return Object.assign(app, { logs })
}

/** Resolves once `predicate` holds, checking after each turn of the event loop; fails after `ms`. */
export async function until (predicate: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Like `until`, for a condition that needs I/O to check. */
export async function untilAsync (predicate: () => Promise<boolean>, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
