import Fastify from 'fastify'
import t from 'tap'
import pachinko from '../../lib/index.js'
import { createBus } from '../../lib/testing/index.js'
import { backendSuite } from './suite.js'

backendSuite(t, 'in-process bus', async (t, nodes) => {
  const bus = createBus()
  const apps = []
  for (let i = 0; i < nodes; i++) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(pachinko, { backend: bus.backend({ heartbeatMs: 200 }) })
    apps.push(app)
  }
  return apps
}, 3)
