import { ALL_TOPIC, MODEL_NAME } from './event.js'

/** A subscriber may name at most this many topics; more is refused with 400 (each costs a room membership). */
export const MAX_TOPICS = 32

/** The topics of a subscription (model names, or ALL_TOPIC alone), or why the query is refused. */
export type TopicsResult = { topics: string[], error?: undefined } | { error: string, topics?: undefined }

/**
 * Reads the `topic` query parameters of an upgrade request: repeated
 * (`?topic=a&topic=b`), comma-separated (`?topic=a,b`) or both; none means
 * every model. Names are lower-cased; `topicAll` among them means every model,
 * and the others are then redundant (a subscriber gets each event once).
 * Parsed here, not from `request.query`, so the application's querystring
 * parser cannot change what a subscription means.
 */
export function topicsOf (query: URLSearchParams, topicAll: string): TopicsResult {
  const values = query.getAll('topic')
  const topics = new Set<string>()
  let all = values.length === 0
  for (const value of values) {
    for (const piece of value.split(',')) {
      const name = piece.trim().toLowerCase()
      if (name === topicAll) all = true
      else if (!MODEL_NAME.test(name)) return { error: `topic ${JSON.stringify(piece.slice(0, 64))} is not a model name (lower-case letters, digits, _ . -, at most 64) nor "${topicAll}"` }
      else topics.add(name)
      if (topics.size > MAX_TOPICS) return { error: `at most ${MAX_TOPICS} topics per subscription` }
    }
  }
  return { topics: all ? [ALL_TOPIC] : [...topics] }
}

/** The query string of a request URL, parsed here rather than by the application's querystring parser. */
export function queryOf (url: string): URLSearchParams {
  const start = url.indexOf('?')
  return new URLSearchParams(start === -1 ? '' : url.slice(start + 1))
}
