import { ERR_CHANGE_INVALID } from '../errors.js'

/**
 * One change, as every subscriber receives it: a JSON text frame with exactly
 * these fields (flarchitect's wire format).
 */
export interface ChangeEvent<Payload = unknown> {
  /** When it was published, in milliseconds since the epoch. */
  ts: number
  /** The model, lower-cased (`config.model` of the route). */
  model: string
  /** The HTTP method of the write (`POST`, `PUT`, `PATCH`, `DELETE`). */
  method: string
  /** The record's key for a single-record call, `null` when there is none. */
  id: string | number | null
  /** Whether the body is a list. */
  many: boolean
  /** The body the HTTP client received, parsed when it was JSON. */
  payload: Payload
}

/** What `app.ws.publishChange()` takes: `ts` is now, `id` defaults to `null`, `many` to whether `payload` is an array. */
export interface ChangeInput {
  model: string
  method: string
  id?: string | number | null
  many?: boolean
  payload?: unknown
}

/** A model (and topic) name: lower-case letters, digits, `_`, `.` and `-`, starting with a letter or digit, at most 64 characters. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/
/** The internal topic every event is also published to (the subscribers' `topicAll`); no model can be named so. */
export const ALL_TOPIC = '*'
const ROOM_PREFIX = '\u0000changes:'

/** The room a topic's subscribers are in: a namespace no room name of an application's starts with. */
export function feedRoom (topic: string): string {
  return ROOM_PREFIX + topic
}

/** The lower-cased model name, or undefined when it is not one. */
export function modelName (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const name = value.toLowerCase()
  return MODEL_NAME.test(name) ? name : undefined
}

/** Checks `publishChange()`'s argument and makes the event; throws `FST_PACHINKO_CHANGE_INVALID` naming the bad field. */
export function changeEvent (change: ChangeInput): ChangeEvent {
  if (change === null || typeof change !== 'object') throw new ERR_CHANGE_INVALID('', `must be an object { model, method, id?, payload? }, got ${change === null ? 'null' : typeof change}`)
  const model = modelName(change.model)
  if (model === undefined) throw new ERR_CHANGE_INVALID('model', `must be a model name (${String(MODEL_NAME)}), got ${describe(change.model)}`)
  if (typeof change.method !== 'string' || !/^[A-Za-z]{1,16}$/.test(change.method)) {
    throw new ERR_CHANGE_INVALID('method', `must be an HTTP method name such as 'POST', got ${describe(change.method)}`)
  }
  const id = change.id ?? null
  if (id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    throw new ERR_CHANGE_INVALID('id', `must be a string, a finite number or null, got ${describe(change.id)}`)
  }
  if (change.many !== undefined && typeof change.many !== 'boolean') throw new ERR_CHANGE_INVALID('many', `must be true or false, got ${describe(change.many)}`)
  const payload = change.payload ?? null
  return { ts: Date.now(), model, method: change.method.toUpperCase(), id, many: change.many ?? Array.isArray(payload), payload }
}

function describe (value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : value === null ? 'null' : typeof value
}
