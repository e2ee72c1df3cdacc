/*
 * What crosses between nodes: a one-line JSON header, a newline, then the
 * frame exactly as the publishing node serialised it. The receiving node
 * writes that slice to its sockets without parsing or copying it.
 */

/** The header of a cluster message. */
export interface EnvelopeHeader {
  /** The node that published it (a node ignores its own publications). */
  n: string
  /** Connection ids to leave out. */
  x?: string[]
  /** For node and user channels: what to do. */
  op?: 'send' | 'close' | 'request' | 'answer' | 'sync'
  /** The target connection of a node-channel op. */
  id?: string
  /** Close code and reason of a close op. */
  c?: number
  r?: string
  /** A request's id on the node that asked (request and answer ops); a recovery's marker id (sync). */
  q?: string
  /** A request's timeout, ms. */
  t?: number
  /** A failed answer: the error code it failed with. */
  e?: string
  /** A room broadcast with history: its offset (added by the history store as it publishes). */
  o?: number
}

const NEWLINE = 0x0a
const EMPTY = Buffer.alloc(0)

/** Joins a header and a frame into one payload. */
export function seal (header: EnvelopeHeader, frame: Buffer = EMPTY): Buffer {
  const head = Buffer.from(JSON.stringify(header) + '\n')
  return Buffer.concat([head, frame], head.length + frame.length)
}

/** Splits a payload; throws on one that is not an envelope. */
export function unseal (payload: Buffer): { header: EnvelopeHeader, frame: Buffer } {
  const end = payload.indexOf(NEWLINE)
  if (end === -1) throw new TypeError('cluster message without a header line')
  const header = JSON.parse(payload.toString('utf8', 0, end)) as EnvelopeHeader
  if (header === null || typeof header !== 'object' || typeof header.n !== 'string') throw new TypeError('cluster message with a malformed header')
  return { header, frame: payload.subarray(end + 1) }
}
