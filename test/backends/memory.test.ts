import Fastify from 'fastify'
import t from 'tap'
import pachinko from '../../lib/index.js'
import { backendSuite } from './suite.js'

backendSuite(t, 'memory', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(pachinko, { backend: 'memory' })
  return [app]
}, 1)
