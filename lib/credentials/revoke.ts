import type { Backend } from '../backends/backend.js'
import { CloseCode, closeReason } from '../connection/close-codes.js'
import type { Connection, Metrics } from '../connection/connection.js'
import { ERR_CONNECTION_NOT_FOUND, ERR_OPTION_INVALID } from '../errors.js'
import type { RevocationStore } from './revocations.js'
import { subjectKeys } from './revocations.js'

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

/** Stores the revocation (so a reconnect racing the close is refused), then closes the subject's connections on every node; resolves with how many. */
export async function revoke (backend: Backend, store: RevocationStore, metrics: Metrics, subject: RevocationSubject, options: RevokeOptions = {}): Promise<number> {
  const { kind, name } = checkSubject(subject)
  const forMs = options.forMs ?? 0
  if (!Number.isInteger(forMs) || forMs < 0) throw new ERR_OPTION_INVALID('revoke forMs', `must be a non-negative integer of milliseconds, got ${String(forMs)}`)
  if (kind === 'connection' && forMs > 0) throw new ERR_OPTION_INVALID('revoke forMs', 'a connection id is never reused, so there is no reconnect to refuse: revoke its user or a label instead')
  const reason = closeReason(options.reason ?? 'revoked')
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

/** Closes a connection (4403) whose user or labels are revoked now; resolves true when it did. */
export async function closeIfRevoked (store: RevocationStore, metrics: Metrics, connection: Connection): Promise<boolean> {
  if (!await store.revoked(subjectKeys(connection.user, connection.labels)) || !connection.isOpen) return false
  metrics.connectionsRevoked++
  connection.close(CloseCode.REVOKED, 'revoked')
  return true
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
