import createError from '@fastify/error'

/*
 * The catalogue of programmer, configuration and runtime errors thrown to the
 * application (never sent to clients: see wire-errors.ts for those). Every code
 * has a row in the README's Errors table; test/errors.test.ts checks it.
 */

// plugin
export const ERR_ALREADY_REGISTERED = createError<[]>(
  'FST_PACHINKO_ALREADY_REGISTERED',
  'fastify-pachinko is already registered on this instance or an ancestor; register it once, at the root', 500)
export const ERR_OPTION_INVALID = createError<[string, string]>(
  'FST_PACHINKO_OPTION_INVALID', 'Invalid option "%s": %s', 500, TypeError)

// routes
export const ERR_ROUTE_NOT_RESOURCE = createError<[string, string]>(
  'FST_PACHINKO_ROUTE_NOT_RESOURCE',
  'Route "%s": %s is not a WebSocketResource subclass or a factory function; extend WebSocketResource', 500, TypeError)
export const ERR_ROUTE_DUPLICATE_NAME = createError<[string]>(
  'FST_PACHINKO_ROUTE_DUPLICATE_NAME', 'A WebSocket route named "%s" already exists; route names must be unique', 500)
export const ERR_ROUTE_UNKNOWN_NAME = createError<[string]>(
  'FST_PACHINKO_ROUTE_UNKNOWN_NAME', 'No WebSocket route is named "%s"; pass { name } to addWebSocketRoute', 500)
export const ERR_ROUTE_MISSING_PARAM = createError<[string, string]>(
  'FST_PACHINKO_ROUTE_MISSING_PARAM', 'urlFor("%s") needs a value for the path parameter "%s"', 500, TypeError)
export const ERR_ROUTE_BAD_FACTORY_RESULT = createError<[string]>(
  'FST_PACHINKO_ROUTE_BAD_FACTORY_RESULT',
  'The resource factory of route "%s" did not return a WebSocketResource instance', 500, TypeError)

// message handlers and schemas
export const ERR_HANDLER_DUPLICATE_TAG = createError<[string, string, string, string]>(
  'FST_PACHINKO_HANDLER_DUPLICATE_TAG',
  '%s binds the message tag "%s" twice (methods %s and %s); each tag needs exactly one handler per class', 500)
export const ERR_MESSAGE_INVALID_TAG = createError<[string, string]>(
  'FST_PACHINKO_MESSAGE_INVALID_TAG', '%s: a message tag must be a non-empty string, got %s', 500, TypeError)
export const ERR_HANDLER_NOT_METHOD = createError<[string, string]>(
  'FST_PACHINKO_HANDLER_NOT_METHOD', '%s.%s is decorated with @handlesMessage but is not a method', 500, TypeError)
export const ERR_SCHEMA_NO_DISCRIMINATOR = createError<[string, string, string]>(
  'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR',
  '%s: the schema for "%s" is not an object schema with a literal "%s" property; build it with message(tag, payload)', 500, TypeError)
export const ERR_SCHEMA_TAG_MISMATCH = createError<[string, string, string]>(
  'FST_PACHINKO_SCHEMA_TAG_MISMATCH',
  '%s: the handler for "%s" was given a schema whose discriminator literal is "%s"', 500, TypeError)
export const ERR_SCHEMA_DUPLICATE_TAG = createError<[string, string]>(
  'FST_PACHINKO_SCHEMA_DUPLICATE_TAG', '%s: static schema lists the tag "%s" more than once', 500, TypeError)

// sending and connections
export const ERR_CONNECTION_NOT_FOUND = createError<[string]>(
  'FST_PACHINKO_CONNECTION_NOT_FOUND', 'No open connection has the id "%s"', 404)
export const ERR_CONNECTION_CLOSED = createError<[string]>(
  'FST_PACHINKO_CONNECTION_CLOSED', 'Connection "%s" is closed', 410)
export const ERR_JOIN_REFUSED = createError<[string]>(
  'FST_PACHINKO_JOIN_REFUSED', 'Joining the room "%s" was refused by authorizeJoin', 403)
export const ERR_SEND_DROPPED = createError<[string, number]>(
  'FST_PACHINKO_SEND_DROPPED',
  'Message to connection "%s" dropped: %d bytes already buffered (backpressure policy "drop")', 503)
export const ERR_SEND_TIMEOUT = createError<[string, number]>(
  'FST_PACHINKO_SEND_TIMEOUT', 'Connection "%s" did not drain its send buffer within %d ms', 503)
export const ERR_CLOSE_CODE_INVALID = createError<[string, string]>(
  'FST_PACHINKO_CLOSE_CODE_INVALID',
  'Invalid WebSocket close code %s given to %s: use 1000–1003, 1007–1014 or 3000–4999 (4000–4999 for your own codes)', 500, TypeError)
export const ERR_MESSAGE_NOT_SERIALIZABLE = createError<[string, { cause: unknown }?]>(
  'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE', 'The message cannot be serialised to JSON: %s', 500, TypeError)

// backends
export const ERR_BACKEND_CONNECT = createError<[string, string, string, { cause: unknown }?]>(
  'FST_PACHINKO_BACKEND_CONNECT', 'Cannot start the %s backend at %s: %s', 500)
export const ERR_BACKEND_UNAVAILABLE = createError<[string, string, { cause: unknown }?]>(
  'FST_PACHINKO_BACKEND_UNAVAILABLE',
  'The %s backend is unavailable (%s): local delivery goes on, cross-node operations fail until it reconnects', 503)
export const ERR_BACKEND_DEPENDENCY_MISSING = createError<[string, string, string, string, { cause: unknown }?]>(
  'FST_PACHINKO_BACKEND_DEPENDENCY_MISSING',
  'The %s backend needs the package "%s", which cannot be loaded (%s); install it: npm install %s', 500)

// dependency injection
export const ERR_DI_MISSING_SERVICE = createError<[string, string]>(
  'FST_PACHINKO_DI_MISSING_SERVICE',
  'No service is registered for %s, which %s needs; register it with app.ws.container.register() before declaring the route', 500)
export const ERR_DI_UNTYPED_PARAMETER = createError<[number, string]>(
  'FST_PACHINKO_DI_UNTYPED_PARAMETER',
  'Constructor parameter #%d of %s is not covered by the route args and has no injectable type; pass it in args, mark the class @injectable(), or use @inject(token)', 500, TypeError)
export const ERR_DI_CYCLE = createError<[string]>(
  'FST_PACHINKO_DI_CYCLE', 'Services depend on each other in a cycle: %s; break it with a factory that resolves one of them lazily', 500)
export const ERR_DI_CAPTIVE = createError<[string]>(
  'FST_PACHINKO_DI_CAPTIVE', '%s is connection-scoped and cannot be resolved outside a connection (from a singleton or a worker)', 500)

// hooks
export const ERR_HOOK_AFTER_READY = createError<[string]>(
  'FST_PACHINKO_HOOK_AFTER_READY', 'Cannot add a "%s" WebSocket hook once the app is ready; add hooks before ready() or listen()', 500)

// testing
export const ERR_TESTING_BAD_STATE = createError<[string, string]>(
  'FST_PACHINKO_TESTING_BAD_STATE', 'Cannot %s: the simulated connection %s', 500)
// the contract: request/reply, outgoing messages, AsyncAPI
export const ERR_REQUEST_TIMEOUT = createError<[string, number]>(
  'FST_PACHINKO_REQUEST_TIMEOUT', 'Connection "%s" did not reply to the request within %d ms; raise timeoutMs or check the client answers it', 504)
export const ERR_REQUEST_CLOSED = createError<[string]>(
  'FST_PACHINKO_REQUEST_CLOSED', 'Connection "%s" closed before it replied to the request', 410)
export const ERR_REQUEST_FAILED = createError<[string, string, string]>(
  'FST_PACHINKO_REQUEST_FAILED', 'Connection "%s" answered the request with the error %s: %s', 502)
export const ERR_OUTGOING_INVALID = createError<[string, string, string]>(
  'FST_PACHINKO_OUTGOING_INVALID',
  '%s sent a "%s" message that does not match its static emits (%s); fix the message or the schema, or set validateOutgoing: \'warn\'', 500, TypeError)
export const ERR_REPLY_INVALID = createError<[string, string, string]>(
  'FST_PACHINKO_REPLY_INVALID',
  '%s: the reply to "%s" does not match its reply schema (%s); fix the handler\'s return value or the schema, or set validateOutgoing: \'warn\'', 500, TypeError)

// channels hub
export const ERR_HUB_PATTERN_INVALID = createError<[string, string]>(
  'FST_PACHINKO_HUB_PATTERN_INVALID', 'Invalid topic pattern "%s": %s', 500, TypeError)
export const ERR_HUB_NOT_CHANNEL = createError<[string, string]>(
  'FST_PACHINKO_HUB_NOT_CHANNEL', 'hub.channel("%s"): %s is not a Channel subclass; extend Channel from fastify-pachinko', 500, TypeError)
export const ERR_HUB_EVENT_INVALID = createError<[string, string]>(
  'FST_PACHINKO_HUB_EVENT_INVALID', '%s: %s', 500, TypeError)
export const ERR_HUB_NOT_SERIALIZABLE = createError<[string, { cause: unknown }?]>(
  'FST_PACHINKO_HUB_NOT_SERIALIZABLE', 'A hub payload must be a JSON-serialisable object: %s', 500, TypeError)
export const ERR_HUB_NOT_SERVED = createError<[]>(
  'FST_PACHINKO_HUB_NOT_SERVED', 'This hub is not served on any path: declare it with app.addWebSocketHub(path) or include it in one that is', 500)
// room history and recovery
export const ERR_HISTORY_UNSUPPORTED = createError<[string]>(
  'FST_PACHINKO_HISTORY_UNSUPPORTED',
  'The %s backend keeps no room history; use the memory or Redis backend, or give your backend a `history` (see docs/history.md)', 500)
export const ERR_HISTORY_NOT_KEPT = createError<[string]>(
  'FST_PACHINKO_HISTORY_NOT_KEPT',
  'Room "%s" keeps no history, so there is nothing to recover; declare it with app.ws.keepHistory(rooms, { size, ttlMs }) on every node', 500)

// hub presence
export const ERR_HUB_PRESENCE_OFF = createError<[string]>(
  'FST_PACHINKO_HUB_PRESENCE_OFF', 'Topic "%s" has no presence: declare its channel with hub.channel(pattern, Channel, { presence: true })', 500)
