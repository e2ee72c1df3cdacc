import type { FastifySchema } from 'fastify'
import type { TSchema } from 'typebox'
import type { DispatchTable } from '../messages/dispatch-table.js'
import { emitsOf } from './outgoing.js'

/*
 * Every declared route, as the contract sees it: collected by
 * addWebSocketRoute, read by the AsyncAPI generator. Other fronts (the
 * channels hub) add their channels through `addChannels`.
 */

/** One declared WebSocket route. */
export interface RouteContract {
  /** The full path in Fastify syntax, prefix included (`/ws/chat/:room`). */
  readonly path: string
  readonly name: string | undefined
  /** The class (or factory) connections of this route get. */
  readonly resource: object
  readonly isClass: boolean
  readonly discriminator: string
  readonly replyField: string
  readonly strict: boolean
  readonly subprotocols: readonly string[] | undefined
  /** The route's Fastify schema (querystring, headers, params), validated before the upgrade. */
  readonly schema: FastifySchema | undefined
  /** The handlers of the class (undefined for a factory, whose class is known only at run time). */
  readonly table: DispatchTable | undefined
}

/** One message of a channel, in one direction, as the generator renders it. */
export interface ChannelMessage {
  /** The tag (the discriminator's value). */
  readonly tag: string
  /** `receive`: client → server; `send`: server → client (the server's point of view, as AsyncAPI operations are). */
  readonly action: 'receive' | 'send'
  /** The whole frame's JSON Schema. */
  readonly payload: TSchema | Record<string, unknown>
  readonly description?: string
  /** For a message the server answers: the schema of the reply frame. */
  readonly reply?: { readonly tag: string, readonly payload: TSchema | Record<string, unknown> }
}

/** A channel to document: what a route, or another front such as the hub, contributes. */
export interface ChannelSpec {
  /** Preferred channel id; made unique by the generator. */
  readonly id: string
  /** The address in AsyncAPI form (`/ws/chat/{room}`). */
  readonly address: string
  readonly description?: string
  readonly parameters?: Readonly<Record<string, { description?: string, enum?: string[] }>>
  /** The `ws` binding: the upgrade's query and headers as JSON Schema objects. */
  readonly bindings?: { readonly ws: Readonly<Record<string, unknown>> }
  readonly messages: readonly ChannelMessage[]
  /** Specification extensions of the channel (`x-…` keys). */
  readonly extensions?: Readonly<Record<`x-${string}`, unknown>>
}

/** What the AsyncAPI generator reads. */
export class ContractRegistry {
  private readonly declared: RouteContract[] = []
  private readonly sources: Array<() => readonly ChannelSpec[]> = []

  /** Records a route; reads its class's `static emits` now, so a bad declaration fails at `addWebSocketRoute`. */
  addRoute (route: RouteContract): void {
    if (route.isClass) emitsOf(route.resource, route.discriminator)
    this.declared.push(route)
  }

  /**
   * Adds channels that are not routes, computed when a document is generated:
   * the extension point for other fronts (the channels hub).
   */
  addChannels (source: () => readonly ChannelSpec[]): void {
    this.sources.push(source)
  }

  /** Every declared route, in declaration order. */
  get routes (): readonly RouteContract[] {
    return this.declared
  }

  /** The channels every source contributes. */
  extraChannels (): ChannelSpec[] {
    return this.sources.flatMap((source) => [...source()])
  }
}
