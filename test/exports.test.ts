import t from 'tap'
import * as main from '../lib/index.js'
import * as testing from '../lib/testing/index.js'
import * as client from '../lib/client/index.js'
import { readFileSync } from 'node:fs'

t.test('pins the public runtime exports', async (t) => {
  t.same(Object.keys(main).sort(), [
    'Channel', 'ClientError', 'CloseCode', 'ClusterBackend', 'Connection', 'ConnectionManager', 'Container', 'HOOK_EVENTS', 'MemoryBackend',
    'WebSocketHub', 'WebSocketResource', 'WireErrorCode', 'default', 'errors', 'handlesEvent', 'handlesMessage', 'inject', 'injectable', 'message', 'messages', 'pachinko',
    'redisBackend', 'subroute', 'worker'
  ])
  t.equal(main.default, main.pachinko)
  t.same(Object.keys(testing).sort(), ['Bus', 'HubReplyError', 'Simulation', 'UpgradeRefusedError', 'connect', 'connectHub', 'createBus', 'simulate', 'testApp'])
  t.same(Object.keys(client).sort(), ['ClientRequestError', 'PachinkoClient', 'backoffDelay', 'connectClient', 'isFinalClose'])
})

t.test('exposes exactly ".", "./testing", "./client" and "./package.json" from package.json, and the fastify-pachinko bin', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  t.same(Object.keys(pkg.exports), ['.', './testing', './client', './package.json'])
  t.equal(pkg.exports['./package.json'], './package.json')
  t.same(pkg.bin, { 'fastify-pachinko': './dist/lib/contract/asyncapi/cli.js' })
  t.equal(pkg.type, 'module')
  t.equal(pkg.license, 'ISC')
})

t.test('wraps the plugin with fastify-plugin metadata', async (t) => {
  const meta = (main.pachinko as unknown as Record<symbol, { name: string, fastify: string }>)[Symbol.for('plugin-meta')]
  t.match(meta, { name: 'fastify-pachinko', fastify: '5.x' })
})
