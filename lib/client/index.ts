/**
 * fastify-pachinko/client: a typed WebSocket client for browsers and Node,
 * with nothing of Fastify or the server in its import graph.
 * @module fastify-pachinko/client
 */
import { PachinkoClient, type ClientOptions } from './client.js'

/**
 * Connects to a route and returns the client at once (status `connecting`);
 * typed from the resource class when you give it: `send`/`request` from
 * `static schema`, `on`/`onRequest` from `static emits`, replies from the
 * handlers' return types.
 * @example
 * const chat = connectClient<typeof ChatRoom>('ws://localhost:3000/ws/chat/general?user=ann')
 * chat.on('newMessage', ({ user, text }) => show(user, text))
 * const line = await chat.request('sendMessage', { text: 'hi' }, { timeoutMs: 5000 })
 */
export function connectClient<R = unknown, D extends string = 'type'> (url: string, options?: ClientOptions): PachinkoClient<R, D> {
  return new PachinkoClient<R, D>(url, options)
}

export { PachinkoClient } from './client.js'
export { ClientRequestError } from './request-error.js'
export { backoffDelay, isFinalClose } from './backoff.js'
export type { ClientOptions, ClientStatus, StatusEvent, WebSocketLike, WebSocketConstructor, RequestOptions, RequestArgs } from './client.js'
export type { ReconnectOptions } from './backoff.js'
export type { ErrorFrameBody } from './request-error.js'
export type { ResumeOptions, ClientPosition } from './resume.js'
export type {
  ResourceContract, ClientMessage, ServerMessage, ClientTag, ServerTag, ClientPayload, ServerPayload, PayloadArgs, ReplyPayload
} from './contract-types.js'
