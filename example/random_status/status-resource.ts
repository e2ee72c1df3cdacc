import { Type, type Static } from 'typebox'
import { WebSocketResource, injectable, message } from '../../lib/index.js'
import { StatusStore } from './status-store.js'

/** `{ type: 'status', payload: { text } }`: sets the status; 1–280 characters, nothing else. */
export const SetStatus = message('status', { text: Type.String({ minLength: 1, maxLength: 280 }) })

/**
 * One client of `/ws`: gets the current status on connect, may set it with a
 * `status` message (stored in SQLite, then broadcast to every client), and
 * receives the worker's `random` numbers.
 */
@injectable()
export class StatusSocket extends WebSocketResource {
  static schema = SetStatus

  constructor (private readonly store: StatusStore) { super() }

  override onConnect (): void {
    this.send({ type: 'status', payload: this.store.get() })
  }

  async onStatus (msg: Static<typeof SetStatus>): Promise<void> {
    const status = this.store.set(msg.payload.text)
    this.log.info({ text: status.text }, 'status changed')
    await this.ws.broadcastToAll({ type: 'status', payload: status })
  }
}
