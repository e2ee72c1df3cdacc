import type { Backend } from '../backends/backend.js'
import { CloseCode, closeReason } from '../connection/close-codes.js'
import type { Connection, Metrics } from '../connection/connection.js'
import { ERR_CONNECTION_NOT_FOUND, ERR_OPTION_INVALID } from '../errors.js'
import { ClientError, errorFrame, WireErrorCode } from '../messages/wire-errors.js'
import { kWire } from '../symbols.js'
import { subjectKeys, type RevocationStore } from './revocations.js'

/** Whom `app.ws.revoke()` closes: every connection of a user, every connection with a label, or one connection. */
export type RevocationSubject = { user: string } | { label: string } | { connection: string }

/** Options of `app.ws.revoke()`. */
export interface RevokeOptions {
  /**
   * How long reconnects of the user or label are refused (HTTP 403 before the
   * upgrade when the route knows the subject then, close 4403 when it is
   * identified or labelled later). Not for `{ connection }`: an id is never reused.
   * @default 0: close the connections, refuse nothing afterwards
   */
  forMs?: number
  /**
   * The close reason.
   * @default 'revoked'
   */
  reason?: string
}

/** A revocation, checked. */
export interface Revocation {
  kind: 'user' | 'label' | 'connection'
  name: string
  forMs: number
  reason: string
}

/** Checks `app.ws.revoke()`'s arguments; throws ERR_OPTION_INVALID at the call site. */
export function checkRevocation (subject: unknown, options: RevokeOptions): Revocation {
  const { kind, name } = checkSubject(subject)
  const forMs = options.forMs ?? 0
  if (!Number.isInteger(forMs) || forMs < 0) throw new ERR_OPTION_INVALID('revoke forMs', `must be a non-negative integer of milliseconds, got ${String(forMs)}`)
  if (kind === 'connection' && forMs > 0) throw new ERR_OPTION_INVALID('revoke forMs', 'a connection id is never reused, so there is no reconnect to refuse: revoke its user or a label instead')
  return { kind, name, forMs, reason: closeReason(options.reason ?? 'revoked') }
}

/** Stores the revocation (so a reconnect racing the close is refused), then closes the subject's connections on every node; resolves with how many. */
export async function revoke (backend: Backend, store: RevocationStore, metrics: Metrics, { kind, name, forMs, reason }: Revocation): Promise<number> {
  if (forMs > 0) await store.revoke(kind === 'user' ? subjectKeys(name, [])[0] : subjectKeys(undefined, [name])[0], forMs)
  let closed = 0
  if (kind === 'user') {
    closed = await backend.disconnectUser(name, CloseCode.REVOKED, reason)
  } else if (kind === 'label') {
    for await (const ref of backend.connections({ label: name })) {
      await ref.close(CloseCode.REVOKED, reason).then(() => { closed++ }, ignoreGone)
    }
  } else {
    await backend.disconnect(name, CloseCode.REVOKED, reason).then(() => { closed++ }, ignoreGone)
  }
  metrics.connectionsRevoked += closed
  return closed
}

/**
 * A connection whose user or labels are revoked now gets a REVOKED error frame
 * and a 4403 close, and the caller a ClientError (in `onConnect`, the refusal).
 */
export async function closeIfRevoked (store: RevocationStore, metrics: Metrics, connection: Connection): Promise<void> {
  if (!await store.revoked(subjectKeys(connection.user, connection.labels))) return
  const error = new ClientError(WireErrorCode.REVOKED, 'this connection\'s user or label is revoked', { close: CloseCode.REVOKED })
  if (connection.isOpen) {
    metrics.connectionsRevoked++
    connection.send(errorFrame(connection[kWire]?.discriminator ?? 'type', { code: error.code, message: error.message }))
    connection.close(CloseCode.REVOKED, 'revoked')
  }
  throw error
}

function checkSubject (subject: unknown): { kind: 'user' | 'label' | 'connection', name: string } {
  const given = subject !== null && typeof subject === 'object' ? Object.keys(subject).filter((key) => ['user', 'label', 'connection'].includes(key)) : []
  if (given.length !== 1) throw new ERR_OPTION_INVALID('revoke subject', 'must be exactly one of { user }, { label } or { connection }')
  const kind = given[0] as 'user' | 'label' | 'connection'
  const name = (subject as Record<string, unknown>)[kind]
  if (typeof name !== 'string' || name.length === 0) throw new ERR_OPTION_INVALID(`revoke ${kind}`, 'must be a non-empty string')
  return { kind, name }
}

/** A connection that closed meanwhile is not an error of revoke's. */
function ignoreGone (err: unknown): void {
  if (!(err instanceof ERR_CONNECTION_NOT_FOUND)) throw err
}
