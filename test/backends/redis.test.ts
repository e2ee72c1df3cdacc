import Fastify from 'fastify'
import t from 'tap'
import pachinko, { redisBackend } from '../../lib/index.js'
import { needRedis, REDIS_URL, testPrefix } from '../helpers/redis.js'
import { backendSuite } from './suite.js'

t.test('real Redis, three Fastify instances', async (t) => {
  if (!await needRedis(t)) return
  backendSuite(t, 'redis', async (t, nodes) => {
    const prefix = testPrefix('suite')
    const apps = []
    for (let i = 0; i < nodes; i++) {
      const app = Fastify()
      t.teardown(() => app.close())
      await app.register(pachinko, { backend: redisBackend({ url: REDIS_URL, prefix, heartbeatMs: 500 }) })
      apps.push(app)
    }
    return apps
  }, 3)
})
