import type { WebSocket } from 'ws'
import { checkFrame, validationError, type ErrorBody } from './protocol.js'

/*
 * The receive loop a careful user writes over a raw `ws` socket: JSON.parse, a
 * `switch` on the tag, a compiled TypeBox validator per message, a Map of rooms.
 * Shared by contenders 1, 1b and 2; how replies and broadcasts are written is
 * the only difference between them (a Writer).
 */

/** How a contender writes frames. */
export interface Writer {
  reply (socket: WebSocket, message: object): void
  broadcast (members: Iterable<WebSocket>, message: object): void
}

/** What most code does: a string per send, ws encodes it for each recipient. */
export const plainWriter: Writer = {
  reply (socket, message) {
    socket.send(JSON.stringify(message))
  },
  broadcast (members, message) {
    const text = JSON.stringify(message)
    for (const member of members) member.send(text)
  }
}

const NONE: ReadonlySet<WebSocket> = new Set()

/** Rooms: name → members. */
export class Rooms {
  private readonly rooms = new Map<string, Set<WebSocket>>()

  join (room: string, socket: WebSocket): void {
    let members = this.rooms.get(room)
    if (members === undefined) this.rooms.set(room, members = new Set())
    members.add(socket)
  }

  leave (room: string, socket: WebSocket): void {
    const members = this.rooms.get(room) as Set<WebSocket>
    members.delete(socket)
    if (members.size === 0) this.rooms.delete(room)
  }

  members (room: string): ReadonlySet<WebSocket> {
    return this.rooms.get(room) ?? NONE
  }
}

/** Serves the bench protocol on one socket. */
export function serveConnection (socket: WebSocket, rooms: Rooms, writer: Writer): void {
  let joined: Set<string> | undefined
  const fail = (error: ErrorBody): void => writer.reply(socket, { type: 'error', error })

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return fail({ code: 'UNSUPPORTED_DATA', message: 'binary frames are not accepted' })
    let msg: { type?: unknown, payload?: any }
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return fail({ code: 'BAD_JSON', message: 'frame is not valid JSON' })
    }
    if (msg === null || typeof msg !== 'object') return fail({ code: 'BAD_MESSAGE', message: 'a message must be a JSON object' })
    switch (msg.type) {
      case 'join':
        if (!checkFrame.join.Check(msg)) return fail(validationError('join', checkFrame.join, msg))
        rooms.join(msg.payload.room, socket)
        joined ??= new Set()
        joined.add(msg.payload.room)
        return writer.reply(socket, { type: 'joined', payload: msg.payload })
      case 'echo':
        if (!checkFrame.echo.Check(msg)) return fail(validationError('echo', checkFrame.echo, msg))
        return writer.reply(socket, { type: 'echo', payload: msg.payload })
      case 'say':
        if (!checkFrame.say.Check(msg)) return fail(validationError('say', checkFrame.say, msg))
        return writer.broadcast(rooms.members(msg.payload.room), { type: 'said', payload: msg.payload })
      default:
        return fail({ code: 'UNKNOWN_TYPE', message: `no handler for ${JSON.stringify(msg.type)}` })
    }
  })
  socket.on('close', () => {
    if (joined !== undefined) for (const room of joined) rooms.leave(room, socket)
  })
}
