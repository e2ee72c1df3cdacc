import { ERR_OPTION_INVALID } from '../errors.js'

/** Timing of a clustered backend. */
export interface ClusterOptions {
  /**
   * How often this node refreshes its presence, in ms: an integer of at least 20
   * (below that a node does little but heartbeat).
   * @default 5000
   */
  heartbeatMs?: number
  /**
   * How long after its last heartbeat a silent node stops counting, in ms: at
   * least 2 × heartbeatMs, so one late heartbeat does not drop a live node.
   * @default 3 × heartbeatMs
   */
  ttlMs?: number
}

/** The smallest heartbeat interval accepted: 0 or 1 ms would be a hot loop. */
export const MIN_HEARTBEAT_MS = 20
// setInterval's limit: a longer delay is silently replaced by 1 ms, a hot loop again
const MAX_TIMER_MS = 2 ** 31 - 1

/** Checks a clustered backend's timing where it is given, and fills the defaults. */
export function clusterTiming (options: ClusterOptions | undefined): Required<ClusterOptions> {
  if (options === null || typeof options !== 'object') throw new ERR_OPTION_INVALID('ClusterOptions', `must be an object ({ heartbeatMs, ttlMs }), got ${describeValue(options)}`)
  const { heartbeatMs = 5000 } = options
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < MIN_HEARTBEAT_MS || heartbeatMs > MAX_TIMER_MS) {
    throw new ERR_OPTION_INVALID('heartbeatMs', `must be an integer from ${MIN_HEARTBEAT_MS} to ${MAX_TIMER_MS} (milliseconds), got ${describeValue(heartbeatMs)}`)
  }
  const { ttlMs = 3 * heartbeatMs } = options
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 2 * heartbeatMs) {
    throw new ERR_OPTION_INVALID('ttlMs', `must be an integer of at least 2 × heartbeatMs (${2 * heartbeatMs} ms), or a live node is dropped between two heartbeats; got ${describeValue(ttlMs)}`)
  }
  return { heartbeatMs, ttlMs }
}

/** A bad option value, as an error message shows it. */
export function describeValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === undefined || value === null) return String(value)
  return typeof value === 'function' ? 'a function' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
