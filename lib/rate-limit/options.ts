import { ERR_OPTION_INVALID } from '../errors.js'
import { RateLimit, type ResolvedLimit } from './token-bucket.js'

/** A token bucket's settings: `messages` per `perMs`, up to `burst` at once. */
export interface BucketOptions {
  /** Messages allowed per `perMs` (the refill rate). */
  messages: number
  /** The window `messages` is counted over, in ms. */
  perMs: number
  /**
   * How many messages may arrive at once (the bucket's size).
   * @default messages
   */
  burst?: number
  /**
   * Refused messages within one `perMs` that close the connection with 1008; `false` never closes.
   * @default messages
   */
  closeAfter?: number | false
}

/**
 * The `rateLimit` option of the plugin and of a route: a token bucket per
 * connection; a message over the limit gets a `RATE_LIMITED` error frame and
 * is not dispatched; sustained abuse (`closeAfter`) closes with 1008.
 * @example rateLimit: { messages: 100, perMs: 1000, burst: 200 }
 */
export interface RateLimitOptions extends BucketOptions {
  /**
   * Join attempts, counted in a bucket of their own: used by the channels hub
   * (the `phoenix` client retries a refused join forever); routes ignore it.
   */
  joins?: BucketOptions
}

/** A route's or hub's rate limits, ready to make buckets. */
export interface RateLimits {
  readonly messages: RateLimit
  readonly joins: RateLimit | undefined
}

const BUCKET_KEYS = new Set(['messages', 'perMs', 'burst', 'closeAfter'])
const KEYS = new Set([...BUCKET_KEYS, 'joins'])

/** Checks a `rateLimit` option (undefined: none; `false` is left to the caller); throws ERR_OPTION_INVALID naming the bad field. */
export function resolveRateLimit (value: unknown, name = 'rateLimit'): RateLimits | undefined {
  if (value === undefined) return undefined
  const options = bucketOptions(value, name, KEYS)
  const joins = options.joins === undefined ? undefined : new RateLimit(resolveBucket(bucketOptions(options.joins, `${name}.joins`, BUCKET_KEYS), `${name}.joins`))
  return { messages: new RateLimit(resolveBucket(options, name)), joins }
}

function bucketOptions (value: unknown, name: string, keys: ReadonlySet<string>): RateLimitOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ERR_OPTION_INVALID(name, `must be an object like { messages: 100, perMs: 1000, burst: 200 }, got ${describe(value)}`)
  }
  for (const key of Object.keys(value)) if (!keys.has(key)) throw new ERR_OPTION_INVALID(`${name}.${key}`, `is not an option; use ${[...keys].join(', ')}`)
  return value as RateLimitOptions
}

function resolveBucket (options: BucketOptions, name: string): ResolvedLimit {
  const messages = positiveInteger(`${name}.messages`, options.messages)
  const closeAfter = options.closeAfter === false ? 0 : positiveInteger(`${name}.closeAfter`, options.closeAfter ?? messages)
  return {
    messages,
    perMs: positiveInteger(`${name}.perMs`, options.perMs),
    burst: positiveInteger(`${name}.burst`, options.burst ?? messages),
    closeAfter
  }
}

function positiveInteger (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new ERR_OPTION_INVALID(name, `must be a positive integer, got ${describe(value)}`)
  return value
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? 'an object' : String(value)
}
