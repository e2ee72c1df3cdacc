import { Type, type Static } from 'typebox'
import { ClientError, WebSocketResource, handlesMessage, message } from '../../lib/index.js'

const SendMessage = message('sendMessage', { text: Type.String({ minLength: 1, maxLength: 2000 }) })
const StartTyping = message('startTyping')
const StopTyping = message('stopTyping')

/** Longest user and room names, in characters. */
export const MAX_NAME = 32
/** Control characters have no place in a name shown to others. */
const CONTROL = /\p{Cc}/u

const User = Type.String({ minLength: 1, maxLength: MAX_NAME })
/** A chat line as everyone in the room sees it; also the reply to `sendMessage` when it carries a ref. */
const ChatLine = Type.Object({ user: User, text: Type.String({ minLength: 1, maxLength: 2000 }), at: Type.String({ format: 'date-time' }) })
/** What the room sends: declared, so `this.send`/`broadcast` are typed and checked, and the AsyncAPI document lists them. */
export const ChatEmits = Type.Union([
  message('systemMessage', { text: Type.String() }),
  message('presence', { room: Type.String(), user: User, users: Type.Array(User) }),
  message('newMessage', ChatLine),
  message('userJoined', { user: User }),
  message('userLeft', { user: User }),
  message('userTyping', { user: User, isTyping: Type.Boolean() })
])

/**
 * One chat member's connection to one room: `/ws/chat/:room?user=NAME`.
 *
 * A user may be in a room on several connections (tabs, a reconnect racing
 * the old socket's close): the room hears "joined" on the first and "left"
 * on the last, and nobody is told about themselves.
 */
export class ChatRoom extends WebSocketResource<{ room: string }, Record<string, unknown>, typeof ChatEmits> {
  static schema = Type.Union([SendMessage, StartTyping, StopTyping])
  static emits = ChatEmits
  private user = ''
  private room = ''

  override async onConnect (): Promise<void> {
    // a refusal says why: the page shows the error frame's message (and the close reason carries it too)
    this.room = checkName('room', this.params.room)
    this.user = checkName('user', (this.request.query as { user?: unknown }).user)
    const { room, user } = this
    await this.identify(user)
    const others = await this.membersOf(room)
    await this.join(room)
    // her own other tabs are not company
    const present = [...others].filter((name) => name !== user).sort()
    this.send({
      type: 'systemMessage',
      payload: { text: `Welcome to #${room}, ${user}! ${present.length === 0 ? 'You are the first one here.' : `Here: ${present.join(', ')}.`}` }
    })
    const users = [...new Set([...others, user])].sort()
    this.send({ type: 'presence', payload: { room, user, users } })
    if (!others.has(user)) await this.broadcast(room, { type: 'userJoined', payload: { user } }, { excludeSelf: true })
  }

  // TypeScript's __decorate helper has branches that map onto the decorated method's line
  /* c8 ignore start */
  @handlesMessage('sendMessage', SendMessage, { reply: ChatLine })
  async sendMessage (msg: Static<typeof SendMessage>): Promise<Static<typeof ChatLine>> {
    /* c8 ignore stop */
    const line = { user: this.user, text: msg.payload.text, at: new Date().toISOString() }
    await this.broadcast(this.room, { type: 'newMessage', payload: line })
    return line
  }

  async onStartTyping (): Promise<void> {
    await this.typing(true)
  }

  async onStopTyping (): Promise<void> {
    await this.typing(false)
  }

  override async onDisconnect (): Promise<void> {
    // still in the room here (rooms are left after onDisconnect): count the user's other connections
    const others = await this.membersOf(this.room)
    if (!others.has(this.user)) await this.broadcast(this.room, { type: 'userLeft', payload: { user: this.user } }, { excludeSelf: true })
  }

  private async typing (isTyping: boolean): Promise<void> {
    await this.broadcast(this.room, { type: 'userTyping', payload: { user: this.user, isTyping } }, { excludeSelf: true })
  }

  /** The users of the room's other connections, on every node (this connection left out). */
  private async membersOf (room: string): Promise<Set<string>> {
    const users = new Set<string>()
    for await (const member of this.ws.connectionsInRoom(room)) {
      if (member.id !== this.connection.id && member.user !== undefined) users.add(member.user)
    }
    return users
  }
}

/** A user or room name from the request: one string, 1–32 characters once trimmed, no control characters. */
function checkName (what: 'user' | 'room', value: unknown): string {
  if (Array.isArray(value)) throw refusal(`give one ${what} name, not ${value.length}`)
  const name = typeof value === 'string' ? value.trim() : ''
  if (name.length === 0) throw refusal(`a ${what} name is required`)
  if (name.length > MAX_NAME) throw refusal(`the ${what} name is longer than ${MAX_NAME} characters`)
  if (CONTROL.test(name)) throw refusal(`the ${what} name has control characters`)
  return name
}

function refusal (message: string): ClientError {
  return new ClientError('JOIN_REFUSED', message, { close: 1008 })
}
