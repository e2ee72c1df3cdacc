import type { FastifyRequest } from 'fastify'
import { ERR_OPTION_INVALID } from '../errors.js'

/** Decides an `Origin` the list cannot: only `true` admits. */
export type OriginPredicate = (origin: string, request: FastifyRequest) => boolean | Promise<boolean>

/**
 * Which browser origins may open a socket: `'same-origin'` (the request's own
 * host), `'*'` (any: no check), a list of origins and patterns
 * (`'https://app.example.com'`, `'//example.com'`, `'*.example.com'`,
 * `'http://localhost:5173'`), or a predicate.
 */
export type OriginsOption = 'same-origin' | '*' | readonly string[] | OriginPredicate

/** The checked form: true admits, false refuses. */
export type OriginCheck = (origin: string, request: FastifyRequest) => boolean | Promise<boolean>

/** One allowed origin, Phoenix's `check_origin` way: a part left out matches anything. */
interface AllowedOrigin {
  scheme: string | undefined
  /** The host, or the domain after `*.`. */
  host: string
  wildcard: boolean
  port: number | undefined
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 }
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)$/

/** Turns the `origins` option into a check; a malformed entry throws ERR_OPTION_INVALID naming it. */
export function originCheck (option: unknown, name: string): OriginCheck | undefined {
  if (option === undefined || option === 'same-origin') return sameOrigin
  if (option === '*') return undefined
  if (typeof option === 'function') return async (origin, request) => await (option as OriginPredicate)(origin, request) === true
  if (!Array.isArray(option)) throw new ERR_OPTION_INVALID(name, `must be 'same-origin', '*', a list of origins or a function, got ${typeof option}`)
  const allowed = option.map((entry: unknown, i) => parseAllowed(entry, `${name}[${i}]`))
  return (origin) => {
    const url = parseOrigin(origin)
    return url !== undefined && allowed.some((entry) => matches(entry, url))
  }
}

/**
 * The default: the `Origin`'s host and port are the request's own `Host`
 * (`request.host`, which follows X-Forwarded-Host under trustProxy). The
 * scheme is not compared: behind a TLS-terminating proxy the server sees
 * http while the page is https; list `https://…` origins to pin it.
 */
function sameOrigin (origin: string, request: FastifyRequest): boolean {
  const url = parseOrigin(origin)
  const host = request.host
  if (url === undefined || typeof host !== 'string' || host === '') return false
  try {
    // read the Host through the origin's scheme, so an explicit default port (`example.com:443`) compares equal
    return new URL(`${url.scheme}://${host}`).host === url.host
  } catch {
    return false
  }
}

interface ParsedOrigin {
  scheme: string
  hostname: string
  /** hostname and the port when it is not the scheme's default */
  host: string
  port: number | undefined
}

/** A request's `Origin`; undefined for `null` (sandboxed frames, file:) and anything else without a host. */
function parseOrigin (origin: string): ParsedOrigin | undefined {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return undefined
  }
  if (url.hostname === '') return undefined
  const scheme = url.protocol.slice(0, -1)
  const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port)
  return { scheme, hostname: url.hostname, host: url.host, port }
}

function parseAllowed (entry: unknown, name: string): AllowedOrigin {
  if (typeof entry !== 'string' || entry === '') throw new ERR_OPTION_INVALID(name, 'must be a non-empty string such as "https://app.example.com" or "*.example.com"')
  let rest = entry.toLowerCase()
  let scheme: string | undefined
  const separator = rest.indexOf('://')
  if (separator !== -1) {
    scheme = rest.slice(0, separator)
    rest = rest.slice(separator + 3)
  } else if (rest.startsWith('//')) {
    rest = rest.slice(2)
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1)
  const wildcard = rest.startsWith('*.')
  if (wildcard) rest = rest.slice(2)
  const portAt = rest.lastIndexOf(':')
  let port: number | undefined
  if (portAt !== -1 && !rest.endsWith(']')) {
    port = Number(rest.slice(portAt + 1))
    rest = rest.slice(0, portAt)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(name, entry)
  }
  if ((scheme !== undefined && !/^[a-z][a-z0-9+.-]*$/.test(scheme)) || !HOST.test(rest)) throw invalid(name, entry)
  // like Phoenix: `https://example.com` means port 443, `//example.com` any port
  return { scheme, host: rest, wildcard, port: port ?? (scheme === undefined ? undefined : DEFAULT_PORTS[scheme]) }
}

function matches (allowed: AllowedOrigin, origin: ParsedOrigin): boolean {
  if (allowed.scheme !== undefined && allowed.scheme !== origin.scheme) return false
  if (allowed.port !== undefined && allowed.port !== origin.port) return false
  if (origin.hostname === allowed.host) return true
  // `*.example.com` is example.com and its subdomains, never `evilexample.com`
  return allowed.wildcard && origin.hostname.endsWith('.' + allowed.host)
}

function invalid (name: string, entry: string): Error {
  return new ERR_OPTION_INVALID(name, `"${entry}" is not an origin: write "https://host", "https://host:port", "//host" or "*.domain"`)
}
