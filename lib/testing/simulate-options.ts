import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { ERR_OPTION_INVALID, ERR_TESTING_BAD_STATE } from '../errors.js'
import type { WebSocketHooks } from '../hooks/hook-chain.js'
import type { Token } from '../resources/container.js'
import type { LeadingArgs } from '../routing/add-route.js'

/* What simulate() is told: the options, checked, and the upgrade request they make. */

/** Options of `simulate()`: what the upgrade request and the route declaration would carry. */
export interface SimulateOptions<A extends readonly unknown[] = unknown[]> {
  /**
   * The path parameters (`this.params`).
   * @default {}
   */
  params?: Record<string, string>
  /**
   * The parsed query string (`this.request.query`).
   * @default {}
   */
  query?: Record<string, unknown>
  /**
   * The upgrade request's headers (`this.request.headers`).
   * @default {}
   */
  headers?: IncomingHttpHeaders
  /**
   * Values the DI container provides, by token: `[[Database, db], ['clock', clock]]` or a Map.
   * @default none
   */
  services?: Iterable<readonly [Token, unknown]>
  /**
   * The route's `args`: the constructor's first arguments.
   * @default []
   */
  args?: LeadingArgs<A>
  /**
   * The request's URL (`this.request.url`).
   * @default '/' followed by the query
   */
  url?: string
  /**
   * The tag field.
   * @default 'type'
   */
  discriminator?: string
  /**
   * The correlation field of request/reply messages.
   * @default 'ref'
   */
  replyField?: string
  /**
   * Refuse properties a schema does not declare.
   * @default true
   */
  strict?: boolean
  /**
   * Route-tier WebSocket hooks (the resource's `static hooks` apply as well).
   * @default none
   */
  hooks?: WebSocketHooks
  /**
   * `__proto__` / `constructor.prototype` keys, as the plugin option.
   * @default 'error'
   */
  onProtoPoisoning?: 'error' | 'remove' | 'ignore'
  /**
   * Where `this.log` writes.
   * @default a recorder whose lines are in `sim.logs`
   */
  logger?: FastifyBaseLogger
}

/** Throws for options of the wrong shape, naming the option. */
export function checkOptions (options: SimulateOptions): void {
  if (options === null || typeof options !== 'object') throw new ERR_OPTION_INVALID('simulate() options', 'must be an object')
  for (const key of ['params', 'query', 'headers'] as const) {
    const value = options[key]
    if (value !== undefined && (value === null || typeof value !== 'object')) throw new ERR_OPTION_INVALID(key, 'must be an object')
  }
  if (options.args !== undefined && !Array.isArray(options.args)) throw new ERR_OPTION_INVALID('args', 'must be an array of constructor arguments')
  const services = options.services as unknown
  if (services !== undefined && (services === null || typeof (services as Iterable<unknown>)[Symbol.iterator] !== 'function')) {
    throw new ERR_OPTION_INVALID('services', 'must be a Map or an array of [token, value] pairs')
  }
  if (options.discriminator !== undefined && (typeof options.discriminator !== 'string' || options.discriminator.length === 0)) {
    throw new ERR_OPTION_INVALID('discriminator', 'must be a non-empty string')
  }
  if (options.replyField !== undefined && (typeof options.replyField !== 'string' || options.replyField.length === 0)) {
    throw new ERR_OPTION_INVALID('replyField', 'must be a non-empty string')
  }
}

/** The upgrade request as a resource reads it; there is no Fastify instance behind it. */
export function fakeRequest (options: SimulateOptions, log: FastifyBaseLogger): FastifyRequest {
  const query = options.query ?? {}
  const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
  const url = options.url ?? (search === '' ? '/' : `/?${search}`)
  const headers = options.headers ?? {}
  return {
    id: 'simulated',
    params: options.params ?? {},
    query,
    headers,
    url,
    originalUrl: url,
    method: 'GET',
    ip: '127.0.0.1',
    hostname: 'localhost',
    protocol: 'http',
    log,
    raw: { url, method: 'GET', headers },
    get server (): never {
      throw new ERR_TESTING_BAD_STATE('use this.app', 'has no Fastify instance; test code that needs one with testApp() and connect()')
    }
  } as unknown as FastifyRequest
}
