import { ERR_CLOSE_CODE_INVALID } from '../errors.js'

/** WebSocket close codes the library uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** The credential expired and no valid one came within the grace period (`expiresAt`, `refresh`). */
  CREDENTIAL_EXPIRED: 4401,
  /** The connection's user, label or the connection itself was revoked (`app.ws.revoke`). */
  REVOKED: 4403
} as const

/**
 * Whether a close frame may carry `code`: 1000–1003 and 1007–1014 (the
 * protocol's own), 3000–4999 (registered and private). 1004–1006 and 1015 are
 * reserved and never sent; anything else makes `ws` throw.
 */
export function isValidCloseCode (code: unknown): code is number {
  return typeof code === 'number' && Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
}

/** Throws `FST_PACHINKO_CLOSE_CODE_INVALID` at the call site for a code no close frame may carry. */
export function checkCloseCode (code: unknown, where: string): number {
  if (!isValidCloseCode(code)) throw new ERR_CLOSE_CODE_INVALID(describe(code), where)
  return code
}

/** Close reasons are capped at 123 bytes by the protocol; longer ones would make `close()` throw. */
export function closeReason (reason: unknown): string {
  const text = typeof reason === 'string' ? reason : reason === undefined || reason === null ? '' : String(reason)
  if (Buffer.byteLength(text) <= 123) return text
  let cut = text.slice(0, 120)
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1)
  return cut + '...'
}

function describe (value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)
  return value === null ? 'null' : typeof value
}
