import 'reflect-metadata'
import type { TSchema } from 'typebox'
import { ERR_HUB_EVENT_INVALID } from '../errors.js'
import { EVENTS_KEY } from '../metadata-keys.js'
import { compileMessageSchema, type MessageValidator } from '../messages/schema.js'
import type { EventRecord } from './handles-event.js'

/** One bound event: the method to call and its compiled payload check. */
export interface EventEntry {
  readonly event: string
  readonly method: string | symbol
  readonly fn: (payload: unknown) => unknown
  readonly validator: MessageValidator | undefined
  readonly schema: TSchema | undefined
}

/** A channel class's events, read once per class. Only decorated methods are reachable: no naming convention. */
export interface EventTable {
  readonly events: readonly string[]
  lookup (event: string): EventEntry | undefined
}

const tables = new WeakMap<object, EventTable>()

/** The event table of a channel class (cached); a duplicate event or a decorated non-method throws. */
export function eventTableOf (cls: abstract new (...args: never[]) => unknown, base: object): EventTable {
  const cached = tables.get(cls)
  if (cached !== undefined) return cached
  const entries = new Map<string, EventEntry>()
  // walk the chain from the subclass up: a subclass's binding of an event overrides its parent's
  const protos: object[] = []
  for (let proto = cls.prototype as object; proto !== null && proto !== base; proto = Object.getPrototypeOf(proto) as object) protos.push(proto)
  for (const proto of protos) {
    const own = new Map<string, EventRecord>()
    for (const record of (Reflect.getOwnMetadata(EVENTS_KEY, proto) ?? []) as EventRecord[]) {
      const taken = own.get(record.event)
      if (taken !== undefined) throw new ERR_HUB_EVENT_INVALID(cls.name, `the event "${record.event}" is bound twice (methods ${String(taken.method)} and ${String(record.method)})`)
      own.set(record.event, record)
      if (entries.has(record.event)) continue
      const fn = (proto as Record<string | symbol, unknown>)[record.method]
      if (typeof fn !== 'function') throw new ERR_HUB_EVENT_INVALID(cls.name, `${String(record.method)} is decorated with @handlesEvent but is not a method`)
      const validator = record.schema === undefined ? undefined : compileMessageSchema(record.schema, record.strict ?? true)
      entries.set(record.event, { event: record.event, method: record.method, fn: fn as EventEntry['fn'], validator, schema: record.schema })
    }
  }
  const table: EventTable = {
    events: [...entries.keys()],
    lookup: (event) => entries.get(event)
  }
  tables.set(cls, table)
  return table
}
