/*
 * Reconnect delays: capped exponential backoff with full jitter (a random
 * delay between 0 and min(cap, base × 2^attempt)), so clients that lost the
 * same server do not all come back in the same instant.
 */

/** The `reconnect` option of the client. */
export interface ReconnectOptions {
  /**
   * The first delay's upper bound, ms.
   * @default 250
   */
  initialDelayMs?: number
  /**
   * The cap on any delay, ms.
   * @default 10000
   */
  maxDelayMs?: number
  /**
   * Attempts in a row before giving up (status `closed`).
   * @default Infinity
   */
  maxAttempts?: number
}

/** The delay before reconnect attempt `attempt` (0 for the first). */
export function backoffDelay (attempt: number, options: Required<ReconnectOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}

/**
 * Whether a close code means the server does not want the client back: 1000
 * (done), 1008 (refused: policy, auth), and the application range 4000–4999
 * (by this library's convention, a final verdict such as "kicked" or "login
 * first"). Everything else — going away, restarts, errors, network loss —
 * is worth another attempt.
 */
export function isFinalClose (code: number): boolean {
  return code === 1000 || code === 1008 || (code >= 4000 && code <= 4999)
}
