import { Type } from 'typebox'
import { Channel, ClientError, handlesEvent } from '../../lib/index.js'

/** What `connect` keeps for every channel of a socket: who it is. */
export interface ChatAssigns { user: string }

/** Longest user and room names, in characters. */
export const MAX_NAME = 32
const NAME = /^[\p{L}\p{N}_.-]{1,32}$/u

/** A user or room name: letters, digits, `_`, `.`, `-`, at most 32 characters. */
export function isName (value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value)
}

const Text = Type.String({ minLength: 1, maxLength: 2000 })

/** `room:{name}`: a chat room. Messages go to everyone, typing to everyone else. */
export class RoomChannel extends Channel<{ name: string }, Record<string, unknown>, ChatAssigns> {
  override async onJoin () {
    if (!isName(this.params.name)) throw new ClientError('BAD_ROOM', 'room names are letters, digits, _ . - (at most 32)')
    await this.broadcastFrom('user_joined', { user: this.assigns.user })
    // who is online: one meta per open tab, untracked when it leaves
    this.presence.track(this.assigns.user, { online_at: Date.now() })
    return { room: this.params.name, user: this.assigns.user }
  }

  @handlesEvent('new_msg', Type.Object({ text: Text }))
  async newMessage (payload: { text: string }) {
    const line = { user: this.assigns.user, text: payload.text, at: new Date().toISOString() }
    await this.broadcast('new_msg', line)
    return line
  }

  @handlesEvent('typing', Type.Object({ typing: Type.Boolean() }))
  async typing (payload: { typing: boolean }) {
    await this.broadcastFrom('typing', { user: this.assigns.user, typing: payload.typing })
  }

  override async onLeave () {
    await this.broadcastFrom('user_left', { user: this.assigns.user })
  }
}

/** `user:{id}`: a user's private topic, for direct messages; only that user may join it. */
export class DirectChannel extends Channel<{ id: string }, Record<string, unknown>, ChatAssigns> {
  override onJoin () {
    if (this.params.id !== this.assigns.user) throw new ClientError('FORBIDDEN', 'this is someone else\'s inbox')
    return {}
  }

  @handlesEvent('dm', Type.Object({ to: Type.String({ minLength: 1, maxLength: MAX_NAME }), text: Text }))
  async direct (payload: { to: string, text: string }) {
    if (!isName(payload.to)) throw new ClientError('BAD_USER', 'no such user name')
    const dm = { from: this.assigns.user, to: payload.to, text: payload.text, at: new Date().toISOString() }
    // the hub's own topics are reachable from any channel: the recipient's inbox, on whatever node they are
    await this.hub.broadcast(`user:${payload.to}`, 'dm', dm)
    return dm
  }
}
