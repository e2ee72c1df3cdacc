/*
 * A token bucket per connection, refilled lazily from the time of each take:
 * no timer per connection, two numbers of state. The limit (rate, burst,
 * when abuse closes) is one object shared by every bucket of a route or hub.
 */

/** One connection's bucket: tokens left, when they were counted, and the refusals of the current window. */
export class TokenBucket {
  constructor (
    public tokens: number,
    public stamp: number,
    public refused = 0,
    public windowStart = stamp
  ) {}
}

/** A limit as the plugin runs it: every value checked, defaults applied. */
export interface ResolvedLimit {
  /** Tokens added per `perMs`. */
  readonly messages: number
  readonly perMs: number
  /** The bucket's size: how many messages may arrive at once. */
  readonly burst: number
  /** Refused messages within one `perMs` that close the connection; 0 never closes. */
  readonly closeAfter: number
}

/** A rate shared by many buckets. */
export class RateLimit {
  /** Tokens per millisecond. */
  private readonly rate: number

  constructor (readonly limit: ResolvedLimit) {
    this.rate = limit.messages / limit.perMs
  }

  /** A full bucket. */
  bucket (now: number): TokenBucket {
    return new TokenBucket(this.limit.burst, now)
  }

  /** Takes one token: 0 when there was one, else how many ms until the next one. */
  take (bucket: TokenBucket, now: number): number {
    const elapsed = now - bucket.stamp
    if (elapsed > 0) {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + elapsed * this.rate)
      bucket.stamp = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    if (now - bucket.windowStart >= this.limit.perMs) {
      bucket.windowStart = now
      bucket.refused = 0
    }
    bucket.refused++
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate))
  }

  /** Whether the refusals of the current window reached `closeAfter` (sustained abuse). */
  exceeded (bucket: TokenBucket): boolean {
    const closeAfter = this.limit.closeAfter
    return closeAfter > 0 && bucket.refused >= closeAfter
  }
}
