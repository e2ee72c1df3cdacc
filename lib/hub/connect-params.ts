/*
 * The socket's params, as the phoenix client sends them: the query string of
 * the upgrade, with nested objects as `a[b]=1` (its `serialize`). Keys that
 * could reach a prototype are dropped; `vsn` is the protocol's, not the app's.
 */

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])
const MAX_DEPTH = 8

type Params = Record<string, unknown>

/** Parses the query of `url` into nested params. */
export function connectParams (url: string): Params {
  const params: Params = {}
  const at = url.indexOf('?')
  if (at === -1) return params
  for (const [key, value] of new URLSearchParams(url.slice(at + 1))) {
    if (key === 'vsn') continue
    const path = keyPath(key)
    if (path === undefined) continue
    set(params, path, value)
  }
  return params
}

/** `a[b][c]` → ['a', 'b', 'c']; undefined for a key that cannot be stored safely. */
function keyPath (key: string): string[] | undefined {
  const open = key.indexOf('[')
  if (open <= 0 || !key.endsWith(']')) return FORBIDDEN.has(key) || key.length === 0 ? undefined : [key]
  const path = [key.slice(0, open), ...key.slice(open + 1, -1).split('][')]
  if (path.length > MAX_DEPTH || path.some((part) => part.length === 0 || FORBIDDEN.has(part))) return undefined
  return path
}

function set (target: Params, path: string[], value: string): void {
  let node = target
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]]
    if (next !== null && typeof next === 'object') {
      node = next as Params
    } else {
      const created: Params = {}
      node[path[i]] = created
      node = created
    }
  }
  node[path[path.length - 1]] = value
}
