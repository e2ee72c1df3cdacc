import type { Metrics } from '../connection/connection.js'
import type { RateLimits } from '../rate-limit/options.js'
import type { TokenBucket } from '../rate-limit/token-bucket.js'

/** What a hub socket does with a frame, as far as its rate limits say. */
export type Admission = { ok: true } | { ok: false, retryAfterMs: number, abusive: boolean }

const ADMITTED: Admission = { ok: true }

/**
 * One hub socket's token buckets: events, and joins counted apart (the
 * `phoenix` client retries a refused join forever, so a join limit must not
 * eat the events' budget, nor the other way round). Heartbeats are never
 * counted. Buckets are made on first use; no timers.
 */
export class HubRateLimits {
  private events: TokenBucket | undefined
  private joins: TokenBucket | undefined

  constructor (private readonly limits: RateLimits, private readonly metrics: Metrics) {}

  admit (join: boolean, now: number): Admission {
    const limit = join && this.limits.joins !== undefined ? this.limits.joins : this.limits.messages
    const bucket = join && this.limits.joins !== undefined ? (this.joins ??= limit.bucket(now)) : (this.events ??= limit.bucket(now))
    const retryAfterMs = limit.take(bucket, now)
    if (retryAfterMs === 0) return ADMITTED
    this.metrics.messagesLimited++
    const abusive = limit.exceeded(bucket)
    if (abusive) this.metrics.rateLimitCloses++
    return { ok: false, retryAfterMs, abusive }
  }
}
