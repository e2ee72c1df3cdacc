import 'reflect-metadata'
import type { Static, TSchema } from 'typebox'
import { ERR_HUB_EVENT_INVALID } from '../errors.js'
import { EVENTS_KEY } from '../metadata-keys.js'

/** Options of `@handlesEvent`. */
export interface EventHandlerOptions {
  /**
   * Refuse payload properties the schema does not declare.
   * @default true
   */
  strict?: boolean
}

/** What `@handlesEvent` writes, one per decorated method. */
export interface EventRecord {
  event: string
  method: string | symbol
  schema: TSchema | undefined
  strict: boolean | undefined
}

/**
 * A method decorator that checks the method accepts the payload schema's static type.
 * @typeParam T the decorated method's type
 */
export type TypedEventDecorator<P> = <T extends (payload: P) => unknown> (
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<T>
) => void

/** Events the Phoenix protocol reserves: a channel cannot bind them. */
export function isReservedEvent (event: string): boolean {
  return event.startsWith('phx_') || event.startsWith('chan_reply_')
}

/**
 * Binds a channel method to an event of its topic. With a TypeBox schema the
 * payload is validated first (a failure is an `error` reply listing the
 * issues) and the method's parameter must accept `Static<typeof schema>`. The
 * method's return value is the `ok` reply's response.
 * @example
 * @handlesEvent('shout', Type.Object({ body: Type.String() }))
 * async shout (payload: { body: string }) { await this.broadcast('shout', payload); return { ok: true } }
 */
export function handlesEvent<S extends TSchema> (event: string, schema: S, options?: EventHandlerOptions): TypedEventDecorator<Static<S>>
export function handlesEvent (event: string, options?: EventHandlerOptions): MethodDecorator
export function handlesEvent (event: string, schemaOrOptions?: TSchema | EventHandlerOptions, maybeOptions?: EventHandlerOptions): MethodDecorator {
  if (typeof event !== 'string' || event.length === 0) throw new ERR_HUB_EVENT_INVALID('@handlesEvent(event)', `an event must be a non-empty string, got ${typeof event === 'string' ? '""' : typeof event}`)
  if (isReservedEvent(event)) throw new ERR_HUB_EVENT_INVALID(`@handlesEvent("${event}")`, 'events starting with phx_ or chan_reply_ are reserved by the protocol')
  const isOptions = schemaOrOptions !== undefined && isEventOptions(schemaOrOptions)
  const schema = isOptions ? undefined : schemaOrOptions as TSchema | undefined
  const options = isOptions ? schemaOrOptions as EventHandlerOptions : maybeOptions
  return (target, key) => {
    const records: EventRecord[] = Reflect.getOwnMetadata(EVENTS_KEY, target) ?? []
    records.push({ event, method: key, schema, strict: options?.strict })
    Reflect.defineMetadata(EVENTS_KEY, records, target)
  }
}

function isEventOptions (value: object): boolean {
  if (Object.prototype.hasOwnProperty.call(value, '~kind')) return false
  const keys = Object.keys(value)
  return keys.length > 0 && keys.every((key) => key === 'strict')
}
