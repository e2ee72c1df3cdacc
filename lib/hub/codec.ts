import { ERR_HUB_NOT_SERIALIZABLE } from '../errors.js'
import { parseFrame, type ProtoAction } from '../messages/json-frame.js'

/*
 * The Phoenix channel wire format. V2 (`vsn=2.0.0`, what the official client
 * speaks): each text frame is `[join_ref, ref, topic, event, payload]`. V1 (no
 * vsn, or `1.0.0`): objects `{ topic, event, payload, ref, join_ref }`, and the
 * server answers `{ topic, event, payload, ref }`. Refs are echoed verbatim.
 */

/** A protocol version the hub speaks. */
export type HubVersion = 1 | 2

/** A ref as the client sent it: the official client sends strings; hand-written V1 clients may send numbers. */
export type HubRef = string | number | null

/** One decoded client message. */
export interface HubMessage {
  joinRef: HubRef
  ref: HubRef
  topic: string
  event: string
  payload: Record<string, unknown>
}

/** Why a frame could not be read as a message; `ref`/`topic` are set when the frame still says whom to answer. */
export interface HubFrameError {
  reason: string
  ref?: HubRef
  joinRef?: HubRef
  topic?: string
}

/** The channel events the protocol reserves. */
export const PHX = {
  join: 'phx_join',
  leave: 'phx_leave',
  reply: 'phx_reply',
  close: 'phx_close',
  error: 'phx_error',
  heartbeat: 'heartbeat',
  topic: 'phoenix'
} as const

const KIND_PUSH = 0
const MAX_REF_LENGTH = 255

/** The protocol version of a `vsn` query value, or undefined for one the hub does not speak (HTTP 403, as Phoenix does). */
export function versionOf (vsn: unknown): HubVersion | undefined {
  if (vsn === undefined || vsn === '1.0.0') return 1
  if (vsn === '2.0.0') return 2
  return undefined
}

/** Decodes one text frame; returns a `HubFrameError` for anything that is not a well-formed message. */
export function decodeText (text: string, version: HubVersion, protoAction: ProtoAction): HubMessage | HubFrameError {
  let value: unknown
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xFEFF ? text.slice(1) : text)
  } catch {
    return { reason: 'frame is not valid JSON' }
  }
  const fields = version === 2 ? fromArray(value) : fromObject(value)
  if ('reason' in fields) return fields
  if (protoAction !== 'ignore' && (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u'))) {
    try {
      // parsed again only for text that could hide a poisoned key, to strip or refuse it as routes do
      const clean = parseFrame(text, protoAction) as unknown
      const payload = version === 2 ? (clean as unknown[])[4] : (clean as Record<string, unknown>).payload
      fields.payload = payload as Record<string, unknown>
    } catch {
      return { reason: 'payload contains a forbidden prototype property', ref: fields.ref, joinRef: fields.joinRef, topic: fields.topic }
    }
  }
  return fields
}

function fromArray (value: unknown): HubMessage | HubFrameError {
  if (!Array.isArray(value)) return { reason: 'a frame must be a JSON array [join_ref, ref, topic, event, payload]' }
  // extra elements are ignored, as Phoenix ignores them
  if (value.length < 5) return { reason: `a frame needs 5 elements, got ${value.length}` }
  return check(value[0], value[1], value[2], value[3], value[4])
}

function fromObject (value: unknown): HubMessage | HubFrameError {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { reason: 'a frame must be a JSON object { topic, event, payload, ref }' }
  const message = value as Record<string, unknown>
  return check(message.join_ref ?? null, message.ref ?? null, message.topic, message.event, message.payload ?? {})
}

function check (joinRef: unknown, ref: unknown, topic: unknown, event: unknown, payload: unknown): HubMessage | HubFrameError {
  if (!isRef(ref)) return { reason: 'ref must be a string, a number or null' }
  const answerable = typeof topic === 'string' && topic.length > 0
  const to = (reason: string): HubFrameError => answerable ? { reason, ref, topic, joinRef: isRef(joinRef) ? joinRef : null } : { reason }
  if (!isRef(joinRef)) return to('join_ref must be a string, a number or null')
  if (!answerable) return { reason: 'topic must be a non-empty string' }
  if (typeof event !== 'string' || event.length === 0) return to('event must be a non-empty string')
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return to('payload must be an object')
  return { joinRef, ref, topic, event, payload: payload as Record<string, unknown> }
}

function isRef (value: unknown): value is HubRef {
  if (value === null) return true
  if (typeof value === 'string') return value.length <= MAX_REF_LENGTH
  return typeof value === 'number' && Number.isFinite(value)
}

/**
 * Reads what a V2 binary frame says about itself, so it can be answered: the
 * hub does not take binary payloads (see docs/hub.md), it refuses them with an
 * error reply to the push's ref.
 */
export function decodeBinaryHeader (data: Buffer): HubFrameError {
  const refusal = 'binary payloads are not supported; send a JSON object'
  if (data.length < 5 || data[0] !== KIND_PUSH) return { reason: refusal }
  const joinRefEnd = 5 + data[1]
  const refEnd = joinRefEnd + data[2]
  const topicEnd = refEnd + data[3]
  if (topicEnd + data[4] > data.length || data[3] === 0) return { reason: refusal }
  return {
    reason: refusal,
    joinRef: data[1] === 0 ? null : data.toString('utf8', 5, joinRefEnd),
    ref: data.toString('utf8', joinRefEnd, refEnd),
    topic: data.toString('utf8', refEnd, topicEnd)
  }
}

/** Encodes a server message in `version`'s format. `payload` must be JSON-serialisable (the caller serialises once). */
export function encodeFrame (version: HubVersion, joinRef: HubRef, ref: HubRef, topic: string, event: string, payloadJson: string): string {
  if (version === 2) return `[${refJson(joinRef)},${refJson(ref)},${JSON.stringify(topic)},${JSON.stringify(event)},${payloadJson}]`
  return `{"topic":${JSON.stringify(topic)},"event":${JSON.stringify(event)},"payload":${payloadJson},"ref":${refJson(ref)}}`
}

/** A reply frame: `phx_reply` with `{ status, response }`. */
export function encodeReply (version: HubVersion, joinRef: HubRef, ref: HubRef, topic: string, status: 'ok' | 'error', responseJson: string): string {
  return encodeFrame(version, joinRef, ref, topic, PHX.reply, `{"status":"${status}","response":${responseJson}}`)
}

function refJson (ref: HubRef): string {
  return ref === null ? 'null' : JSON.stringify(ref)
}

/** A V2 broadcast frame re-encoded as V1, once per frame per node, for the node's V1 subscribers. */
export function transcodeBroadcast (frame: Buffer): Buffer | undefined {
  // every frame fan-out carries was encoded from a value (the hub's or app.ws's): it parses
  const value: unknown = JSON.parse(frame.toString())
  if (!Array.isArray(value) || value.length !== 5 || typeof value[2] !== 'string' || typeof value[3] !== 'string') return undefined
  return Buffer.from(encodeFrame(1, null, null, value[2], value[3], JSON.stringify(value[4])))
}

/** A payload's JSON: it must be an object; throws `FST_PACHINKO_HUB_NOT_SERIALIZABLE` at the call site otherwise. */
export function payloadJson (payload: unknown): string {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new ERR_HUB_NOT_SERIALIZABLE(`got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`)
  try {
    return JSON.stringify(payload)
  } catch (err) {
    throw new ERR_HUB_NOT_SERIALIZABLE((err as Error).message, { cause: err })
  }
}
