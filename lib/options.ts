import type { WebsocketOptions as WebsocketPluginOptions } from './websocket-options.js'
import type { Backend } from './backends/backend.js'
import type { BackpressurePolicy } from './connection/connection.js'
import { ERR_OPTION_INVALID } from './errors.js'
import type { WebSocketHooks } from './hooks/hook-chain.js'
import type { JoinAuthorizer } from './manager/connection-manager.js'
import type { ResourceFactoryOption } from './resources/resource-builder.js'
import { DEFAULT_DISCRIMINATOR } from './messages/schema.js'
import type { OutgoingMode } from './contract/outgoing.js'
import { DEFAULT_REPLY_FIELD } from './contract/wire.js'
import type { AsyncApiServeOptions } from './contract/asyncapi/serve.js'
import { deflateOptions, type CompressionOptions, type DeflateSettings } from './protocol/compression.js'
import { resolveRateLimit, type RateLimitOptions, type RateLimits } from './rate-limit/options.js'

/** Options of `app.register(pachinko, options)`. */
export interface PachinkoOptions {
  /** Passed to `@fastify/websocket` when the plugin registers it (ignored when you registered it yourself). */
  websocket?: WebsocketPluginOptions
  /**
   * Largest frame accepted, in bytes; a larger one closes the connection with 1009.
   * @default 1048576 (1 MiB; ws's own default is 100 MiB)
   */
  maxPayload?: number
  /**
   * The message field that carries the tag.
   * @default 'type'
   */
  discriminator?: string
  /**
   * Refuse properties a handler's schema does not declare.
   * @default true
   */
  strict?: boolean
  /**
   * Frames with `__proto__` or `constructor.prototype` keys: refuse them (BAD_JSON), strip the keys, or let them through.
   * @default 'error'
   */
  onProtoPoisoning?: 'error' | 'remove' | 'ignore'
  /**
   * Where rooms and fan-out live: `'memory'` (this process) or a backend such as `redisBackend({ url })`.
   * @default 'memory'
   */
  backend?: 'memory' | Backend
  /** Per-connection send-buffer limits. */
  backpressure?: {
    /**
     * Bytes a connection may have buffered before the policy applies.
     * @default 1048576
     */
    highWaterMark?: number
    /**
     * `'close'` closes a slow consumer with 1013, `'drop'` skips it, `'wait'` makes async sends wait for it to drain.
     * @default 'close'
     */
    policy?: BackpressurePolicy
    /**
     * How long an async send waits for a slow consumer under `'wait'`.
     * @default 5000
     */
    sendTimeoutMs?: number
  }
  /**
   * On `app.close()`, how long connections get to run `onDisconnect` after the 1001 close before they are terminated.
   * @default 5000
   */
  closeTimeoutMs?: number
  /**
   * On `app.close()`, close connections in batches (`size` every `intervalMs`)
   * so tens of thousands of clients do not reconnect to the next node at once.
   * @default all at once
   */
  closeBatch?: { size: number, intervalMs: number }
  /**
   * On `app.close()`, how long each worker gets to stop after its signal is aborted (a worker's own `stopTimeoutMs` wins).
   * @default 5000
   */
  workerStopTimeoutMs?: number
  /**
   * Decides every join (`this.join`, `app.ws.joinRoom`): anything but `true` refuses it with `FST_PACHINKO_JOIN_REFUSED`.
   * @example authorizeJoin: (connection, room) => room.startsWith(`user:${connection.user}:`) || !room.startsWith('user:')
   */
  authorizeJoin?: JoinAuthorizer
  /** WebSocket hooks for every route (the outermost tier). */
  hooks?: WebSocketHooks
  /** Makes resources instead of `new Resource(...args)`: the seam for another DI container. */
  resourceFactory?: ResourceFactoryOption
  /**
   * The top-level message field that carries a request's correlation id: a
   * message with it gets its handler's result back as `{ type: 'reply', ref, payload }`.
   * @default 'ref'
   */
  replyField?: string
  /**
   * Check what resources send against `static emits`, and replies against their
   * `reply` schema: `'warn'` (or `true`) logs a mismatch, `'throw'` throws
   * `FST_PACHINKO_OUTGOING_INVALID` / `FST_PACHINKO_REPLY_INVALID`, `false` skips the check.
   * @default 'warn', or false when NODE_ENV is 'production'
   */
  validateOutgoing?: boolean | 'warn' | 'throw'
  /**
   * How long `connection.request()` and `app.ws.request()` wait for a reply.
   * @default 10000
   */
  requestTimeoutMs?: number
  /** Serve the generated AsyncAPI 3.0 document at `path` (JSON) and the same path ending in `.yaml`. */
  asyncapi?: AsyncApiServeOptions
  /**
   * permessage-deflate: `true` for ws's defaults with a 1 KiB threshold, or its settings.
   * @default false (it costs CPU per message and memory per connection: see docs/contract.md)
   */
  compression?: boolean | CompressionOptions
  /**
   * Per-connection message rate limit of every route (a route's own `rateLimit` wins):
   * over it a message gets a `RATE_LIMITED` error frame and is not dispatched. See docs/rate-limits.md.
   * @default none
   * @example rateLimit: { messages: 100, perMs: 1000, burst: 200 }
   */
  rateLimit?: RateLimitOptions
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  maxPayload: number
  discriminator: string
  strict: boolean
  onProtoPoisoning: 'error' | 'remove' | 'ignore'
  highWaterMark: number
  policy: BackpressurePolicy
  sendTimeoutMs: number
  closeTimeoutMs: number
  closeBatch: { size: number, intervalMs: number } | undefined
  workerStopTimeoutMs: number
  replyField: string
  validateOutgoing: OutgoingMode
  requestTimeoutMs: number
  compression: DeflateSettings | false
  rateLimit: RateLimits | undefined
}

const MiB = 1024 * 1024

/** Applies defaults and throws ERR_OPTION_INVALID naming the first bad option. */
export function resolveOptions (options: PachinkoOptions): ResolvedOptions {
  const backpressure = options.backpressure ?? {}
  return {
    maxPayload: positiveInteger('maxPayload', options.maxPayload, MiB),
    discriminator: nonEmptyString('discriminator', options.discriminator, DEFAULT_DISCRIMINATOR),
    strict: boolean('strict', options.strict, true),
    onProtoPoisoning: oneOf('onProtoPoisoning', options.onProtoPoisoning, ['error', 'remove', 'ignore'] as const, 'error'),
    highWaterMark: positiveInteger('backpressure.highWaterMark', backpressure.highWaterMark, MiB),
    policy: oneOf('backpressure.policy', backpressure.policy, ['close', 'drop', 'wait'] as const, 'close'),
    sendTimeoutMs: positiveInteger('backpressure.sendTimeoutMs', backpressure.sendTimeoutMs, 5000),
    closeTimeoutMs: positiveInteger('closeTimeoutMs', options.closeTimeoutMs, 5000),
    workerStopTimeoutMs: positiveInteger('workerStopTimeoutMs', options.workerStopTimeoutMs, 5000),
    replyField: nonEmptyString('replyField', options.replyField, DEFAULT_REPLY_FIELD),
    validateOutgoing: outgoingMode(options.validateOutgoing),
    requestTimeoutMs: positiveInteger('requestTimeoutMs', options.requestTimeoutMs, 10000),
    compression: deflateOptions(options.compression),
    rateLimit: resolveRateLimit(options.rateLimit),
    closeBatch: options.closeBatch === undefined
      ? undefined
      : { size: positiveInteger('closeBatch.size', options.closeBatch.size ?? 'missing', 0), intervalMs: positiveInteger('closeBatch.intervalMs', options.closeBatch.intervalMs ?? 'missing', 0) }
  }
}

function outgoingMode (value: unknown): OutgoingMode {
  if (value === undefined) return process.env.NODE_ENV === 'production' ? false : 'warn'
  if (value === true) return 'warn'
  if (value === false || value === 'warn' || value === 'throw') return value
  throw new ERR_OPTION_INVALID('validateOutgoing', `must be true, false, 'warn' or 'throw', got ${String(value)}`)
}

function positiveInteger (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new ERR_OPTION_INVALID(name, `must be a positive integer, got ${String(value)}`)
  return value
}

function nonEmptyString (name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) throw new ERR_OPTION_INVALID(name, 'must be a non-empty string')
  return value
}

function boolean (name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ERR_OPTION_INVALID(name, `must be true or false, got ${String(value)}`)
  return value
}

function oneOf<T extends string> (name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) throw new ERR_OPTION_INVALID(name, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`)
  return value as T
}
