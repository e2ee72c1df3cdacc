/*
 * The history contract: a bounded, ordered log per stream (a room; a hub
 * topic later), with an offset per entry and an epoch that changes when the
 * log is lost. One store per backend: ring buffers in memory, Redis Streams
 * in Redis. Imports nothing, so backends and the manager can share it.
 */

/** Where a stream stands: the offset of its last entry, in the epoch the offsets count in. */
export interface StreamPosition {
  /** The last entry's offset: 1 for the first broadcast, +1 for each after it; 0 before any. */
  readonly offset: number
  /** Changes whenever the history is lost (a restart of an in-memory node, Redis flushed, the TTL passed): offsets of another epoch mean nothing. */
  readonly epoch: string
}

/** How much a room's history keeps. */
export interface HistoryLimits {
  /** The most recent broadcasts kept; a client that missed more gets `recovered: false`. */
  readonly size: number
  /** How long a broadcast stays recoverable, in ms. */
  readonly ttlMs: number
}

/** An encoded message before its position is stamped on: its JSON without the closing brace. */
export interface FrameHead {
  readonly head: string
  /** ',' when the object had fields, '' for `{}`. */
  readonly separator: string
}

/** One kept broadcast: its offset and the frame as every recipient got it. */
export interface HistoryEntry {
  readonly offset: number
  readonly frame: Buffer
}

/** What a stream holds since a position: every entry after it, in order, or `recovered: false` when some are gone. */
export type HistoryRead =
  | { readonly recovered: true, readonly position: StreamPosition, readonly entries: readonly HistoryEntry[] }
  | { readonly recovered: false, readonly position: StreamPosition }

/** How a clustered store publishes an appended entry (or a read's sync marker) to the other nodes in the same step. */
export interface Relay {
  /** The bus channel (unprefixed, as the transport's `publish` takes it). */
  readonly channel: string
  /** The envelope header's JSON without its closing brace: `append` adds `,"o":<offset>}`, `read` just `}`. */
  readonly header: string
}

/**
 * A history store. Obligations:
 * - `append` gives the stream's next offset (the last + 1, from 1) in the
 *   stream's epoch (a new one when the stream had none or was lost), stamps it
 *   on the frame (`…,"offset":n,"epoch":"e"}`), keeps the entry for `ttlMs`
 *   among the last `size`, and resolves with both. With a `relay`, the stamped
 *   frame is published on it atomically with the append.
 * - `read` with `since` null or of another epoch is `recovered: false`; else
 *   it gives every entry after `since.offset` in order, or `recovered: false`
 *   when one of them is gone (more than `size` behind, older than `ttlMs`).
 *   Either way with the current position (reading makes an epoch if none).
 *   With a `marker`, its header is published (with an empty frame) on its
 *   channel in the same step as the read.
 */
export interface HistoryStore {
  append (stream: string, frame: FrameHead, limits: HistoryLimits, relay?: Relay): Promise<{ position: StreamPosition, frame: Buffer }>
  read (stream: string, since: StreamPosition | null, limits: HistoryLimits, marker?: Relay): Promise<HistoryRead>
}
