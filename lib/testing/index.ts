/**
 * fastify-pachinko/testing: drive WebSocket routes in tests without a port,
 * the way `fastify.inject` drives HTTP routes.
 * @module fastify-pachinko/testing
 */
export { connect, UpgradeRefusedError } from './connect.js'
export type { CloseInfo, ConnectOptions, ErrorFrame, Frame, TestConnection, TraceEntry } from './connect.js'
export { Bus, createBus } from '../backends/bus.js'
export { simulate, Simulation } from './simulate.js'
export type { ConnectResult } from './simulate.js'
export type { SimulateOptions } from './simulate-options.js'
export type { RecordedSend } from './recording-backend.js'
export type { LogEntry } from './recording-logger.js'
export { testApp } from './fixtures.js'
export type { TestAppOptions, TestAppSetup } from './fixtures.js'
export type { TeardownContext } from './teardown.js'
export type { ReplyFrame, ResourceTestConnection, TestConnectionOf } from './connect.js'
export { connectHub, HubReplyError } from './connect-hub.js'
export type { ConnectHubOptions, TestChannel, TestHubSocket } from './connect-hub.js'
