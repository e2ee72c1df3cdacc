import type { FastifyRequest } from 'fastify'
import { ERR_OPTION_INVALID } from '../errors.js'
import { MODEL_NAME, type ChangeEvent } from './event.js'

/** The HTTP methods a change feed can publish for: writes only (reads never publish). */
export type ChangeMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * Per subscriber and event: the event to send (the same object, or a redacted
 * copy), or `false`/`null`/`undefined` to drop it. Synchronous; the event is
 * frozen (it is shared by every subscriber of the node), so redact into a copy.
 */
export type ChangeFilter = (request: FastifyRequest, event: Readonly<ChangeEvent>) => ChangeEvent | false | null | undefined

/** Decides whether the upgrade request may subscribe to `topic` (a model name, or `topicAll`); only `true` admits. */
export type TopicAuthorizer = (request: FastifyRequest, topic: string) => boolean | Promise<boolean>

/** Options of `app.register(changeFeed, options)`. */
export interface ChangeFeedOptions {
  /**
   * The subscription endpoint, a WebSocket route of the scope the feed is registered in (its prefix applies).
   * @default '/ws'
   */
  path?: string
  /**
   * Which methods of the scope's `config.model` routes publish (after a 2xx).
   * @default ['POST', 'PUT', 'PATCH', 'DELETE']
   */
  methods?: ChangeMethod[]
  /**
   * The topic name meaning every model; it is also what no topic means.
   * @default 'all'
   */
  topicAll?: string
  /**
   * Decides each topic a subscriber asks for, before the upgrade: a refused
   * topic answers HTTP 403 and no socket is opened.
   */
  authorizeTopic?: TopicAuthorizer
  /** Drops or redacts an event per subscriber (e.g. only the events of the subscriber's tenant). */
  filter?: ChangeFilter
}

/** The options after defaults and validation. */
export interface FeedSettings {
  path: string
  methods: ReadonlySet<string>
  topicAll: string
  authorizeTopic: TopicAuthorizer | undefined
  filter: ChangeFilter | undefined
}

const WRITES: readonly ChangeMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE']

/** Applies defaults; throws `FST_PACHINKO_OPTION_INVALID` naming the first bad option. */
export function resolveFeedOptions (options: ChangeFeedOptions): FeedSettings {
  const { path = '/ws', methods = WRITES, topicAll = 'all', authorizeTopic, filter } = options
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ERR_OPTION_INVALID('changeFeed.path', `must be a path starting with "/", got ${String(path)}`)
  if (!Array.isArray(methods) || methods.length === 0) throw new ERR_OPTION_INVALID('changeFeed.methods', `must be a non-empty array of ${WRITES.join(', ')}`)
  for (const method of methods) {
    if (!WRITES.includes(method)) throw new ERR_OPTION_INVALID('changeFeed.methods', `must list only ${WRITES.join(', ')} (reads never publish), got ${String(method)}`)
  }
  if (typeof topicAll !== 'string' || !MODEL_NAME.test(topicAll)) {
    throw new ERR_OPTION_INVALID('changeFeed.topicAll', `must be a lower-case topic name (${String(MODEL_NAME)}), got ${String(topicAll)}`)
  }
  if (authorizeTopic !== undefined && typeof authorizeTopic !== 'function') throw new ERR_OPTION_INVALID('changeFeed.authorizeTopic', 'must be a function (request, topic) => boolean')
  if (filter !== undefined && typeof filter !== 'function') throw new ERR_OPTION_INVALID('changeFeed.filter', 'must be a function (request, event) => event | false')
  return { path, methods: new Set(methods), topicAll, authorizeTopic, filter }
}
