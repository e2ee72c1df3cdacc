import type { DeliveryOptions } from '../backends/backend.js'
import { serialize, type Connection } from '../connection/connection.js'
import { ERR_OPTION_INVALID } from '../errors.js'

/** Options of the broadcast and send methods of `app.ws`. */
export interface SendOptions {
  /** Connections (ids or handles) that must not receive the message. */
  exclude?: string | Connection | Iterable<string | Connection>
  /**
   * With the `'wait'` backpressure policy: how long one slow recipient may take to drain.
   * @default the plugin's `sendTimeoutMs`
   */
  timeoutMs?: number
}

/** Encodes a message once, for every recipient of a send. */
export function encode (message: unknown): Buffer {
  return Buffer.from(serialize(message))
}

/** The backend's delivery options for a send's options: `exclude` as a set of ids. */
export function delivery (options: SendOptions): DeliveryOptions {
  const exclude = options.exclude
  if (exclude === undefined) return { timeoutMs: options.timeoutMs }
  const ids = new Set<string>()
  if (typeof exclude === 'string') ids.add(exclude)
  else if (isConnection(exclude)) ids.add(exclude.id)
  else for (const item of exclude) ids.add(typeof item === 'string' ? item : item.id)
  return { exclude: ids, timeoutMs: options.timeoutMs }
}

function isConnection (value: unknown): value is Connection {
  return typeof (value as Connection).id === 'string' && typeof (value as Connection).send === 'function'
}

/** Checks a room, user, label or id argument: a non-empty string. */
export function checkName (what: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ERR_OPTION_INVALID(what, `must be a non-empty string, got ${typeof value === 'string' ? '""' : typeof value}`)
  return value
}
