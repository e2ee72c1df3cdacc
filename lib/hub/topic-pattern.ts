import { ERR_HUB_PATTERN_INVALID } from '../errors.js'
import { PHX } from './codec.js'

/*
 * Topic patterns: literal segments, `{name}` parameters (one segment, any
 * characters but the separator) and a trailing `*` (the rest of the topic, even
 * empty). Segments are separated by `:` and `/`, as topics like `room:42` or
 * `user:7/inbox` read. The most specific pattern wins: compared segment by
 * segment, literal beats parameter beats wildcard.
 */

/** A compiled topic pattern. */
export interface TopicPattern<T> {
  readonly source: string
  readonly value: T
  /** The params of a matching topic, or undefined when it does not match. */
  match (topic: string): Record<string, string> | undefined
  /** One rank per segment: 2 literal, 1 parameter, 0 wildcard; compared in order. */
  readonly ranks: readonly number[]
  /** The pattern with its parameter names erased: two patterns of one shape match the same topics. */
  readonly shape: string
}

const SEGMENT = /[:/]/
const PARAM = /^\{([A-Za-z_$][\w$]*)\}$/

/** Compiles `source`; throws `FST_PACHINKO_HUB_PATTERN_INVALID` for a pattern that cannot match or collides with the protocol. */
export function compilePattern<T> (source: string, value: T): TopicPattern<T> {
  if (typeof source !== 'string' || source.length === 0) throw new ERR_HUB_PATTERN_INVALID(String(source), 'a pattern must be a non-empty string')
  if (source === PHX.topic || source.startsWith(PHX.topic + ':')) throw new ERR_HUB_PATTERN_INVALID(source, `the topic "${PHX.topic}" is reserved for heartbeats`)
  const parts = splitKeepingSeparators(source)
  const names = new Set<string>()
  const ranks: number[] = []
  let regex = '^'
  for (let i = 0; i < parts.length; i += 2) {
    const segment = parts[i]
    const separator = parts[i + 1] ?? ''
    const param = PARAM.exec(segment)
    if (segment === '*') {
      if (i !== parts.length - 1) throw new ERR_HUB_PATTERN_INVALID(source, '`*` may only be the last segment')
      regex += '(.*)'
      ranks.push(0)
    } else if (param !== null) {
      const name = param[1]
      if (names.has(name)) throw new ERR_HUB_PATTERN_INVALID(source, `the parameter {${name}} appears twice`)
      names.add(name)
      regex += '([^:/]+)'
      ranks.push(1)
    } else {
      if (/[{}*]/.test(segment)) throw new ERR_HUB_PATTERN_INVALID(source, `the segment "${segment}" mixes a literal with {…} or *; a parameter or wildcard is a whole segment`)
      regex += escape(segment)
      ranks.push(2)
    }
    regex += escape(separator)
  }
  const compiled = new RegExp(regex + '$', 's')
  const order = [...names]
  const wildcard = ranks[ranks.length - 1] === 0
  return {
    source,
    value,
    ranks,
    shape: source.replace(/\{[^}]*\}/g, '{}'),
    match (topic) {
      const found = compiled.exec(topic)
      if (found === null) return undefined
      const params: Record<string, string> = {}
      for (let i = 0; i < order.length; i++) params[order[i]] = found[i + 1]
      if (wildcard) params['*'] = found[found.length - 1]
      return params
    }
  }
}

/** `a:b/c` → ['a', ':', 'b', '/', 'c']: segments at even indexes, the separators after them at odd ones. */
function splitKeepingSeparators (source: string): string[] {
  const parts: string[] = []
  let start = 0
  for (let i = 0; i < source.length; i++) {
    if (SEGMENT.test(source[i])) {
      parts.push(source.slice(start, i), source[i])
      start = i + 1
    }
  }
  parts.push(source.slice(start))
  return parts
}

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Orders patterns most specific first. */
export function bySpecificity (a: TopicPattern<unknown>, b: TopicPattern<unknown>): number {
  const length = Math.max(a.ranks.length, b.ranks.length)
  for (let i = 0; i < length; i++) {
    // a shorter pattern has run out: a wildcard there still matches more than a literal segment here
    const ra = a.ranks[i] ?? -1
    const rb = b.ranks[i] ?? -1
    if (ra !== rb) return rb - ra
  }
  return 0
}

/** The patterns of a hub, kept most specific first; declaring the same pattern twice throws. */
export class TopicRouter<T> {
  private readonly patterns: Array<TopicPattern<T>> = []

  add (source: string, value: T): void {
    const pattern = compilePattern(source, value)
    const same = this.patterns.find((p) => p.shape === pattern.shape)
    if (same !== undefined) throw new ERR_HUB_PATTERN_INVALID(source, `it matches the same topics as "${same.source}", already declared on the hub`)
    this.patterns.push(pattern)
    this.patterns.sort(bySpecificity)
  }

  /** The most specific pattern matching `topic`, with its params. */
  find (topic: string): { value: T, params: Record<string, string> } | undefined {
    for (const pattern of this.patterns) {
      const params = pattern.match(topic)
      if (params !== undefined) return { value: pattern.value, params }
    }
    return undefined
  }

  get sources (): string[] {
    return this.patterns.map((p) => p.source)
  }
}
