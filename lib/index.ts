import fp from 'fastify-plugin'
import './fastify-augment.js'
import './workers.js'
import * as errors from './errors.js'
import { pachinkoPlugin } from './plugin.js'

/**
 * fastify-pachinko: structured, typed WebSocket resources for Fastify.
 * @example await app.register(pachinko, { backend: 'memory' })
 */
const pachinko = fp(pachinkoPlugin, { fastify: '5.x', name: 'fastify-pachinko' })

export default pachinko
export { pachinko, errors }
export { WebSocketResource } from './resource.js'
export { handlesMessage } from './decorators.js'
export { Container, inject, injectable } from './di.js'
export { subroute } from './subroutes.js'
export { worker } from './worker-decorator.js'
export { HOOK_EVENTS } from './hooks.js'
export { message } from './schema.js'
export { MemoryBackend } from './backends/memory.js'
export { ClusterBackend } from './backends/cluster.js'
export { redisBackend } from './backends/redis.js'
export { Bus, createBus } from './backends/bus.js'
export { ConnectionManager } from './manager.js'
export { Connection } from './connection.js'
export { ClientError, CloseCode, WireErrorCode } from './wire-errors.js'
export type { PachinkoOptions } from './options.js'
export type { UnhandledFrame } from './resource.js'
export type { HandlerOptions } from './metadata.js'
export type { TMessage, TEmptyMessage } from './schema.js'
export type { TypedHandlerDecorator } from './decorators.js'
export type { WebSocketRouteOptions, WebSocketRouteBaseOptions, AddWebSocketRoute } from './route.js'
export type { ResourceClass, ResourceFactory, FactoryContext, ResourceFactoryContext, ResourceFactoryOption } from './resource-builder.js'
export type { HookContext, HookEvent, WebSocketHook, WebSocketHooks } from './hooks.js'
export type { Token, Scope, RegisterOptions, Resolver, ConnectionScope } from './di.js'
export type { Subroute } from './subroutes.js'
export type { WorkerContext, WorkerOptions, WorkerFunction, WorkerBackoff, AddWebSocketWorker, AddWebSocketWorkers } from './workers.js'
export type { WorkerMethodDecorator } from './worker-decorator.js'
export type { SendOptions, ManagerSnapshot, JoinAuthorizer } from './manager.js'
export type { BackpressurePolicy, Metrics } from './connection.js'
export type { Backend, BackendContext, ConnectionFilter, ConnectionRef, DeliveryOptions, Target } from './backends/backend.js'
export type { ClusterOptions } from './backends/cluster.js'
export type { ClusterTransport, ConnectionRecord, NodeState, NodeStateUpdate } from './backends/cluster-transport.js'
export type { RedisBackendOptions } from './backends/redis.js'
export type { ErrorBody, ValidationIssue } from './wire-errors.js'
