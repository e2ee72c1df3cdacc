import { EventContext } from '../hooks/hook-chain.js'
import type { WebSocketResource } from '../resources/resource.js'
import type { HubMessage } from './codec.js'
import { REASON, thrownResponse } from './replies.js'
import type { EventEntry } from './event-table.js'
import type { FlowSocket, Joined } from './socket-types.js'
import { ClientError } from '../messages/wire-errors.js'

/*
 * An event on a joined topic: beforeMessage hooks (which may drop it or
 * replace it), payload validation, the handler, afterMessage hooks. The
 * handler's value is the `ok` reply; what it throws is an `error` reply.
 * A message without a ref gets no reply.
 */

const MAX_ECHOED_EVENT = 100

/** Runs one event; returns a promise only while something asynchronous runs; never rejects. */
export function handleEvent (socket: FlowSocket, joined: Joined, message: HubMessage): Promise<void> | undefined {
  const hooks = joined.hooks
  if (hooks !== undefined && (hooks.has('beforeMessage') || hooks.has('afterMessage'))) return withHooks(socket, joined, message)
  const entry = joined.spec.table.lookup(message.event)
  try {
    const result = call(socket, joined, entry, message)
    if (result instanceof Promise) return result.then((value) => answer(socket, joined, message, value), (err: unknown) => fail(socket, joined, message, err))
    answer(socket, joined, message, result)
  } catch (err) {
    fail(socket, joined, message, err)
  }
  return undefined
}

/** Validates and calls; a refusal is thrown as the ClientError its reply is made from. */
function call (socket: FlowSocket, joined: Joined, entry: EventEntry | undefined, message: HubMessage): unknown {
  if (entry === undefined) {
    const shown = message.event.length > MAX_ECHOED_EVENT ? message.event.slice(0, MAX_ECHOED_EVENT) + '...' : message.event
    throw new ClientError('UNKNOWN_EVENT', `no handler for "${shown}"`)
  }
  const validator = entry.validator
  if (validator !== undefined && !validator.check(message.payload)) {
    const issues = validator.issues(message.payload)
    socket.log.debug({ topic: joined.topic, event: message.event, issues }, 'event failed validation')
    throw new ClientError('VALIDATION', REASON.validation, { issues })
  }
  return entry.fn.call(joined.channel, message.payload)
}

function answer (socket: FlowSocket, joined: Joined, message: HubMessage, value: unknown): void {
  if (message.ref === null) return
  socket.reply(joined.context.joinRef, message.ref, joined.topic, 'ok', value === undefined || value === null ? {} : value)
}

function fail (socket: FlowSocket, joined: Joined, message: HubMessage, error: unknown): void {
  if (error instanceof ClientError) socket.log.debug({ topic: joined.topic, event: message.event, code: error.code }, error.message)
  else socket.log.error({ err: error, topic: joined.topic, event: message.event }, 'event handler failed')
  if (message.ref === null) return
  socket.reply(joined.context.joinRef, message.ref, joined.topic, 'error', thrownResponse(error))
}

async function withHooks (socket: FlowSocket, joined: Joined, message: HubMessage): Promise<void> {
  const hooks = joined.hooks as NonNullable<Joined['hooks']>
  const resource = joined.channel as unknown as WebSocketResource
  const before = new EventContext('beforeMessage', resource, joined.channel.log)
  before.message = { topic: message.topic, event: message.event, payload: message.payload }
  before.tag = message.event
  let value: unknown
  try {
    await hooks.before('beforeMessage', before)
    if (!before.dropped) {
      const current = replaced(message, before.message)
      value = await call(socket, joined, joined.spec.table.lookup(current.event), current)
    }
  } catch (err) {
    before.error = err
  }
  const after = new EventContext('afterMessage', resource, joined.channel.log)
  Object.assign(after, { message: before.message, tag: before.tag, error: before.error, dropped: before.dropped })
  await hooks.after('afterMessage', after)
  if (before.dropped) return
  if (before.error !== undefined) fail(socket, joined, message, before.error)
  else answer(socket, joined, message, value)
}

/** The message a beforeMessage hook left: its `event` and `payload`, or the original's where it did not set them. */
function replaced (message: HubMessage, current: Record<string, unknown> | undefined): HubMessage {
  if (current === null || typeof current !== 'object') return message
  const event = typeof current.event === 'string' ? current.event : message.event
  const payload = current.payload !== null && typeof current.payload === 'object' ? current.payload as Record<string, unknown> : message.payload
  return { ...message, event, payload }
}
