import { ERR_HUB_NOT_CHANNEL, ERR_HUB_NOT_SERVED, ERR_OPTION_INVALID } from '../errors.js'
import { isClass } from '../resources/container.js'
import { kHubRuntime } from '../symbols.js'
import { Channel } from './channel.js'
import type { HubBroadcastOptions } from './channel-context.js'
import type { ChannelClass, ChannelOptions } from './channel-spec.js'
import { TopicRouter } from './topic-pattern.js'
import { checkPresenceOption } from './presence/hub-presence.js'
import { historyLimits } from './history/hub-history.js'
import type { Presence } from './presence/presence-types.js'

const kServe = Symbol('pachinko.hubServe')
const kFind = Symbol('pachinko.hubFind')

/** One `hub.channel` declaration, as a hub keeps it (and hands to the hubs that include it). */
export interface ChannelDeclaration {
  readonly pattern: string
  readonly cls: ChannelClass<unknown[]>
  readonly options: ChannelOptions
}

/** What a served hub's run-time half does with declarations and broadcasts. */
export interface HubServer {
  declare (declaration: ChannelDeclaration): void
  broadcast (topic: string, event: string, payload: object, options?: HubBroadcastOptions): Promise<void>
  presence (topic: string): Presence
}

/** Options of `hub.include(other, options)`. */
export interface IncludeOptions {
  /** Prepended to every pattern of the included hub (and to the topics of its broadcasts). */
  prefix?: string
}

/**
 * A set of channels on topic patterns. `app.addWebSocketHub(path)` serves one;
 * `new WebSocketHub()` makes one to `include` into others.
 * @example
 * const hub = app.addWebSocketHub('/socket')
 * hub.channel('room:{id}', RoomChannel)
 * await hub.broadcast('room:42', 'announce', { text: 'hi' })
 */
export class WebSocketHub {
  private readonly router = new TopicRouter<ChannelDeclaration>()
  private readonly declarations: ChannelDeclaration[] = []
  private readonly mounts: Array<{ parent: WebSocketHub, prefix: string }> = [];
  [kHubRuntime]: HubServer | undefined

  /**
   * Binds a topic pattern to a channel class: `{name}` segments, a trailing `*`;
   * the most specific pattern wins. The same pattern twice, or the reserved
   * topic `phoenix`, throws here.
   */
  channel<C extends ChannelClass<any[]>> (pattern: string, cls: C, options: ChannelOptions<ConstructorParameters<C>> = {}): this {
    if (typeof cls !== 'function' || !(cls.prototype instanceof Channel)) {
      throw new ERR_HUB_NOT_CHANNEL(String(pattern), typeof cls === 'function' && isClass(cls) ? `class ${cls.name}` : typeof cls)
    }
    if (options === null || typeof options !== 'object') throw new ERR_OPTION_INVALID('hub.channel options', 'must be an object')
    if (options.args !== undefined && !Array.isArray(options.args)) throw new ERR_OPTION_INVALID('hub.channel options.args', 'must be an array of constructor arguments')
    checkPresenceOption(options.presence)
    historyLimits(options.history)
    this.add({ pattern, cls: cls as unknown as ChannelClass<unknown[]>, options: options as ChannelOptions })
    return this
  }

  /** Serves every channel of `hub` (now and later) under `prefix`. */
  include (hub: WebSocketHub, options: IncludeOptions = {}): this {
    if (!(hub instanceof WebSocketHub)) throw new ERR_OPTION_INVALID('hub.include', 'takes a WebSocketHub (new WebSocketHub() or one from addWebSocketHub)')
    const prefix = options.prefix ?? ''
    if (typeof prefix !== 'string') throw new ERR_OPTION_INVALID('hub.include options.prefix', 'must be a string')
    if (hub === this || this.reaches(hub)) throw new ERR_OPTION_INVALID('hub.include', 'a hub cannot include itself, directly or through another hub')
    for (const declaration of hub.declarations) this.add({ ...declaration, pattern: prefix + declaration.pattern })
    hub.mounts.push({ parent: this, prefix })
    return this
  }

  /**
   * Sends `event` to every subscriber of `topic` on every node: one publish,
   * encoded once per protocol version per node. From workers, HTTP routes, anywhere.
   */
  async broadcast (topic: string, event: string, payload: object = {}, options?: HubBroadcastOptions): Promise<void> {
    const server = this[kHubRuntime]
    if (server === undefined && this.mounts.length === 0) throw new ERR_HUB_NOT_SERVED()
    const work: Array<Promise<void>> = []
    if (server !== undefined) work.push(server.broadcast(topic, event, payload, options))
    for (const { parent, prefix } of this.mounts) work.push(parent.broadcast(prefix + topic, event, payload, options))
    await Promise.all(work)
  }

  /**
   * The presence of a topic whose channel is declared with `{ presence: true }`,
   * from the server side: what it tracks belongs to this node until untracked.
   * @example hub.presence('room:42').track('bot', { name: 'Announcer' })
   */
  presence (topic: string): Presence {
    const server = this[kHubRuntime]
    if (server !== undefined) return server.presence(topic)
    const mount = this.mounts[0]
    if (mount === undefined) throw new ERR_HUB_NOT_SERVED()
    return mount.parent.presence(mount.prefix + topic)
  }

  /** The patterns this hub answers, included ones too, most specific first. */
  get patterns (): string[] {
    return this.router.sources
  }

  /** The declaration whose pattern matches `topic` best, with the pattern's params. */
  [kFind] (topic: string): { value: ChannelDeclaration, params: Record<string, string> } | undefined {
    return this.router.find(topic)
  }

  /** Binds this (new) hub to the server that serves it. */
  [kServe] (server: HubServer): void {
    this[kHubRuntime] = server
  }

  private add (declaration: ChannelDeclaration): void {
    this.router.add(declaration.pattern, declaration)
    this.declarations.push(declaration)
    this[kHubRuntime]?.declare(declaration)
    for (const { parent, prefix } of this.mounts) parent.add({ ...declaration, pattern: prefix + declaration.pattern })
  }

  private reaches (hub: WebSocketHub): boolean {
    return this.mounts.some((mount) => mount.parent === hub || mount.parent.reaches(hub))
  }
}

/** The best declaration for a topic of a served hub. */
export function findChannel (hub: WebSocketHub, topic: string): { value: ChannelDeclaration, params: Record<string, string> } | undefined {
  return hub[kFind](topic)
}

/** Serves `hub` with `server` (the one place outside this module that binds a hub). */
export function serveHub (hub: WebSocketHub, server: HubServer): void {
  hub[kServe](server)
}
