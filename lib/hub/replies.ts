import { ClientError } from '../messages/wire-errors.js'

/*
 * The `error` replies the hub itself sends: `{ reason }`, plus `code` (and
 * `issues` for validation) when there is one. Reasons are stable strings a
 * client can switch on (docs/hub.md lists them).
 */

export const REASON = {
  unmatched: 'unmatched topic',
  tooMany: 'too many channels joined',
  refused: 'join refused',
  internal: 'internal',
  validation: 'validation',
  unknownEvent: 'unknown event',
  topicTooLong: 'topic too long',
  rateLimited: 'rate limited',
  credentialExpired: 'credential expired'
} as const

/** The error response for what a join or an event handler threw: a ClientError as it is, anything else as `internal`. */
export function thrownResponse (error: unknown): Record<string, unknown> {
  if (error instanceof ClientError) {
    const response: Record<string, unknown> = { reason: error.message, code: error.code }
    if (error.issues !== undefined) response.issues = error.issues
    return response
  }
  return { reason: REASON.internal }
}
