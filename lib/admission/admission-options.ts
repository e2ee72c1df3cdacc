import type { FastifyRequest } from 'fastify'
import type { RefreshHandler } from '../credentials/refresh.js'
import { ERR_OPTION_INVALID } from '../errors.js'
import { originCheck, type OriginCheck, type OriginsOption } from './origins.js'

/** Who an upgrade is for, as the `identify` step says before the upgrade. */
export interface UpgradeSubject {
  /** The user: counted for `maxConnectionsPerUser`, refused while revoked, and the connection is identified as them. */
  user?: string
  /** Labels the connection starts with; a revoked label refuses the upgrade. */
  labels?: readonly string[]
  /** When the credential expires (`connection.expiresAt`). */
  expiresAt?: Date
}

/**
 * Names the subject of an upgrade request, after the route's own hooks (your
 * auth in `onRequest`/`preValidation`, the route's `authorize`) ran: a user
 * id, a subject, or undefined for an anonymous connection.
 * @example identify: (request) => request.user === undefined ? undefined : { user: request.user.id, expiresAt: request.user.exp }
 */
export type IdentifyUpgrade = (request: FastifyRequest) => string | UpgradeSubject | undefined | Promise<string | UpgradeSubject | undefined>

/** Admission settings a route may set for itself (`addWebSocketRoute` options, or `config.admission` of a plain WebSocket route). */
export interface AdmissionRouteOptions {
  /**
   * Which browser origins may open a socket, checked before the upgrade (refused: HTTP 403).
   * @default 'same-origin': the `Origin` must be the request's own host and port
   */
  origins?: OriginsOption
  /**
   * Refuse upgrades that carry no `Origin` header (HTTP 403). Browsers always send one; other clients usually do not.
   * @default false
   */
  requireOrigin?: boolean
  /** Names the upgrade's user (and labels, expiry) before the upgrade; needed for `maxConnectionsPerUser` and to refuse revoked users with HTTP 403. */
  identify?: IdentifyUpgrade
}

/** The plugin's admission options: the route ones as defaults, plus the limits. */
export interface AdmissionOptions extends AdmissionRouteOptions {
  /**
   * WebSocket connections this node serves at once; beyond it, upgrades get HTTP 503.
   * @default unlimited
   */
  maxConnections?: number
  /**
   * Connections from one client address (`request.ip`, so behind a proxy set Fastify's `trustProxy`) on this node; beyond it, HTTP 429.
   * @default unlimited
   */
  maxConnectionsPerIp?: number
  /**
   * Connections of one user on every node (with a cluster backend); beyond it, HTTP 429. Needs `identify`.
   * @default unlimited
   */
  maxConnectionsPerUser?: number
  /** Credentials that expire (`connection.expiresAt`). */
  credentials?: CredentialOptions
  /** Frames a connection may queue while its handlers run; beyond either limit its socket is paused until the queue halves. */
  inboundQueue?: {
    /** @default 1024 */
    maxFrames?: number
    /** @default 4194304 (4 MiB) */
    maxBytes?: number
  }
}

/** Options of expiring credentials. */
export interface CredentialOptions {
  /**
   * How long a client has to answer the `refresh` request with a credential that `onRefresh` accepts; then close 4401.
   * @default 30000
   */
  graceMs?: number
  /**
   * Deadlines are handled in slots of this many ms (one timer for every connection of the node).
   * @default 1000
   */
  resolutionMs?: number
  /** Decides a refreshed credential for connections whose resource has no `onRefresh` (and the hub's): return its expiry (a Date). */
  onRefresh?: RefreshHandler
}

/** A route's admission, resolved. */
export interface RouteAdmission {
  /** Undefined: every origin is allowed. */
  check: OriginCheck | undefined
  requireOrigin: boolean
  identify: IdentifyUpgrade | undefined
}

/** The plugin-level settings, resolved. */
export interface ResolvedAdmission {
  defaults: AdmissionRouteOptions
  maxConnections: number
  maxConnectionsPerIp: number
  maxConnectionsPerUser: number
  graceMs: number
  resolutionMs: number
  onRefresh: RefreshHandler | undefined
  inbound: { maxFrames: number, maxBytes: number }
}

/** Reads and checks the plugin's admission options (ERR_OPTION_INVALID names the first bad one). */
export function resolveAdmission (options: AdmissionOptions): ResolvedAdmission {
  const credentials = options.credentials ?? {}
  const inbound = options.inboundQueue ?? {}
  const defaults = { origins: options.origins, requireOrigin: options.requireOrigin, identify: options.identify }
  routeAdmission(defaults, undefined, '')
  if (credentials.onRefresh !== undefined && typeof credentials.onRefresh !== 'function') throw new ERR_OPTION_INVALID('credentials.onRefresh', 'must be a function')
  return {
    defaults,
    maxConnections: limit('maxConnections', options.maxConnections),
    maxConnectionsPerIp: limit('maxConnectionsPerIp', options.maxConnectionsPerIp),
    maxConnectionsPerUser: limit('maxConnectionsPerUser', options.maxConnectionsPerUser),
    graceMs: limit('credentials.graceMs', credentials.graceMs, 30000),
    resolutionMs: limit('credentials.resolutionMs', credentials.resolutionMs, 1000),
    onRefresh: credentials.onRefresh,
    inbound: { maxFrames: limit('inboundQueue.maxFrames', inbound.maxFrames, 1024), maxBytes: limit('inboundQueue.maxBytes', inbound.maxBytes, 4 * 1024 * 1024) }
  }
}

/** A route's admission: its own settings over the plugin's; a bad one throws at declaration. */
export function routeAdmission (own: AdmissionRouteOptions, defaults: AdmissionRouteOptions | undefined, where: string): RouteAdmission {
  if (own === null || typeof own !== 'object') throw new ERR_OPTION_INVALID(`${where}admission`, 'must be an object, or false to leave the route unchecked')
  const origins = own.origins ?? defaults?.origins
  const requireOrigin = own.requireOrigin ?? defaults?.requireOrigin ?? false
  const identify = own.identify ?? defaults?.identify
  if (typeof requireOrigin !== 'boolean') throw new ERR_OPTION_INVALID(`${where}requireOrigin`, `must be true or false, got ${String(requireOrigin)}`)
  if (identify !== undefined && typeof identify !== 'function') throw new ERR_OPTION_INVALID(`${where}identify`, 'must be a function (request) => user | { user, labels, expiresAt } | undefined')
  return { check: originCheck(origins, `${where}origins`), requireOrigin, identify }
}

function limit (name: string, value: unknown, fallback = Infinity): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new ERR_OPTION_INVALID(name, `must be a positive integer, got ${String(value)}`)
  return value
}
