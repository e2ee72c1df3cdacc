/*
 * Resuming after a reconnect: the client remembers the position (`offset`,
 * `epoch`) of the last broadcast it got from a room that keeps history, and
 * reconnects with it in the query string, where the route reads it and passes
 * it to `this.join(room, { since })`. One position per client: it suits a
 * connection that follows one room with history.
 */

/** The query parameters the position is sent in. */
export interface ResumeOptions {
  /** @default 'offset' */
  offset?: string
  /** @default 'epoch' */
  epoch?: string
}

/** The last position a client saw. */
export interface ClientPosition {
  readonly offset: number
  readonly epoch: string
}

/** Remembers the last position and puts it on the URL of the next attempt. */
export class Resume {
  position: ClientPosition | undefined
  private readonly offsetParam: string
  private readonly epochParam: string

  constructor (options: ResumeOptions | true) {
    const names = options === true ? {} : options
    this.offsetParam = names.offset ?? 'offset'
    this.epochParam = names.epoch ?? 'epoch'
  }

  /** Notes the position a received frame carries, if it carries one. */
  observe (frame: Record<string, unknown>): void {
    const { offset, epoch } = frame
    if (typeof offset === 'number' && typeof epoch === 'string') this.position = { offset, epoch }
  }

  /** The URL to connect to: `url` with the position in its query, once there is one (WebSocket URLs have no fragment). */
  url (url: string): string {
    const position = this.position
    if (position === undefined) return url
    const [path, query = ''] = url.split('?', 2)
    const params = new URLSearchParams(query)
    params.set(this.offsetParam, String(position.offset))
    params.set(this.epochParam, position.epoch)
    return `${path}?${params.toString()}`
  }
}
