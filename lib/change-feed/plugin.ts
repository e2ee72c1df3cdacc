import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ERR_CHANGE_FEED_DUPLICATE } from '../errors.js'
import { kChangeBody } from '../symbols.js'
import { ALL_TOPIC } from './event.js'
import { instrumentRoute } from './capture.js'
import { resolveFeedOptions, type ChangeFeedOptions, type FeedSettings } from './options.js'
import { ChangeFeedSubscriber, subscriptions } from './subscriber.js'
import { queryOf, topicsOf } from './topics.js'

/** Marks the scope a feed is registered in, so a nested one is refused (a route would publish twice). */
const kChangeFeed = Symbol('pachinko.changeFeed')
const BAD_REQUEST = 400
const FORBIDDEN = 403

/**
 * The plugin body; `index.ts` exports it wrapped in fastify-plugin, so the
 * subscription route and the hooks belong to the scope it is registered in.
 */
export const changeFeedPlugin: FastifyPluginAsync<ChangeFeedOptions> = async function changeFeed (scope, options) {
  const feed = resolveFeedOptions(options)
  const existing = (scope as unknown as { [kChangeFeed]?: string })[kChangeFeed]
  if (existing !== undefined) throw new ERR_CHANGE_FEED_DUPLICATE(existing)
  const endpoint = joinPrefix(scope.prefix, feed.path)
  scope.decorate(kChangeFeed, endpoint)
  scope.decorateRequest(kChangeBody, null)
  const manager = scope.ws
  scope.addHook('onRoute', (route) => instrumentRoute(route, feed, manager))
  scope.addWebSocketRoute(feed.path, ChangeFeedSubscriber, { args: [feed], preValidation: admit(feed) })
  scope.log.debug({ endpoint, methods: [...feed.methods] }, 'change feed declared')
}

/** Reads the topics and asks authorizeTopic for each, before the upgrade: 400 for a bad topic, 403 for a refused one. */
function admit (feed: FeedSettings) {
  return async function admitSubscriber (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = queryOf(request.url)
    const parsed = topicsOf(query, feed.topicAll)
    if (parsed.error !== undefined) {
      request.log.info({ reason: parsed.error }, 'change feed: subscription refused (400)')
      return await reply.code(BAD_REQUEST).send({ statusCode: BAD_REQUEST, error: 'Bad Request', message: parsed.error })
    }
    const authorize = feed.authorizeTopic
    if (authorize !== undefined) {
      for (const topic of parsed.topics) {
        const name = topic === ALL_TOPIC ? feed.topicAll : topic
        if (await authorize(request, name) !== true) {
          request.log.info({ topic: name }, 'change feed: topic refused by authorizeTopic (403)')
          return await reply.code(FORBIDDEN).send({ statusCode: FORBIDDEN, error: 'Forbidden', message: `not allowed to subscribe to "${name}"` })
        }
      }
    }
    const ack = query.get('ack')
    subscriptions.set(request, { topics: parsed.topics, ack: ack === '1' || ack === 'true' })
  }
}

function joinPrefix (prefix: string, path: string): string {
  return prefix.length === 0 || path !== '/' ? prefix + path : prefix
}
