import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { connect } from '../lib/testing/index.js'
import { importMarkedBlock } from './helpers/runnable-snippets.js'

/*
 * The how-tos' modules, run as printed: each block marked `<!-- tested: … -->`
 * is imported and driven through the public API.
 */

const repo = fileURLToPath(new URL('..', import.meta.url))

interface WithAuditLog { resolve (name: 'auditLog'): { lines: string[] } }

for (const name of ['di-awilix', 'di-tsyringe']) {
  t.test(`docs/how-to/di-containers.md: ${name}`, async (t) => {
    type Built = { app: FastifyInstance, container: unknown }
    const { buildApp, AuditLog } = await importMarkedBlock<{ buildApp: () => Promise<Built>, AuditLog?: new () => unknown }>(t, repo, 'docs/how-to/di-containers.md', name)
    const { app, container } = await buildApp()
    t.after(() => app.close())
    await app.ready()
    // awilix resolves by name, tsyringe by class
    const log = (AuditLog === undefined
      ? (container as WithAuditLog).resolve('auditLog')
      : (container as { resolve (token: unknown): { lines: string[] } }).resolve(AuditLog))

    const ann = await connect(app, '/ws/greet')
    const bob = await connect(app, '/ws/greet')
    ann.send({ type: 'greet', payload: { name: 'ann' } })
    t.equal((await ann.expect('greeting')).payload, 'hello, ann', 'the singleton service answers')
    bob.send({ type: 'greet', payload: { name: '' } })
    t.equal((await bob.expect('error')).error.code, 'VALIDATION', 'the schema still applies')
    await ann.close(1000)
    await bob.close(1000)
    // a connection leaves the registry after its disconnect hooks ran
    t.equal(await app.ws.whenEmpty(5000), true)
    const ids = log.lines.filter((line) => line.startsWith('open ')).map((line) => line.slice(5))
    t.equal(new Set(ids).size, 2, 'one per-connection service for each connection')
    t.same(log.lines.filter((line) => line.startsWith('closed ')).sort(), ids.map((id) => `closed ${id}`).sort(), 'each disposed when its connection ended')
  })
}
