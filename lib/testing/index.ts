/*
 * fastify-pachinko/testing: drive WebSocket routes in tests without a port,
 * the way `fastify.inject` drives HTTP routes.
 */
export { connect, UpgradeRefusedError } from './connect.js'
export type { CloseInfo, ConnectOptions, ErrorFrame, Frame, TestConnection, TraceEntry } from './connect.js'
export type { ReplyFrame, ResourceTestConnection, TestConnectionOf } from './connect.js'
