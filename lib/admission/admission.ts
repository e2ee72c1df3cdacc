import type { FastifyBaseLogger, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Metrics } from '../connection/connection.js'
import { subjectKeys, type RevocationStore } from '../credentials/revocations.js'
import { ERR_OPTION_INVALID } from '../errors.js'
import { kAdmission } from '../symbols.js'
import { routeAdmission, type AdmissionRouteOptions, type ResolvedAdmission, type RouteAdmission, type UpgradeSubject } from './admission-options.js'
import { ConnectionCounts, type Reservation } from './connection-counts.js'

/** What admission decided for an upgrade it let through, kept on the raw request for the route that accepts the socket. */
export interface Admitted {
  readonly counts: ConnectionCounts
  readonly reservation: Reservation
  /** Who `identify` said the upgrade is for. */
  subject: UpgradeSubject | undefined
}

/** What admission needs of the connection manager (structural: the manager does not know admission). */
export interface AdmissionHost {
  readonly metrics: Metrics
  userSize (user: string): Promise<number>
}

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

/**
 * Who gets in, decided before the upgrade for every WebSocket route declared
 * after the plugin (resource routes, the hub, the change feed, plain
 * `websocket: true` routes): the origin check and the node and per-address
 * limits in `onRequest`, then, once the route's own hooks have identified
 * the request, the revocation and per-user checks in `preHandler`.
 * A route's `config.admission` overrides the plugin's settings, or is `false`
 * for a route that must not be checked.
 */
export class Admission {
  readonly counts = new ConnectionCounts()

  constructor (
    private readonly settings: ResolvedAdmission,
    private readonly host: AdmissionHost,
    private readonly revocations: RevocationStore,
    private readonly log: FastifyBaseLogger
  ) {
    if (settings.defaults.origins === '*') log.warn("origins: '*' — any web page can open a WebSocket to this server with its visitors' cookies; list the origins you serve instead")
  }

  /** The plugin's onRoute hook. */
  readonly onRoute = (route: RouteOptions): void => {
    if (route.websocket !== true || [route.method].flat().every((method) => method === 'HEAD')) return
    const own = (route.config as { admission?: AdmissionRouteOptions | false } | undefined)?.admission
    if (own === false) return
    const admission = routeAdmission(own ?? {}, this.settings.defaults, `route ${route.url}: `)
    if (own?.origins === '*') this.log.warn({ route: route.url }, "origins: '*' on this route — any web page can open a WebSocket to it with its visitors' cookies")
    route.onRequest = [this.admit(admission), ...[route.onRequest ?? []].flat()]
    if (admission.identify !== undefined) route.preHandler = [...[route.preHandler ?? []].flat(), this.identify(admission)]
  }

  private admit (route: RouteAdmission): Hook {
    const { settings, counts } = this
    return async (request, reply) => {
      if (request.ws !== true) return
      const origin = request.headers.origin
      if (typeof origin !== 'string' || origin === '') {
        if (route.requireOrigin) return await this.refuse(request, reply, 403, 'an Origin header is required')
      } else if (route.check !== undefined && await route.check(origin, request) !== true) {
        return await this.refuse(request, reply, 403, 'origin not allowed', { origin })
      }
      if (counts.node >= settings.maxConnections) return await this.refuse(request, reply, 503, 'too many connections on this server')
      const ip = settings.maxConnectionsPerIp === Infinity ? undefined : ipOf(request)
      if (ip !== undefined && counts.fromIp(ip) >= settings.maxConnectionsPerIp) return await this.refuse(request, reply, 429, 'too many connections from this address', { ip })
      // an upgrade's response is always given its socket (by @fastify/websocket, before routing)
      const socket = reply.raw.socket as Duplex
      // a client gone already would never release what it took
      if (socket.destroyed) return
      const reservation = counts.take(ip)
      releaseOnClose(socket, () => counts.release(reservation))
      setAdmitted(request, { counts, reservation, subject: undefined })
    }
  }

  private identify (route: RouteAdmission): Hook {
    const { settings, counts } = this
    const identify = route.identify as NonNullable<RouteAdmission['identify']>
    return async (request, reply) => {
      const admitted = admittedOf(request)
      if (admitted === undefined) return
      const subject = checkSubject(await identify(request))
      if (subject === undefined) return
      admitted.subject = subject
      const { user, labels = [] } = subject
      if (await this.revocations.revoked(subjectKeys(user, labels))) return await this.refuse(request, reply, 403, 'revoked', { user })
      if (user === undefined || settings.maxConnectionsPerUser === Infinity) return
      const open = await this.host.userSize(user)
      if (open + counts.pendingFor(user) >= settings.maxConnectionsPerUser) return await this.refuse(request, reply, 429, 'too many connections for this user', { user })
      counts.takeUser(admitted.reservation, user)
    }
  }

  private async refuse (request: FastifyRequest, reply: FastifyReply, statusCode: number, message: string, details: object = {}): Promise<FastifyReply> {
    this.host.metrics.upgradesRefused++
    // clients control every reason here: info, never error
    request.log.info({ ...details, statusCode }, `WebSocket upgrade refused: ${message}`)
    return await reply.code(statusCode).send({ statusCode, error: ERRORS[statusCode], message })
  }
}

const ERRORS: Record<number, string> = { 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' }

/** What admission let through for this upgrade, if it checked it. */
export function admittedOf (request: FastifyRequest): Admitted | undefined {
  return (request.raw as { [kAdmission]?: Admitted })[kAdmission]
}

/**
 * For an endpoint that accepts its own sockets (the hub, the change feed):
 * who `identify` said the upgrade is for. Identify the socket's connection as
 * them, then call `subjectIdentified(request)` so the per-user count hands
 * over to the backend's.
 */
export function upgradeSubject (request: FastifyRequest): UpgradeSubject | undefined {
  return admittedOf(request)?.subject
}

/** The connection of this upgrade is identified as its subject (or will not be): stop counting it as on the way in. */
export function subjectIdentified (request: FastifyRequest): void {
  const admitted = admittedOf(request)
  admitted?.counts.releaseUser(admitted.reservation)
}

function setAdmitted (request: FastifyRequest, admitted: Admitted): void {
  (request.raw as { [kAdmission]?: Admitted })[kAdmission] = admitted
}

/**
 * Runs `release` once the socket is done: on a TCP socket's 'close' (always
 * emitted, once), or, for the in-memory stream of an injected upgrade, which
 * may never emit 'close', once it has both ended and finished. One plain
 * listener on a TCP socket because this runs per connection: each `once`
 * wrapper, and a third listener on an event, cost an idle connection bytes.
 */
function releaseOnClose (socket: Duplex, release: () => void): void {
  if (socket instanceof Socket) {
    socket.on('close', release)
    return
  }
  let ends = 0
  const ended = (): void => { if (++ends === 2) release() }
  socket.once('close', release)
  socket.once('end', ended)
  socket.once('finish', ended)
}

/** The client address; an in-process upgrade (`injectWS`) has none. */
function ipOf (request: FastifyRequest): string | undefined {
  return request.raw.socket === undefined ? undefined : request.ip
}

function checkSubject (value: unknown): UpgradeSubject | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string' && value !== '') return { user: value }
  const subject = value as UpgradeSubject
  const valid = subject !== null && typeof subject === 'object' &&
    (subject.user === undefined || (typeof subject.user === 'string' && subject.user !== '')) &&
    (subject.labels === undefined || (Array.isArray(subject.labels) && subject.labels.every((label) => typeof label === 'string' && label !== ''))) &&
    (subject.expiresAt === undefined || (subject.expiresAt instanceof Date && !Number.isNaN(subject.expiresAt.getTime())))
  if (!valid) throw new ERR_OPTION_INVALID('identify', 'must return a user id, { user?, labels?, expiresAt? } (non-empty strings, a valid Date) or undefined')
  return subject
}
