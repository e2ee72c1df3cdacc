/*
 * The correlation field of request/reply: which values count as a ref, and
 * the names a route's frames use. Imports nothing, so every layer can use it.
 */

/** The field that carries a request's correlation id unless the plugin or route says otherwise. */
export const DEFAULT_REPLY_FIELD = 'ref'

/** The tag of a reply frame, in either direction. */
export const REPLY_TAG = 'reply'

/** The tag of an error frame, in either direction. */
export const ERROR_TAG = 'error'

/** Longest string ref accepted; longer ones are refused rather than echoed back. */
export const MAX_REF_LENGTH = 128

/** The field names a route's frames use. */
export interface WireNames {
  readonly discriminator: string
  readonly replyField: string
}

/** A correlation id a client may send: a short string or a finite number. */
export type Ref = string | number

/** Whether `value` is a ref the server accepts and echoes. */
export function isRef (value: unknown): value is Ref {
  if (typeof value === 'string') return value.length > 0 && value.length <= MAX_REF_LENGTH
  return typeof value === 'number' && Number.isFinite(value)
}

/** The valid ref a message carries, or undefined (absent, null, or not a valid ref). */
export function refOf (message: Record<string, unknown> | undefined, replyField: string): Ref | undefined {
  if (message === undefined) return undefined
  const ref = message[replyField]
  return isRef(ref) ? ref : undefined
}
