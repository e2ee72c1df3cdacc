import sjson from 'secure-json-parse'

/** What to do with `__proto__` / `constructor.prototype` keys: Fastify's `onProtoPoisoning` values. */
export type ProtoAction = 'error' | 'remove' | 'ignore'

/**
 * Parses a text frame once. Only text that could hide a poisoned key — it
 * contains `__proto__`, `constructor`, or a `\u` escape that might spell one —
 * takes secure-json-parse's slower, thorough path; the rest costs one JSON.parse.
 * Throws a SyntaxError for text that is not JSON or holds a forbidden key.
 */
export function parseFrame (text: string, protoAction: ProtoAction): unknown {
  // a leading byte-order mark is allowed, as Fastify's own JSON parser allows it
  if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
  const value: unknown = JSON.parse(text)
  if (protoAction === 'ignore' || value === null || typeof value !== 'object') return value
  if (text.indexOf('__proto__') === -1 && text.indexOf('constructor') === -1 && text.indexOf('\\u') === -1) return value
  return sjson.parse(text, undefined, { protoAction, constructorAction: protoAction })
}
