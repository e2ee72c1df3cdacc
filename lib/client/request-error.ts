/* What a failed request rejects with, and the error frame it is read from. */

/** A request that failed: the server's error code (VALIDATION, INTERNAL, …) or TIMEOUT, CLOSED, QUEUE_FULL. */
export class ClientRequestError extends Error {
  constructor (readonly code: string, message: string, readonly issues?: Array<{ path: string, message: string }>) {
    super(message)
    this.name = 'ClientRequestError'
  }
}

/** The body of an error frame. */
export interface ErrorFrameBody {
  code: string
  message: string
  tag?: string
  issues?: Array<{ path: string, message: string }>
}
