import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { pachinko } from '../index.js'
import type { PachinkoOptions } from '../options.js'
import { onTeardown, type TeardownContext } from './teardown.js'

/** Options of `testApp()`. */
export interface TestAppOptions {
  /**
   * Options of the plugin.
   * @default {}
   */
  plugin?: PachinkoOptions
  /**
   * Options of `Fastify()` (a logger, for example).
   * @default {}
   */
  server?: FastifyServerOptions
}

/** What `testApp()` runs once the plugin is registered: declare routes, workers, hooks. */
export type TestAppSetup = (app: FastifyInstance) => unknown

/**
 * A Fastify app with the plugin registered, set up by `setup`, ready, and
 * closed when the test `t` ends (tap's `t` or node:test's `TestContext`).
 * @example
 * const app = await testApp(t, (app) => { app.addWebSocketRoute('/echo', Echo) })
 * const client = await connect(app, '/echo', { t })
 */
export async function testApp (t: TeardownContext, setup?: TestAppSetup, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  // registered before anything can fail, so a setup that throws still leaves nothing open
  onTeardown(t, async () => await app.close())
  await app.register(pachinko, options.plugin ?? {})
  if (setup !== undefined) await setup(app)
  await app.ready()
  return app
}
