import type { FrameHead } from '../../history/history-store.js'
import { encodeFrame } from '../codec.js'

/*
 * A broadcast to a topic with history must carry its offset and epoch in its
 * payload, where the phoenix client's app reads them. The history store
 * stamps `"offset":n,"epoch":"e"}` at the end of an object, so the hub keeps
 * (and relays) its frames wrapped: `{"\u0000hub":[null,null,topic,event,payload],"offset":n,"epoch":"e"}`,
 * and each node unwraps a frame once into the V2 array its hub sockets get,
 * the position merged into the payload. Nothing else starts with that key.
 */

export const WRAPPED_PREFIX = Buffer.from('{"\\u0000hub":')

/** The head the store stamps for a hub broadcast. */
export function wrappedHead (topic: string, event: string, payloadJson: string): FrameHead {
  return { head: `{"\\u0000hub":[null,null,${JSON.stringify(topic)},${JSON.stringify(event)},${payloadJson}]`, separator: ',' }
}

/** Whether a frame is a wrapped hub broadcast. */
export function isWrapped (frame: Buffer): boolean {
  return frame.length > WRAPPED_PREFIX.length && frame.compare(WRAPPED_PREFIX, 0, WRAPPED_PREFIX.length, 0, WRAPPED_PREFIX.length) === 0
}

/** The V2 broadcast a wrapped frame stands for, its position in the payload; undefined for anything else. */
export function unwrap (frame: Buffer): Buffer | undefined {
  let value: { '\u0000hub'?: unknown, offset?: unknown, epoch?: unknown }
  try {
    value = JSON.parse(frame.toString())
  } catch {
    return undefined
  }
  const inner = value['\u0000hub']
  if (!Array.isArray(inner) || inner.length !== 5 || typeof inner[2] !== 'string' || typeof inner[3] !== 'string') return undefined
  const payload = { ...inner[4], offset: value.offset, epoch: value.epoch }
  return Buffer.from(encodeFrame(2, null, null, inner[2], inner[3], JSON.stringify(payload)))
}
