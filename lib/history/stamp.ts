import { ERR_OPTION_INVALID } from '../errors.js'
import type { FrameHead, StreamPosition } from './history-store.js'

/*
 * A broadcast to a room with history carries its position as two top-level
 * fields, `offset` and `epoch`, stamped onto the JSON the message was
 * serialised to once: the frame stays one Buffer for every recipient.
 */

/** The JSON of a message, ready to be stamped; only an object can carry a position. */
export function frameHead (json: string): FrameHead {
  if (json.charCodeAt(0) !== 0x7b) throw new ERR_OPTION_INVALID('message', 'a broadcast to a room with history must be a JSON object: it carries its offset and epoch')
  return { head: json.slice(0, -1), separator: json.length > 2 ? ',' : '' }
}

/** The frame as recipients get it. */
export function stamp (frame: FrameHead, position: StreamPosition): Buffer {
  return Buffer.from(`${frame.head}${frame.separator}"offset":${position.offset},"epoch":"${position.epoch}"}`)
}
