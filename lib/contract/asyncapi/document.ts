import type { ChannelSpec, ContractRegistry } from '../registry.js'
import { routeChannel } from './channels.js'
import { SchemaComponents } from './schemas.js'

/*
 * The AsyncAPI 3.0.0 document: one channel per route (and per channel other
 * fronts add), one message per tag and direction, and operations from the
 * server's point of view — what clients send is `receive`, what the server
 * sends is `send` — with a request's reply as the operation's `reply`.
 * Operations reference their messages under the channel
 * (`#/channels/<id>/messages/<key>`), as AsyncAPI 3 requires.
 */

type Json = Record<string, unknown>

/** An AsyncAPI 3 server object. */
export interface AsyncApiServer {
  /** `host[:port]`, e.g. `chat.example.com` or `localhost:3000`. */
  host: string
  /** `ws` or `wss`. */
  protocol: string
  pathname?: string
  description?: string
  [field: string]: unknown
}

/** Options of `app.ws.asyncapi()`. */
export interface AsyncApiOptions {
  /**
   * The document's `info` object.
   * @default { title: 'WebSocket API', version: '1.0.0' }
   */
  info?: { title?: string, version?: string, description?: string, [field: string]: unknown }
  /** The document's `servers`, by name. */
  servers?: Record<string, AsyncApiServer>
  /** The document's `id` (a URI). */
  id?: string
}

/** An AsyncAPI 3.0.0 document (plain JSON). */
export interface AsyncApiDocument {
  asyncapi: '3.0.0'
  info: { title: string, version: string, [field: string]: unknown }
  channels: Record<string, Json>
  operations: Record<string, Json>
  [field: string]: unknown
}

/** Builds the document of every route declared in `registry`, plus the channels its sources add. */
export function buildAsyncApi (registry: ContractRegistry, options: AsyncApiOptions = {}): AsyncApiDocument {
  const components = new SchemaComponents()
  const channels: Record<string, Json> = {}
  const operations: Record<string, Json> = {}
  const specs = [...registry.routes.map(routeChannel), ...registry.extraChannels()]
  for (const spec of specs) render(spec, uniqueKey(sanitize(spec.id), channels), channels, operations, components)
  const document: AsyncApiDocument = {
    asyncapi: '3.0.0',
    ...(options.id === undefined ? {} : { id: options.id }),
    info: { title: 'WebSocket API', version: '1.0.0', ...options.info },
    ...(options.servers === undefined ? {} : { servers: options.servers }),
    defaultContentType: 'application/json',
    channels,
    operations
  }
  if (Object.keys(components.schemas).length > 0) document.components = { schemas: components.schemas }
  return document
}

function render (spec: ChannelSpec, id: string, channels: Record<string, Json>, operations: Record<string, Json>, components: SchemaComponents): void {
  const messages: Record<string, Json> = {}
  const channel: Json = { address: spec.address }
  if (spec.description !== undefined) channel.description = spec.description
  channel.messages = messages
  if (spec.parameters !== undefined && Object.keys(spec.parameters).length > 0) channel.parameters = spec.parameters
  if (spec.bindings !== undefined) channel.bindings = { ws: convertBinding(spec.bindings.ws, components) }
  Object.assign(channel, spec.extensions)
  channels[id] = channel
  const channelRef = { $ref: `#/channels/${pointer(id)}` }
  for (const message of spec.messages) {
    const key = uniqueKey(sanitize(message.tag), messages)
    messages[key] = messageObject(message.tag, message.payload, message.description, components)
    const operation: Json = {
      action: message.action,
      channel: channelRef,
      summary: `${message.action === 'receive' ? 'The client sends' : 'The server sends'} "${message.tag}".`,
      messages: [{ $ref: `#/channels/${pointer(id)}/messages/${pointer(key)}` }]
    }
    if (message.reply !== undefined) {
      const replyKey = uniqueKey(`${sanitize(message.tag)}.reply`, messages)
      messages[replyKey] = messageObject(message.reply.tag, message.reply.payload, `The reply to "${message.tag}" when it carries a ref.`, components)
      operation.reply = { channel: channelRef, messages: [{ $ref: `#/channels/${pointer(id)}/messages/${pointer(replyKey)}` }] }
    }
    operations[uniqueKey(`${id}.${message.action}.${key}`, operations)] = operation
  }
}

function messageObject (tag: string, payload: unknown, description: string | undefined, components: SchemaComponents): Json {
  const message: Json = { name: tag, title: tag, payload: components.convert(payload) }
  if (description !== undefined) message.description = description
  return message
}

function convertBinding (binding: Readonly<Json>, components: SchemaComponents): Json {
  const out: Json = { ...binding }
  for (const key of ['query', 'headers']) if (out[key] !== undefined) out[key] = components.convert(out[key])
  return out
}

/** Component and channel keys: letters, digits, `.`, `_` and `-` (what AsyncAPI allows). */
function sanitize (text: string): string {
  const cleaned = text.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '')
  return cleaned === '' ? 'root' : cleaned
}

function uniqueKey (base: string, taken: Record<string, unknown>): string {
  let key = base
  for (let n = 2; Object.prototype.hasOwnProperty.call(taken, key); n++) key = `${base}_${n}`
  return key
}

/** A key as a JSON pointer segment. */
function pointer (key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}
