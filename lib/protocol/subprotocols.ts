import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { ERR_OPTION_INVALID } from '../errors.js'
import { kProtocol } from '../symbols.js'

/*
 * Subprotocol negotiation per route (RFC 6455 §1.9): the client lists the
 * protocols it speaks in `Sec-WebSocket-Protocol`, in its order of
 * preference; the route takes the first one it supports. The choice is made
 * in a preValidation hook, so a client with nothing in common gets a real
 * HTTP 400 before any socket exists, and ws is told the choice when it
 * completes the upgrade.
 */

/** RFC 7230 token characters: what a subprotocol name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const HTTP_BAD_REQUEST = 400
/** Offers past this count are refused: no real client lists more. */
const MAX_OFFERS = 32

type RawRequest = IncomingMessage & { [kProtocol]?: string }
/** ws's `handleProtocols` server option (declared here so the public types need no @types/ws). */
type HandleProtocols = (protocols: Set<string>, request: IncomingMessage) => string | false

/** Checks a route's `subprotocols` option at declaration; returns a copy. */
export function checkSubprotocols (value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0) throw new ERR_OPTION_INVALID('subprotocols', 'must be a non-empty array of protocol names, most preferred first')
  const seen = new Set<string>()
  for (const name of value) {
    if (typeof name !== 'string' || !TOKEN.test(name)) throw new ERR_OPTION_INVALID('subprotocols', `"${String(name)}" is not a valid protocol name (RFC 7230 token characters only)`)
    if (seen.has(name)) throw new ERR_OPTION_INVALID('subprotocols', `lists "${name}" twice`)
    seen.add(name)
  }
  return [...value] as string[]
}

/** The offers of a `Sec-WebSocket-Protocol` header in the client's order, or undefined when the header is malformed. */
export function parseOffers (header: unknown): string[] | undefined {
  if (header === undefined) return []
  if (typeof header !== 'string') return undefined
  const offers = header.split(',').map((part) => part.trim())
  if (offers.length > MAX_OFFERS || new Set(offers).size !== offers.length) return undefined
  for (const offer of offers) if (!TOKEN.test(offer)) return undefined
  return offers
}

/** The preValidation hook of a route with `subprotocols`: picks the protocol, or answers HTTP 400. */
export function subprotocolHook (supported: readonly string[]): preValidationAsyncHookHandler {
  const accepted = new Set(supported)
  return async function negotiateSubprotocol (request: FastifyRequest, reply: FastifyReply) {
    const offers = parseOffers(request.headers['sec-websocket-protocol'])
    if (offers === undefined) {
      request.log.debug('invalid Sec-WebSocket-Protocol header')
      return await badRequest(reply, 'invalid Sec-WebSocket-Protocol header')
    }
    const chosen = offers.find((offer) => accepted.has(offer))
    if (chosen === undefined) {
      request.log.debug({ offered: offers.length }, 'no subprotocol in common')
      return await badRequest(reply, `no supported subprotocol offered; this route speaks ${supported.join(', ')} (send one in Sec-WebSocket-Protocol)`)
    }
    (request.raw as RawRequest)[kProtocol] = chosen
  }
}

/**
 * Makes ws answer with the protocol a route's hook chose; upgrades of routes
 * without `subprotocols` keep ws's behaviour (or the handleProtocols you gave it).
 */
export function installProtocolChoice (options: { handleProtocols?: HandleProtocols | null }): void {
  const previous = options.handleProtocols ?? undefined
  options.handleProtocols = (protocols, request) => {
    const chosen = (request as RawRequest)[kProtocol]
    if (chosen !== undefined) return chosen
    // ws asks only when the client offered at least one protocol
    return previous === undefined ? protocols.values().next().value as string : previous(protocols, request)
  }
}

async function badRequest (reply: FastifyReply, message: string): Promise<FastifyReply> {
  return await reply.code(HTTP_BAD_REQUEST).send({ statusCode: HTTP_BAD_REQUEST, error: 'Bad Request', message })
}
