import { checkCloseCode } from '../connection/close-codes.js'

/*
 * Errors sent to clients: a closed set of codes, one frame shape, built by one
 * function. A client frame never carries a stack or a server-side message.
 */

/** The error codes the library itself sends to clients. */
export const WireErrorCode = {
  /** A text frame that is not valid JSON, or JSON with `__proto__`/`constructor.prototype` keys. */
  BAD_JSON: 'BAD_JSON',
  /** Valid JSON that is not an object, or whose tag is missing or not a string. */
  BAD_MESSAGE: 'BAD_MESSAGE',
  /** A tag no handler is bound to. */
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  /** The message does not match its handler's schema. */
  VALIDATION: 'VALIDATION',
  /** A binary frame sent to a resource that only speaks JSON text. */
  UNSUPPORTED_DATA: 'UNSUPPORTED_DATA',
  /** The handler failed; details are in the server log, not in the frame. */
  INTERNAL: 'INTERNAL',
  /** The connection sent more than its rate limit allows; the frame says when to retry (`retryAfterMs`). */
  RATE_LIMITED: 'RATE_LIMITED'
} as const

/** One of the library's own client error codes. */
export type WireErrorCode = typeof WireErrorCode[keyof typeof WireErrorCode]

/** One problem found by validation: a JSON pointer into the message and what is wrong there. */
export interface ValidationIssue {
  path: string
  message: string
}

/** The body of an error frame: `{ [discriminator]: 'error', error: ErrorBody }`. */
export interface ErrorBody {
  code: string
  message: string
  tag?: string
  issues?: ValidationIssue[]
  /** For RATE_LIMITED: how long until the next message would be accepted. */
  retryAfterMs?: number
}

/** Options of `new ClientError(code, message, options)`. */
export interface ClientErrorOptions {
  /** Close the connection with this code after the error frame (1000–1003, 1007–1014, 3000–4999; checked here). */
  close?: number
  /** Validation-style issues to send with the frame. */
  issues?: ValidationIssue[]
}

/**
 * An error meant for the client: thrown from a handler or `onConnect`, its code
 * and message go into the error frame as they are (an ordinary error becomes
 * `INTERNAL`). With `close`, the connection is closed with that code after the
 * frame; an invalid close code throws `FST_PACHINKO_CLOSE_CODE_INVALID` here.
 * @example throw new ClientError('FORBIDDEN', 'you are not a member of this room', { close: 4003 })
 */
export class ClientError extends Error {
  readonly code: string
  readonly close: number | undefined
  readonly issues: ValidationIssue[] | undefined

  constructor (code: string, message: string, options: ClientErrorOptions = {}) {
    super(message)
    this.name = 'ClientError'
    this.code = code
    this.close = options.close === undefined ? undefined : checkCloseCode(options.close, 'ClientError')
    this.issues = options.issues
  }
}

/** Builds the one error frame shape every client error uses; for a request, the frame carries its ref. */
export function errorFrame (discriminator: string, body: ErrorBody, replyField?: string, ref?: string | number): Record<string, unknown> {
  const error: ErrorBody = { code: body.code, message: body.message }
  if (body.tag !== undefined) error.tag = body.tag
  if (body.issues !== undefined) error.issues = body.issues
  if (body.retryAfterMs !== undefined) error.retryAfterMs = body.retryAfterMs
  if (ref === undefined || replyField === undefined) return { [discriminator]: 'error', error }
  return { [discriminator]: 'error', [replyField]: ref, error }
}
