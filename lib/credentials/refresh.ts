import type { FastifyBaseLogger } from 'fastify'
import { CloseCode } from '../connection/close-codes.js'
import type { Connection, Metrics, Refresher } from '../connection/connection.js'
import { ERR_REQUEST_CLOSED } from '../errors.js'
import { kExpiresAt, kRefresher, kWire } from '../symbols.js'

/** The tag of the request a connection gets when its credential expires. */
export const REFRESH_TAG = 'refresh'

/** Decides a refreshed credential for any connection whose resource has no `onRefresh`: a new expiry accepts it. */
export type RefreshHandler = (connection: Connection, credential: unknown) => unknown

/** What a refresh needs, shared by every connection of a node. */
export interface RefreshSettings {
  graceMs: number
  onRefresh: RefreshHandler | undefined
  metrics: Metrics
  log: FastifyBaseLogger
}

/**
 * A connection's credential expired: ask the client for a new one (a
 * `refresh` request, answered within the grace period), let the resource's
 * `onRefresh` (or the plugin's) decide it, and close with 4401 unless it
 * returns a new expiry in the future. Never rejects.
 */
export async function refreshCredential (connection: Connection, settings: RefreshSettings): Promise<void> {
  const expired = connection[kExpiresAt] as number
  const refresher = connection[kRefresher] ?? pluginRefresher(connection, settings.onRefresh)
  const log = settings.log
  let next: unknown
  if (refresher !== undefined) {
    const discriminator = connection[kWire]?.discriminator ?? 'type'
    try {
      const credential = await connection.request({ [discriminator]: REFRESH_TAG, payload: { expiresAt: new Date(expired).toISOString() } }, { timeoutMs: settings.graceMs })
      next = await refresher.onRefresh(credential)
    } catch (err) {
      if (err instanceof ERR_REQUEST_CLOSED) return
      // the client's answer (or its silence) decides: never an error line
      log.info({ connId: connection.id, err }, 'credential refresh failed')
    }
  }
  // the app set another expiry meanwhile: that one stands
  if (connection[kExpiresAt] !== expired || !connection.isOpen) return
  const at = next instanceof Date ? next.getTime() : typeof next === 'number' ? next : Number.NaN
  if (Number.isFinite(at) && at > Date.now()) {
    settings.metrics.credentialsRefreshed++
    connection.expiresAt = new Date(at)
    return
  }
  settings.metrics.credentialsExpired++
  log.info({ connId: connection.id, refreshed: refresher !== undefined }, 'credential expired; closing (4401)')
  connection.close(CloseCode.CREDENTIAL_EXPIRED, 'credential expired')
}

function pluginRefresher (connection: Connection, onRefresh: RefreshHandler | undefined): Refresher | undefined {
  return onRefresh === undefined ? undefined : { onRefresh: (credential) => onRefresh(connection, credential) }
}

/** Whether a connection's credential has expired, for a check at a point of entry (the hub re-checks it on every channel join). */
export function credentialExpired (connection: Pick<Connection, 'expiresAt'>, now = Date.now()): boolean {
  const at = connection.expiresAt
  return at !== undefined && at.getTime() <= now
}
