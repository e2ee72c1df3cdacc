import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import { ERR_CHANGE_ROUTE_INVALID } from '../errors.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import { kBackend, kChangeBody } from '../symbols.js'
import { MODEL_NAME, modelName, type ChangeEvent } from './event.js'
import type { FeedSettings } from './options.js'
import { publishEvent } from './publish.js'

/** How a route names the record it wrote: a path parameter, or a function of the request and the body sent. */
export type ChangeIdOption = string | ((request: FastifyRequest, payload: unknown) => string | number | null | undefined)

/** What a route of a change feed's scope is declared with (`config.model`, `config.id`). */
export interface ChangeRouteConfig {
  model?: string
  id?: ChangeIdOption
}

type Body = unknown
type CapturingRequest = FastifyRequest & { [kChangeBody]?: Body }

/**
 * Called for every route declared in the feed's scope (its `onRoute` hook):
 * a route with `config.model` and a write method gets two route-level hooks.
 * Route-level hooks run after every hook of the scope, so the onSend one sees
 * the body exactly as it goes out; the onResponse one publishes once it is sent.
 */
export function instrumentRoute (route: RouteOptions, feed: FeedSettings, manager: ConnectionManager): void {
  const config = route.config as ChangeRouteConfig | undefined
  if (config?.model === undefined) return
  const where = `${String(route.method)} ${route.url}`
  const model = modelName(config.model)
  if (model === undefined) throw new ERR_CHANGE_ROUTE_INVALID(where, `config.model must be a model name (${String(MODEL_NAME)}), got ${JSON.stringify(config.model)}`)
  if (model === feed.topicAll) throw new ERR_CHANGE_ROUTE_INVALID(where, `config.model "${model}" is the change feed's topicAll; rename the model or the topicAll option`)
  const id = config.id
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'function') {
    throw new ERR_CHANGE_ROUTE_INVALID(where, 'config.id must be the name of a path parameter or a function (request, payload) => id')
  }
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  if (!methods.some((method) => feed.methods.has(method))) return
  route.onSend = append(route.onSend, keepBody)
  route.onResponse = append(route.onResponse, publishAfterResponse(model, id, feed, manager))
}

function keepBody (request: CapturingRequest, _reply: FastifyReply, payload: Body, done: (err: null, payload: Body) => void): void {
  request[kChangeBody] = payload
  done(null, payload)
}

function publishAfterResponse (model: string, idOption: ChangeIdOption | undefined, feed: FeedSettings, manager: ConnectionManager) {
  return function publishChange (request: CapturingRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    done()
    const status = reply.statusCode
    if (status < 200 || status > 299 || !feed.methods.has(request.method)) return
    const payload = bodyOf(request[kChangeBody], reply)
    request[kChangeBody] = undefined
    const event: ChangeEvent = { ts: Date.now(), model, method: request.method, id: idOf(idOption, request, payload), many: Array.isArray(payload), payload }
    publish(manager, event).catch((err: unknown) => {
      request.log.warn({ err, model, method: event.method, id: event.id }, 'change feed: publishing the event failed; the response was not affected')
    })
  }
}

/** Publishes as a promise only: even a synchronous throw becomes the rejection the hook logs, never an exception after the response. */
async function publish (manager: ConnectionManager, event: ChangeEvent): Promise<void> {
  await publishEvent(manager[kBackend], manager, event)
}

/** The body as sent, parsed when it is JSON; a stream (whose bytes were never in memory) or a binary body is null. */
function bodyOf (sent: Body, reply: FastifyReply): unknown {
  if (sent === undefined || sent === null) return null
  const text = typeof sent === 'string' ? sent : Buffer.isBuffer(sent) ? sent.toString('utf8') : undefined
  if (text === undefined) return null
  const type = String(reply.getHeader('content-type'))
  if (type.includes('json')) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return typeof sent === 'string' || type.startsWith('text/') ? text : null
}

function idOf (option: ChangeIdOption | undefined, request: FastifyRequest, payload: unknown): string | number | null {
  const params = request.params as Record<string, unknown> | undefined
  if (typeof option === 'function') {
    try {
      return key(option(request, payload))
    } catch (err) {
      request.log.error({ err }, 'change feed: the route\'s config.id function threw; publishing with id null')
      return null
    }
  }
  const name = option ?? 'id'
  if (params !== undefined && Object.hasOwn(params, name)) return key(params[name])
  if (option === undefined && payload !== null && typeof payload === 'object' && !Array.isArray(payload) && Object.hasOwn(payload, 'id')) {
    return key((payload as { id: unknown }).id)
  }
  return null
}

function key (value: unknown): string | number | null {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? value : null
}

function append<H> (existing: H | H[] | undefined, hook: H): H[] {
  if (existing === undefined) return [hook]
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook]
}
