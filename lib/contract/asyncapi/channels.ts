import type { TSchema } from 'typebox'
import { emitsOf } from '../outgoing.js'
import type { ChannelMessage, ChannelSpec, RouteContract } from '../registry.js'
import { ERROR_TAG, MAX_REF_LENGTH, REPLY_TAG } from '../wire.js'
import { toAddress } from './address.js'

/*
 * A declared route as a channel: the messages its class handles (receive),
 * the ones it declares in `static emits` plus error frames (send), replies
 * for handlers with a reply schema, and the upgrade's query and headers.
 */

type Json = Record<string, unknown>

/** The channel a route contributes. */
export function routeChannel (route: RouteContract): ChannelSpec {
  const { address, parameters } = toAddress(route.path, (route.schema as { params?: unknown } | undefined)?.params)
  const messages: ChannelMessage[] = []
  for (const entry of route.table?.entries ?? []) {
    messages.push({
      tag: entry.tag,
      action: 'receive',
      payload: withRef(entry.schema ?? bareMessage(route.discriminator, entry.tag), route),
      reply: entry.reply === undefined ? undefined : { tag: REPLY_TAG, payload: replyFrame(route, entry.reply) }
    })
  }
  const emits = route.isClass ? emitsOf(route.resource, route.discriminator) : undefined
  for (const [tag, schema] of emits?.schemas ?? []) messages.push({ tag, action: 'send', payload: schema })
  messages.push({ tag: ERROR_TAG, action: 'send', payload: errorFrame(route), description: 'The one error frame shape; for a request, it carries the request\'s ref.' })
  const descriptions = [`WebSocket route ${route.path}${route.name === undefined ? '' : ` (${route.name})`}.`]
  if (route.subprotocols !== undefined) descriptions.push(`Subprotocols: ${route.subprotocols.join(', ')} (the first of the client's offers listed here is chosen).`)
  if (!route.isClass) descriptions.push('Its resource is made by a factory, so its messages are not known until run time.')
  return {
    id: route.name ?? address,
    address,
    description: descriptions.join(' '),
    parameters,
    bindings: { ws: wsBinding(route) },
    messages,
    extensions: route.subprotocols === undefined ? undefined : { 'x-subprotocols': [...route.subprotocols] }
  }
}

/** The schema of a ref: what the reply field may hold. */
export function refSchema (): Json {
  return { type: ['string', 'number'], maxLength: MAX_REF_LENGTH, description: 'Correlation id of a request: the reply and any error frame carry it back.' }
}

/** An incoming message may carry the reply field at the top level, outside its declared schema. */
function withRef (schema: TSchema | Json, route: RouteContract): Json {
  const source = schema as Json
  // message schemas always have top-level properties: the discriminator literal is one
  const properties = source.properties as Json
  if (Object.prototype.hasOwnProperty.call(properties, route.replyField)) return source
  return { ...source, properties: { ...properties, [route.replyField]: refSchema() } }
}

function bareMessage (discriminator: string, tag: string): Json {
  return { type: 'object', properties: { [discriminator]: { type: 'string', const: tag } }, required: [discriminator] }
}

function replyFrame (route: RouteContract, payload: TSchema): Json {
  return {
    type: 'object',
    properties: { [route.discriminator]: { type: 'string', const: REPLY_TAG }, [route.replyField]: refSchema(), payload },
    required: [route.discriminator, route.replyField],
    additionalProperties: false
  }
}

function errorFrame (route: RouteContract): Json {
  const issue = { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] }
  return {
    type: 'object',
    properties: {
      [route.discriminator]: { type: 'string', const: ERROR_TAG },
      [route.replyField]: refSchema(),
      error: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' }, tag: { type: 'string' }, issues: { type: 'array', items: issue } },
        required: ['code', 'message']
      }
    },
    required: [route.discriminator, 'error']
  }
}

/** The `ws` channel binding: the upgrade's query string and headers as object schemas. */
function wsBinding (route: RouteContract): Json {
  const schema = (route.schema ?? {}) as { querystring?: unknown, headers?: unknown }
  const binding: Json = { method: 'GET', bindingVersion: '0.1.0' }
  const query = objectSchema(schema.querystring)
  if (query !== undefined) binding.query = query
  let headers = objectSchema(schema.headers)
  if (route.subprotocols !== undefined) {
    const base = headers ?? { type: 'object', properties: {} }
    headers = {
      ...base,
      properties: {
        ...(base.properties as Json),
        'sec-websocket-protocol': {
          type: 'string',
          description: `The subprotocols the client speaks, most preferred first; this channel speaks ${route.subprotocols.join(', ')}.`,
          examples: [route.subprotocols.join(', ')]
        }
      },
      required: [...((base.required ?? []) as string[]), 'sec-websocket-protocol']
    }
  }
  if (headers !== undefined) binding.headers = headers
  return binding
}

/** A route's querystring or headers schema (Fastify's are object schemas), as the binding wants it. */
function objectSchema (schema: unknown): Json | undefined {
  if (schema === null || typeof schema !== 'object') return undefined
  return { type: 'object', ...(schema as Json) }
}
