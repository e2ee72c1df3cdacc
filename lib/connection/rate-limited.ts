import type { FastifyBaseLogger } from 'fastify'
import type { Connection, Metrics } from './connection.js'
import type { FrameConfig } from '../messages/dispatch.js'
import { errorFrame, WireErrorCode } from '../messages/wire-errors.js'
import { isRef, type Ref } from '../contract/wire.js'
import { CloseCode } from './close-codes.js'

/*
 * What a connection over its rate limit gets: a RATE_LIMITED error frame for
 * each refused message (with the message's ref, so a pending request fails at
 * once), and on sustained abuse a 1008 close. The refused message is never
 * dispatched; it is parsed only to find its ref, and only when it has one.
 */

/** Answers a refused message; `abusive` closes the connection instead. */
export function refuseOverLimit (
  connection: Connection,
  frames: FrameConfig,
  data: Buffer,
  isBinary: boolean,
  retryAfterMs: number,
  abusive: boolean,
  metrics: Metrics,
  log: () => FastifyBaseLogger
): void {
  metrics.messagesLimited++
  if (!connection.isOpen) return
  if (abusive) {
    metrics.rateLimitCloses++
    log().info({ closeCode: CloseCode.POLICY_VIOLATION }, 'rate limit exceeded again and again; closing')
    connection.close(CloseCode.POLICY_VIOLATION, 'rate limit exceeded')
    return
  }
  const body = { code: WireErrorCode.RATE_LIMITED, message: `too many messages; retry in ${retryAfterMs} ms`, retryAfterMs }
  connection.send(errorFrame(frames.discriminator, body, frames.replyField, isBinary ? undefined : refIn(data, frames.replyField)))
}

/** The ref of a text frame, if it has a valid one; the frame is parsed only when the field's name occurs in it. */
function refIn (data: Buffer, replyField: string): Ref | undefined {
  if (data.indexOf(`"${replyField}"`) === -1) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(data.toString())
  } catch {
    return undefined
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const ref = (parsed as Record<string, unknown>)[replyField]
  return isRef(ref) ? ref : undefined
}
