/**
 * fastify-pachinko: a Fastify plugin for structured, typed WebSocket
 * applications: resource routes (`app.addWebSocketRoute`), typed and validated
 * handlers (`@handlesMessage`, TypeBox), rooms and broadcasts over a pluggable
 * backend (`app.ws`), hooks, workers and dependency injection.
 * @module fastify-pachinko
 */
import fp from 'fastify-plugin'
import './fastify-augment.js'
import * as errors from './errors.js'
import { pachinkoPlugin } from './plugin.js'
import { changeFeedPlugin } from './change-feed/plugin.js'

/**
 * fastify-pachinko: structured, typed WebSocket resources for Fastify.
 * @example await app.register(pachinko, { backend: 'memory' })
 */
const pachinko = fp(pachinkoPlugin, { fastify: '5.x', name: 'fastify-pachinko' })

export default pachinko
export { pachinko, errors }
export { WebSocketResource } from './resources/resource.js'
export { handlesMessage } from './messages/handles-message.js'
export { Container, inject, injectable } from './resources/container.js'
export { subroute } from './routing/subroutes.js'
export { worker } from './workers/worker-decorator.js'
export { HOOK_EVENTS } from './hooks/hook-chain.js'
export { message, messages } from './messages/schema.js'
export { MemoryBackend } from './backends/memory.js'
export { ClusterBackend } from './backends/cluster.js'
export { redisBackend } from './backends/redis.js'
export { ConnectionManager } from './manager/connection-manager.js'
export { Connection } from './connection/connection.js'
export { ClientError, WireErrorCode } from './messages/wire-errors.js'
export { CloseCode } from './connection/close-codes.js'
export type { PachinkoOptions } from './options.js'
export type { UnhandledFrame } from './resources/resource.js'
export type { HandlerOptions } from './messages/handles-message.js'
export type { HandlerConvention } from './messages/dispatch-table.js'
export type { TMessage, TEmptyMessage, MessageOptions, MessageFactory } from './messages/schema.js'
export type { TypedHandlerDecorator } from './messages/handles-message.js'
export type { WebSocketRouteOptions, WebSocketRouteBaseOptions, AddWebSocketRoute } from './routing/add-route.js'
export type { ResourceClass, ResourceFactory, FactoryContext, ResourceFactoryContext, ResourceFactoryOption } from './resources/resource-builder.js'
export type { HookContext, HookEvent, WebSocketHook, WebSocketHooks } from './hooks/hook-chain.js'
export type { Token, Scope, RegisterOptions, Resolver, ConnectionScope } from './resources/container.js'
export type { Subroute } from './routing/subroutes.js'
export type { WorkerContext, WorkerOptions, WorkerFunction, WorkerBackoff, AddWebSocketWorker, AddWebSocketWorkers } from './workers/worker.js'
export type { WorkerMethodDecorator } from './workers/worker-decorator.js'
export type { JoinAuthorizer } from './manager/connection-manager.js'
export type { ManagerSnapshot } from './manager/snapshot.js'
export type { SendOptions } from './manager/send-options.js'
export type { BackpressurePolicy, Metrics } from './connection/connection.js'
export type { Backend, BackendContext, ConnectionFilter, ConnectionRef, DeliveryOptions, Target } from './backends/backend.js'
export type { ClusterOptions } from './backends/cluster.js'
export type { ClusterTransport, ConnectionRecord, NodeState, NodeStateUpdate } from './backends/cluster-transport.js'
export type { RedisBackendOptions } from './backends/redis.js'
export type { ErrorBody, ValidationIssue } from './messages/wire-errors.js'
export type { WebSocketLike } from './connection/websocket-like.js'
export type { WebsocketOptions, WebSocketServerOptions } from './websocket-options.js'
export type { RedisClientLike } from './backends/redis.js'
export type { RateLimitOptions, BucketOptions } from './rate-limit/options.js'
export type { HistoryOptions } from './history/history-rooms.js'
export type { JoinOptions } from './manager/history-ops.js'
export type { StreamPosition, HistoryLimits, FrameHead, HistoryEntry, HistoryRead, HistoryStore, Relay } from './history/history-store.js'
export type { Recovery, BackendHistory, HistoryDelivery } from './history/room-history.js'
/**
 * The HTTP change feed, registered in a scope: its `config.model` routes publish
 * each successful write to WebSocket subscribers of `path`, on every node.
 * @example await api.register(changeFeed, { path: '/ws' })
 */
export const changeFeed = fp(changeFeedPlugin, { fastify: '5.x', name: 'fastify-pachinko-change-feed', dependencies: ['fastify-pachinko'] })
export type { ChangeEvent, ChangeInput } from './change-feed/event.js'
export type { ChangeFeedOptions, ChangeFilter, ChangeMethod, TopicAuthorizer } from './change-feed/options.js'
export type { ChangeIdOption, ChangeRouteConfig } from './change-feed/capture.js'
export type { AdmissionOptions, AdmissionRouteOptions, CredentialOptions, IdentifyUpgrade, UpgradeSubject } from './admission/admission-options.js'
export type { OriginsOption, OriginPredicate } from './admission/origins.js'
export type { RevocationSubject, RevokeOptions } from './credentials/revoke.js'
export type { RefreshHandler } from './credentials/refresh.js'
export type { Refresher } from './connection/connection.js'
export { Channel } from './hub/channel.js'
export { handlesEvent } from './hub/handles-event.js'
export { WebSocketHub } from './hub/hub.js'
export type { WebSocketHubOptions, HubConnect } from './hub/add-hub.js'
export type { ChannelClass, ChannelOptions, JoinContext, JoinHook } from './hub/channel-spec.js'
export type { LeaveReason, HubBroadcastOptions, HubBroadcaster } from './hub/channel-context.js'
export type { EventHandlerOptions, TypedEventDecorator } from './hub/handles-event.js'
export type { IncludeOptions } from './hub/hub.js'
export type { Presence, PresenceList, PresenceMeta, ChannelPresenceOptions } from './hub/presence/presence-types.js'
export type { PresenceStore, PresenceTransport, PresenceEntries } from './backends/presence-store.js'
