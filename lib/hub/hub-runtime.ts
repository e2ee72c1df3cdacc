import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createConnectionId } from '../connection/ids.js'
import type { WebSocketLike } from '../connection/websocket-like.js'
import { ERR_OPTION_INVALID } from '../errors.js'
import { contextHooks } from '../hooks/context-hooks.js'
import { HookChain, normalizeHooks, type HookEvent, type WebSocketHook } from '../hooks/hook-chain.js'
import type { ConnectionManager } from '../manager/connection-manager.js'
import { delivery } from '../manager/send-options.js'
import type { ProtoAction } from '../messages/json-frame.js'
import { Connection } from '../connection/connection.js'
import { parameterTokens } from '../resources/container.js'
import { kAdd, kBackend, kChannel, kHubAssigns, kRemove, kSettings, kSubscribe } from '../symbols.js'
import { Channel } from './channel.js'
import type { HubBroadcastOptions } from './channel-context.js'
import type { ChannelSpec, JoinHook, JoinStep, SocketHost } from './channel-spec.js'
import { encodeFrame, payloadJson, type HubVersion } from './codec.js'
import { eventTableOf } from './event-table.js'
import { HubConnection } from './hub-connection.js'
import { HubSocket } from './hub-socket.js'
import { findChannel, type ChannelDeclaration, type HubServer, type WebSocketHub } from './hub.js'
import { IdleSweep } from './idle-sweep.js'
import type { ChannelContext } from './channel-context.js'
import { HubPresence } from './presence/hub-presence.js'
import { HubHistory } from './history/hub-history.js'
import type { RateLimits } from '../rate-limit/options.js'
import type { Presence } from './presence/presence-types.js'

type HookTier = Partial<Record<HookEvent, WebSocketHook[]>>

/** What the upgrade's admission left on the raw request for the socket handler. */
export interface HubAdmission {
  version: HubVersion
  assigns: Record<string, unknown>
}

/** A served hub's settings, resolved at declaration. */
export interface HubSettings {
  readonly path: string
  readonly maxChannels: number
  readonly maxTopicLength: number
  readonly idleTimeoutMs: number
  readonly protoAction: ProtoAction
  readonly hooks: HookTier
  readonly beforeJoin: readonly JoinHook[]
  readonly rateLimit: RateLimits | undefined
}

/** Extensions add join steps here (presence, history): they run for every channel of every hub of the app. */
export const joinStepsOf = new WeakMap<ConnectionManager, JoinStep[]>()
const BUILT_INS = new Set([Connection])
const classHooks = new WeakMap<object, HookTier>()

/** A hub served on a path: turns upgraded sockets into hub sockets, and broadcasts. */
export class HubRuntime implements SocketHost, HubServer {
  readonly sockets = new Set<HubSocket>()
  readonly path: string
  readonly maxChannels: number
  readonly maxTopicLength: number
  readonly protoAction: ProtoAction
  readonly beforeJoin: readonly JoinHook[]
  readonly rateLimit: RateLimits | undefined
  private readonly specs = new Map<ChannelDeclaration, ChannelSpec>()
  private readonly chains = new Map<ChannelSpec, HookChain | undefined>()
  private readonly sweep: IdleSweep
  private readonly roomPrefix: string
  private readonly presenceSteps: readonly JoinStep[]
  readonly presences: HubPresence
  private readonly history: HubHistory

  constructor (
    readonly hub: WebSocketHub,
    readonly manager: ConnectionManager,
    private readonly instance: FastifyInstance,
    private readonly settings: HubSettings
  ) {
    this.path = settings.path
    this.maxChannels = settings.maxChannels
    this.maxTopicLength = settings.maxTopicLength
    this.protoAction = settings.protoAction
    this.beforeJoin = settings.beforeJoin
    this.rateLimit = settings.rateLimit
    // a NUL can start no room name a route would use by accident: hub topics never meet resource rooms
    this.roomPrefix = `\u0000hub\u0000${settings.path}\u0000`
    this.sweep = new IdleSweep(this.sockets, settings.idleTimeoutMs)
    this.presences = new HubPresence({
      log: instance.log,
      find: (topic) => this.find(topic),
      roomOf: (topic) => this.roomOf(topic),
      store: () => manager[kBackend].hubPresence,
      broadcast: async (topic, event, payload) => await this.publish(topic, event, payloadJson(payload))
    })
    this.history = new HubHistory({
      find: (topic) => this.find(topic),
      roomOf: (topic) => this.roomOf(topic),
      backendHistory: () => manager[kBackend].history,
      subscribe: async (connection, room) => await manager[kSubscribe](connection, room)
    })
    this.presenceSteps = [({ channel, spec }) => this.presences.joined(channel[kChannel], spec)]
  }

  get joinSteps (): readonly JoinStep[] {
    const extensions = joinStepsOf.get(this.manager)
    return extensions === undefined ? this.presenceSteps : [...extensions, ...this.presenceSteps]
  }

  async subscribe (connection: Connection, topic: string, spec: ChannelSpec, payload: Record<string, unknown>, response: Record<string, unknown>): Promise<void> {
    await this.history.subscribe(connection, topic, spec, payload, response)
  }

  channelEnded (context: ChannelContext): void {
    this.presences.ended(context)
  }

  presenceFor (context: ChannelContext): Presence {
    return this.presences.forChannel(context)
  }

  presence (topic: string): Presence {
    return this.presences.forTopic(topic)
  }

  declare (declaration: ChannelDeclaration): void {
    const { cls, options } = declaration
    const args = options.args ?? []
    const injected = parameterTokens(cls, args.length)
    if (injected.length > 0) this.manager.container.check(cls, args.length, BUILT_INS)
    classHooksOf(cls)
    const spec: ChannelSpec = { pattern: declaration.pattern, cls, args, injected, options, table: eventTableOf(cls, Channel.prototype) }
    this.history.declared(spec, this.manager[kBackend].name)
    this.specs.set(declaration, spec)
  }

  find (topic: string): { spec: ChannelSpec, params: Record<string, string> } | undefined {
    const found = findChannel(this.hub, topic)
    if (found === undefined) return undefined
    return { spec: this.specs.get(found.value) as ChannelSpec, params: found.params }
  }

  hooksFor (spec: ChannelSpec): HookChain | undefined {
    if (this.chains.has(spec)) return this.chains.get(spec)
    const chain = HookChain.of([...contextHooks(this.instance), this.settings.hooks, classHooksOf(spec.cls)])
    this.chains.set(spec, chain)
    return chain
  }

  roomOf (topic: string): string {
    return this.roomPrefix + topic
  }

  async broadcast (topic: string, event: string, payload: object, options: HubBroadcastOptions = {}): Promise<void> {
    if (typeof topic !== 'string' || topic.length === 0) throw new ERR_OPTION_INVALID('topic', 'must be a non-empty string')
    if (typeof event !== 'string' || event.length === 0) throw new ERR_OPTION_INVALID('event', 'must be a non-empty string')
    const json = payloadJson(payload)
    const limits = this.history.limitsOf(topic)
    if (limits === undefined) await this.publish(topic, event, json, options)
    else await this.history.publish(topic, event, json, limits, delivery(options))
  }

  /** A broadcast that never enters a topic's history (presence diffs: a replayed one would undo a later state). */
  async publish (topic: string, event: string, json: string, options: HubBroadcastOptions = {}): Promise<void> {
    const frame = Buffer.from(encodeFrame(2, null, null, topic, event, json))
    await this.manager[kBackend].publish({ kind: 'room', room: this.roomOf(topic) }, frame, delivery(options))
  }

  /** The Fastify websocket handler. */
  readonly accept = (socket: WebSocketLike, request: FastifyRequest): void => {
    const manager = this.manager
    const admission = (request.raw as { [kHubAssigns]?: HubAdmission })[kHubAssigns] as HubAdmission
    const connection = new HubConnection(createConnectionId(manager.nodeId), socket, manager[kSettings], admission.version)
    manager[kAdd](connection)
    manager.metrics.connectionsOpened++
    this.sockets.add(new HubSocket(this, connection, request, admission.assigns, socket, manager.container))
    this.sweep.start()
  }

  released (socket: object): void {
    const hubSocket = socket as HubSocket
    this.sockets.delete(hubSocket)
    this.manager.metrics.connectionsClosed++
    this.manager[kRemove](hubSocket.connection).catch((err: unknown) => {
      hubSocket.log.error({ err }, 'backend failed to unregister the connection')
    })
  }

  stop (): void {
    this.sweep.stop()
    this.presences.stop()
  }
}

/** A channel class's `static hooks`, checked and cached. */
function classHooksOf (cls: object): HookTier {
  let tier = classHooks.get(cls)
  if (tier === undefined) {
    tier = normalizeHooks((cls as { hooks?: unknown }).hooks, `${(cls as { name: string }).name}.hooks`)
    classHooks.set(cls, tier)
  }
  return tier
}
