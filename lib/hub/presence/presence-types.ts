/*
 * Presence as the `phoenix` client's `Presence` sees it: a key (a user id)
 * with one meta per tracked device, each meta carrying its unique `phx_ref`.
 * Imports nothing, so the channel and the tracker can both name these.
 */

/** One tracked device of a key: the meta given to `track`, plus its `phx_ref` (and `phx_ref_prev` after an update). */
export interface PresenceMeta {
  readonly phx_ref: string
  readonly phx_ref_prev?: string
  readonly [field: string]: unknown
}

/** Presences by key, the shape of `presence_state` and of each half of a `presence_diff`. */
export type PresenceList = Record<string, { metas: PresenceMeta[] }>

/**
 * The presences of one topic. In a channel (`this.presence`) what it tracks
 * belongs to that channel and is untracked when the channel ends (leave,
 * kick, rejoin, disconnect); from `hub.presence(topic)` it belongs to this
 * node until untracked. Both are cluster-wide with a clustered backend.
 */
export interface Presence {
  /** Tracks `key` with `meta` (a JSON object); resolves with its `phx_ref`. Tracking a key already tracked here updates it. */
  track (key: string, meta?: object): string
  /** Replaces the meta of `key` tracked here: a leave of the old meta and a join of the new one, with `phx_ref_prev`. */
  update (key: string, meta: object): string | undefined
  /** Stops tracking `key` here (every meta of it tracked here); false when it was not tracked. */
  untrack (key: string): boolean
  /** Every presence of the topic on every node, as `presence_state` lists them. */
  list (): Promise<PresenceList>
}

/** The `presence` option of `hub.channel`, as an object. */
export interface ChannelPresenceOptions {
  /**
   * A topic's presence changes go out as one `presence_diff` per interval, in ms (0: on the next turn of the event loop).
   * @default 100
   */
  intervalMs?: number
}
