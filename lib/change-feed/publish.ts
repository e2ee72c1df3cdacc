import type { Backend } from '../backends/backend.js'
import { settleAll } from '../connection/delivery.js'
import { encode } from '../manager/send-options.js'
import { ALL_TOPIC, feedRoom, type ChangeEvent } from './event.js'

/**
 * Something that also receives every change published on this node, before
 * it goes out: the hook point for another front, such as the channels hub
 * mirroring events as `changes:<model>` topics. `frame` is the event encoded
 * once (the Buffer the feed's subscribers get); a mirror that re-encodes for its
 * own wire format does so once per event, not per subscriber. A rejection
 * makes the publish reject (and the route log it) like a backend failure.
 */
export type ChangeMirror = (event: Readonly<ChangeEvent>, frame: Buffer) => Promise<void> | void

/** The mirrors of each manager (keyed by it, so this module needs nothing of the manager's). */
const mirrors = new WeakMap<object, Set<ChangeMirror>>()

/**
 * Adds a mirror of `manager`'s change events (`app.ws`); returns the function that removes it.
 * @example addChangeMirror(app.ws, async (event) => await hub.broadcast(`changes:${event.model}`, 'change', event))
 */
export function addChangeMirror (manager: object, mirror: ChangeMirror): () => void {
  let set = mirrors.get(manager)
  if (set === undefined) mirrors.set(manager, set = new Set())
  set.add(mirror)
  return () => { set.delete(mirror) }
}

/**
 * Encodes the event once and publishes it to its model's room and to the
 * all-topic room, through the backend (with Redis: one PUBLISH per room), and
 * hands it to the mirrors. Resolves when all of that is done; rejects with
 * the failure (an AggregateError when several failed). Throws at once when the
 * payload cannot be serialised.
 */
export function publishEvent (backend: Backend, manager: object, event: ChangeEvent): Promise<void> {
  const frame = encode(event)
  const work: Array<Promise<void> | undefined> = [
    backend.publish({ kind: 'room', room: feedRoom(event.model) }, frame, {}),
    backend.publish({ kind: 'room', room: feedRoom(ALL_TOPIC) }, frame, {})
  ]
  const set = mirrors.get(manager)
  if (set !== undefined) for (const mirror of set) work.push(callMirror(mirror, event, frame))
  return settleAll(work)
}

async function callMirror (mirror: ChangeMirror, event: ChangeEvent, frame: Buffer): Promise<void> {
  await mirror(event, frame)
}
