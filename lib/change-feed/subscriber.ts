import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Connection } from '../connection/connection.js'
import { CloseCode } from '../connection/close-codes.js'
import { WebSocketResource } from '../resources/resource.js'
import { kSubscribe, kWrite } from '../symbols.js'
import { ALL_TOPIC, feedRoom, type ChangeEvent } from './event.js'
import type { ChangeFilter, FeedSettings } from './options.js'

/** The topics each admitted upgrade request subscribes to, set by the route's preValidation hook. */
export const subscriptions = new WeakMap<FastifyRequest, { topics: string[], ack: boolean }>()

/**
 * One subscriber of a change feed: joins its topics' rooms, and receives
 * their events as the backend delivers them (one Buffer for every subscriber
 * of a node). What the client sends is ignored: the feed is one-way.
 */
export class ChangeFeedSubscriber extends WebSocketResource {
  constructor (private readonly feed: FeedSettings) {
    super()
  }

  override async onConnect (): Promise<void> {
    const { topics, ack } = subscriptions.get(this.request) as { topics: string[], ack: boolean }
    if (this.feed.filter !== undefined) filterWrites(this.connection, this.request, this.feed.filter, this.log)
    const manager = this.ws
    try {
      await Promise.all(topics.map(async (topic) => await manager[kSubscribe](this.connection, feedRoom(topic))))
    } catch (err) {
      // the backend's failure, not the client's: 1013 tells it to come back later
      this.log.warn({ err }, 'change feed: subscribing failed; closing with 1013')
      this.close(CloseCode.TRY_AGAIN_LATER, 'subscription unavailable, try again later')
      return
    }
    if (ack) this.connection.send({ type: 'subscribed', topics: topics.map((topic) => topic === ALL_TOPIC ? this.feed.topicAll : topic) })
  }

  override onUnhandled (): undefined {
    this.log.debug('change feed: ignored a frame from a subscriber (the feed is one-way)')
    return undefined
  }
}

/** Events parsed once per node: every subscriber of a node gets the same Buffer from the backend. */
const parsed = new WeakMap<Buffer, Readonly<ChangeEvent> | null>()

/**
 * Runs the feed's filter on every change event written to this connection.
 * The connection's write is the one place every delivery goes through (room
 * fan-out, on this node or from another), so the filter is applied there; it
 * is only installed on the subscribers of a feed that has a filter.
 */
function filterWrites (connection: Connection, request: FastifyRequest, filter: ChangeFilter, log: FastifyBaseLogger): void {
  const write = connection[kWrite]
  connection[kWrite] = function filtered (data, binary) {
    const event = Buffer.isBuffer(data) && !binary ? eventOf(data) : null
    if (event === null) return write.call(this, data, binary)
    let out: Buffer | string | undefined
    try {
      const result = filter(request, event)
      if (result !== false && result !== null && result !== undefined) out = result === event ? data : JSON.stringify(result)
    } catch (err) {
      // fails closed: a filter that throws (on the frozen event, say) drops the event for this subscriber
      log.error({ err, model: event.model }, 'change feed: the filter failed; the event was not sent to this subscriber')
    }
    return out === undefined ? true : write.call(this, out, false)
  }
}

function eventOf (frame: Buffer): Readonly<ChangeEvent> | null {
  let event = parsed.get(frame)
  if (event !== undefined) return event
  try {
    const value = JSON.parse(frame.toString('utf8')) as Partial<ChangeEvent>
    event = isChange(value) ? deepFreeze(value) : null
  } catch {
    event = null
  }
  parsed.set(frame, event)
  return event
}

function isChange (value: Partial<ChangeEvent> | null): value is ChangeEvent {
  return value !== null && typeof value === 'object' && typeof value.ts === 'number' && typeof value.model === 'string' && typeof value.method === 'string' && 'payload' in value
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
