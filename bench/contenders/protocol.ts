import { Type, type Static } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'

/*
 * The bench protocol, shared by the hand-written contenders and socket.io:
 *   join {room}                → joined {room}
 *   echo {seq, text ≤ 256}     → echo {seq, text}      (invalid → error frame)
 *   say  {room, text, sentAt}  → said {room, text, sentAt} to every member of the room
 * Frames are JSON `{ type, payload }`; errors are `{ type: 'error', error: ErrorBody }`.
 * Schemas are strict (no extra properties), like fastify-pachinko's default.
 */

/** Largest frame every contender accepts (fastify-pachinko's default). */
export const MAX_PAYLOAD = 1024 * 1024

export const RoomName = Type.String({ minLength: 1, maxLength: 64 })
export const EchoText = Type.String({ maxLength: 256 })
export const SayText = Type.String({ maxLength: 256 })

export const JoinPayload = Type.Object({ room: RoomName }, { additionalProperties: false })
export const EchoPayload = Type.Object({ seq: Type.Integer(), text: EchoText }, { additionalProperties: false })
export const SayPayload = Type.Object({ room: RoomName, text: SayText, sentAt: Type.Number() }, { additionalProperties: false })

export type Join = Static<typeof JoinPayload>
export type Echo = Static<typeof EchoPayload>
export type Say = Static<typeof SayPayload>

function frame<T extends string, P extends typeof JoinPayload | typeof EchoPayload | typeof SayPayload> (tag: T, payload: P) {
  return Type.Object({ type: Type.Literal(tag), payload }, { additionalProperties: false })
}

/** Compiled validators of whole frames, for the hand-written `ws` contenders. */
export const checkFrame = {
  join: Compile(frame('join', JoinPayload)),
  echo: Compile(frame('echo', EchoPayload)),
  say: Compile(frame('say', SayPayload))
}

/** Compiled validators of payloads, for socket.io (the event name is the tag). */
export const checkPayload = {
  join: Compile(JoinPayload),
  echo: Compile(EchoPayload),
  say: Compile(SayPayload)
}

/** The body of an error frame. */
export interface ErrorBody {
  code: string
  message: string
  tag?: string
  issues?: Array<{ path: string, message: string }>
}

/** The error body for a message its schema refuses, with at most 10 issues. */
export function validationError (tag: string, validator: Validator, value: unknown): ErrorBody {
  const issues = validator.Errors(value).slice(0, 10).map((e) => ({ path: e.instancePath, message: e.message }))
  return { code: 'VALIDATION', message: `message "${tag}" does not match its schema`, tag, issues }
}
