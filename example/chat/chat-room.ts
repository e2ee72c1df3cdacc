import { Type, type Static } from 'typebox'
import { WebSocketResource, handlesMessage, message } from '../../lib/index.js'

const SendMessage = message('sendMessage', { text: Type.String({ minLength: 1, maxLength: 2000 }) })
const StartTyping = message('startTyping')
const StopTyping = message('stopTyping')

const User = Type.String({ minLength: 1, maxLength: 32 })
/** A chat line as everyone in the room sees it; also the reply to `sendMessage` when it carries a ref. */
const ChatLine = Type.Object({ user: User, text: Type.String({ minLength: 1, maxLength: 2000 }) })
/** What the room sends: declared, so `this.send`/`broadcast` are typed and checked, and the AsyncAPI document lists them. */
export const ChatEmits = Type.Union([
  message('systemMessage', { text: Type.String() }),
  message('newMessage', ChatLine),
  message('userJoined', { user: User }),
  message('userLeft', { user: User }),
  message('userTyping', { user: User, isTyping: Type.Boolean() })
])

const MAX_NAME = 32

/** One chat member's connection to one room: `/ws/chat/:room?user=NAME`. */
export class ChatRoom extends WebSocketResource<{ room: string }, Record<string, unknown>, typeof ChatEmits> {
  static schema = Type.Union([SendMessage, StartTyping, StopTyping])
  static emits = ChatEmits
  private user = ''

  override async onConnect (): Promise<boolean> {
    const user = String((this.request.query as { user?: unknown }).user ?? '').trim()
    if (user.length === 0 || user.length > MAX_NAME) return false
    this.user = user
    const { room } = this.params
    await this.identify(user)
    const present = await this.whoIsIn(room)
    await this.join(room)
    this.send({
      type: 'systemMessage',
      payload: { text: `Welcome to #${room}, ${user}! ${present.length === 0 ? 'You are the first one here.' : `Here: ${present.join(', ')}.`}` }
    })
    await this.broadcast(room, { type: 'userJoined', payload: { user } }, { excludeSelf: true })
    return true
  }

  // TypeScript's __decorate helper has branches that map onto the decorated method's line
  /* c8 ignore start */
  @handlesMessage('sendMessage', SendMessage, { reply: ChatLine })
  async sendMessage (msg: Static<typeof SendMessage>): Promise<Static<typeof ChatLine>> {
    /* c8 ignore stop */
    const line = { user: this.user, text: msg.payload.text }
    await this.broadcast(this.params.room, { type: 'newMessage', payload: line })
    return line
  }

  async onStartTyping (): Promise<void> {
    await this.typing(true)
  }

  async onStopTyping (): Promise<void> {
    await this.typing(false)
  }

  override async onDisconnect (): Promise<void> {
    await this.broadcast(this.params.room, { type: 'userLeft', payload: { user: this.user } }, { excludeSelf: true })
  }

  private async typing (isTyping: boolean): Promise<void> {
    await this.broadcast(this.params.room, { type: 'userTyping', payload: { user: this.user, isTyping } }, { excludeSelf: true })
  }

  private async whoIsIn (room: string): Promise<string[]> {
    const users = new Set<string>()
    for await (const member of this.ws.connectionsInRoom(room)) if (member.user !== undefined) users.add(member.user)
    return [...users].sort()
  }
}
