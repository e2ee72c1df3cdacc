/**
 * The catalogue of programmer, configuration and runtime errors thrown to the
 * application (never sent to clients: see wire-errors.ts for those). Every code
 * has a row in the README's Errors table; test/errors.test.ts checks it.
 * Each is an `@fastify/error` class: `err instanceof errors.ERR_JOIN_REFUSED`,
 * or compare `err.code`.
 * @module
 */
import createError from '@fastify/error'

// plugin
/** `FST_PACHINKO_ALREADY_REGISTERED`: the plugin is registered twice in one instance tree. Fix: register it once, at the root. */
export const ERR_ALREADY_REGISTERED = createError<[]>(
  'FST_PACHINKO_ALREADY_REGISTERED',
  'fastify-pachinko is already registered on this instance or an ancestor; register it once, at the root', 500)
/** `FST_PACHINKO_OPTION_INVALID`: an option (plugin, route, call argument) has a wrong type or value; the message names it. Fix: pass what the message asks for. */
export const ERR_OPTION_INVALID = createError<[string, string]>(
  'FST_PACHINKO_OPTION_INVALID', 'Invalid option "%s": %s', 500, TypeError)

// routes
/** `FST_PACHINKO_ROUTE_NOT_RESOURCE`: `addWebSocketRoute` got something that is neither a `WebSocketResource` subclass nor a factory. Fix: extend `WebSocketResource`. */
export const ERR_ROUTE_NOT_RESOURCE = createError<[string, string]>(
  'FST_PACHINKO_ROUTE_NOT_RESOURCE',
  'Route "%s": %s is not a WebSocketResource subclass or a factory function; extend WebSocketResource', 500, TypeError)
/** `FST_PACHINKO_ROUTE_DUPLICATE_NAME`: two routes share a `name`. Fix: give each a unique name. */
export const ERR_ROUTE_DUPLICATE_NAME = createError<[string]>(
  'FST_PACHINKO_ROUTE_DUPLICATE_NAME', 'A WebSocket route named "%s" already exists; route names must be unique', 500)
/** `FST_PACHINKO_ROUTE_UNKNOWN_NAME`: `urlFor` got a name no route has. Fix: check the route's `name`. */
export const ERR_ROUTE_UNKNOWN_NAME = createError<[string]>(
  'FST_PACHINKO_ROUTE_UNKNOWN_NAME', 'No WebSocket route is named "%s"; pass { name } to addWebSocketRoute', 500)
/** `FST_PACHINKO_ROUTE_MISSING_PARAM`: `urlFor` lacks a value for a path parameter. Fix: pass every parameter. */
export const ERR_ROUTE_MISSING_PARAM = createError<[string, string]>(
  'FST_PACHINKO_ROUTE_MISSING_PARAM', 'urlFor("%s") needs a value for the path parameter "%s"', 500, TypeError)
/** `FST_PACHINKO_ROUTE_BAD_FACTORY_RESULT`: a factory returned something that is not a resource (the connection is closed with 1011). Fix: return a `WebSocketResource` instance. */
export const ERR_ROUTE_BAD_FACTORY_RESULT = createError<[string]>(
  'FST_PACHINKO_ROUTE_BAD_FACTORY_RESULT',
  'The resource factory of route "%s" did not return a WebSocketResource instance', 500, TypeError)

// message handlers and schemas
/** `FST_PACHINKO_HANDLER_DUPLICATE_TAG`: one class binds a tag twice. Fix: keep one handler per tag. */
export const ERR_HANDLER_DUPLICATE_TAG = createError<[string, string, string, string]>(
  'FST_PACHINKO_HANDLER_DUPLICATE_TAG',
  '%s binds the message tag "%s" twice (methods %s and %s); each tag needs exactly one handler per class', 500)
/** `FST_PACHINKO_MESSAGE_INVALID_TAG`: `message(tag)` or `@handlesMessage(tag)` got a tag that is not a non-empty string. Fix: pass the tag as a string. */
export const ERR_MESSAGE_INVALID_TAG = createError<[string, string]>(
  'FST_PACHINKO_MESSAGE_INVALID_TAG', '%s: a message tag must be a non-empty string, got %s', 500, TypeError)
/** `FST_PACHINKO_HANDLER_NOT_METHOD`: `@handlesMessage` is on a getter or field. Fix: decorate a method. */
export const ERR_HANDLER_NOT_METHOD = createError<[string, string]>(
  'FST_PACHINKO_HANDLER_NOT_METHOD', '%s.%s is decorated with @handlesMessage but is not a method', 500, TypeError)
/** `FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR`: a handler schema or `static schema` member has no literal discriminator. Fix: build it with `message(tag, payload)`. */
export const ERR_SCHEMA_NO_DISCRIMINATOR = createError<[string, string, string]>(
  'FST_PACHINKO_SCHEMA_NO_DISCRIMINATOR',
  '%s: the schema for "%s" is not an object schema with a literal "%s" property; build it with message(tag, payload)', 500, TypeError)
/** `FST_PACHINKO_SCHEMA_TAG_MISMATCH`: a handler's schema pins another tag than the one it is bound to. Fix: use the same tag. */
export const ERR_SCHEMA_TAG_MISMATCH = createError<[string, string, string]>(
  'FST_PACHINKO_SCHEMA_TAG_MISMATCH',
  '%s: the handler for "%s" was given a schema whose discriminator literal is "%s"', 500, TypeError)
/** `FST_PACHINKO_SCHEMA_DUPLICATE_TAG`: `static schema` lists a tag twice. Fix: list each message once. */
export const ERR_SCHEMA_DUPLICATE_TAG = createError<[string, string]>(
  'FST_PACHINKO_SCHEMA_DUPLICATE_TAG', '%s: static schema lists the tag "%s" more than once', 500, TypeError)

// sending and connections
/** `FST_PACHINKO_CONNECTION_NOT_FOUND`: no connection has that id (it closed, or never existed). Fix: treat as gone. */
export const ERR_CONNECTION_NOT_FOUND = createError<[string]>(
  'FST_PACHINKO_CONNECTION_NOT_FOUND', 'No open connection has the id "%s"', 404)
/** `FST_PACHINKO_CONNECTION_CLOSED`: the connection is closing or closed. Fix: treat as gone. */
export const ERR_CONNECTION_CLOSED = createError<[string]>(
  'FST_PACHINKO_CONNECTION_CLOSED', 'Connection "%s" is closed', 410)
/** `FST_PACHINKO_JOIN_REFUSED`: `authorizeJoin` refused a join. Fix: join only rooms the connection may; tell the client. */
export const ERR_JOIN_REFUSED = createError<[string]>(
  'FST_PACHINKO_JOIN_REFUSED', 'Joining the room "%s" was refused by authorizeJoin', 403)
/** `FST_PACHINKO_SEND_DROPPED`: a targeted send hit a full send buffer under `'drop'` or `'close'`. Fix: slow consumer: retry later or let it resync. */
export const ERR_SEND_DROPPED = createError<[string, number]>(
  'FST_PACHINKO_SEND_DROPPED',
  'Message to connection "%s" dropped: %d bytes already buffered (backpressure policy "drop")', 503)
/** `FST_PACHINKO_SEND_TIMEOUT`: under `'wait'`, a recipient did not drain in time. Fix: slow consumer: close it or raise `sendTimeoutMs`. */
export const ERR_SEND_TIMEOUT = createError<[string, number]>(
  'FST_PACHINKO_SEND_TIMEOUT', 'Connection "%s" did not drain its send buffer within %d ms', 503)
/** `FST_PACHINKO_CLOSE_CODE_INVALID`: a close code no close frame may carry (anything but 1000–1003, 1007–1014, 3000–4999) was given to `close`, `ClientError`, `refuse`, `disconnect` or `disconnectUser`; thrown where it was given. Fix: use 1000 (normal), 1001 (going away), 1008 (policy), 1011 (server error), 1013 (try later) or your own 4000–4999. */
export const ERR_CLOSE_CODE_INVALID = createError<[string, string]>(
  'FST_PACHINKO_CLOSE_CODE_INVALID',
  'Invalid WebSocket close code %s given to %s: use 1000–1003, 1007–1014 or 3000–4999 (4000–4999 for your own codes)', 500, TypeError)
/** `FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE`: a message has a cycle, a BigInt, or is `undefined`. Fix: send plain JSON data. */
export const ERR_MESSAGE_NOT_SERIALIZABLE = createError<[string, { cause: unknown }?]>(
  'FST_PACHINKO_MESSAGE_NOT_SERIALIZABLE', 'The message cannot be serialised to JSON: %s', 500, TypeError)

// backends
/** `FST_PACHINKO_BACKEND_CONNECT`: the backend cannot start (Redis unreachable at boot); names the URL. Fix: start Redis or fix `url`. */
export const ERR_BACKEND_CONNECT = createError<[string, string, string, { cause: unknown }?]>(
  'FST_PACHINKO_BACKEND_CONNECT', 'Cannot start the %s backend at %s: %s', 500)
/** `FST_PACHINKO_BACKEND_UNAVAILABLE`: a cross-node operation while the backend is down. Fix: retry after the reconnect line, or degrade to local. */
export const ERR_BACKEND_UNAVAILABLE = createError<[string, string, { cause: unknown }?]>(
  'FST_PACHINKO_BACKEND_UNAVAILABLE',
  'The %s backend is unavailable (%s): local delivery goes on, cross-node operations fail until it reconnects', 503)
/** `FST_PACHINKO_BACKEND_DEPENDENCY_MISSING`: a backend's optional peer dependency cannot be loaded (`redisBackend` without `ioredis`), at `register`. Fix: `npm install ioredis`. */
export const ERR_BACKEND_DEPENDENCY_MISSING = createError<[string, string, string, string, { cause: unknown }?]>(
  'FST_PACHINKO_BACKEND_DEPENDENCY_MISSING',
  'The %s backend needs the package "%s", which cannot be loaded (%s); install it: npm install %s', 500)

// dependency injection
/** `FST_PACHINKO_DI_MISSING_SERVICE`: a constructor parameter's service is not registered (at declaration, or at connect with close 1011). Fix: `app.ws.container.register(token, …)` before declaring the route. */
export const ERR_DI_MISSING_SERVICE = createError<[string, string]>(
  'FST_PACHINKO_DI_MISSING_SERVICE',
  'No service is registered for %s, which %s needs; register it with app.ws.container.register() before declaring the route', 500)
/** `FST_PACHINKO_DI_UNTYPED_PARAMETER`: a constructor parameter beyond `args` has no injectable type. Fix: pass it in `args`, mark the class `@injectable()`, or `@inject(token)` it. */
export const ERR_DI_UNTYPED_PARAMETER = createError<[number, string]>(
  'FST_PACHINKO_DI_UNTYPED_PARAMETER',
  'Constructor parameter #%d of %s is not covered by the route args and has no injectable type; pass it in args, mark the class @injectable(), or use @inject(token)', 500, TypeError)
/** `FST_PACHINKO_DI_CYCLE`: services depend on each other in a cycle; the message names it (`A → B → A`). Fix: break the cycle: let one of them resolve the other lazily, in a factory or on first use. */
export const ERR_DI_CYCLE = createError<[string]>(
  'FST_PACHINKO_DI_CYCLE', 'Services depend on each other in a cycle: %s; break it with a factory that resolves one of them lazily', 500)
/** `FST_PACHINKO_DI_CAPTIVE`: a connection-scoped service was asked for outside a connection (by a singleton or a worker). Fix: make the consumer connection-scoped, or the service a singleton. */
export const ERR_DI_CAPTIVE = createError<[string]>(
  'FST_PACHINKO_DI_CAPTIVE', '%s is connection-scoped and cannot be resolved outside a connection (from a singleton or a worker)', 500)

// hooks
/** `FST_PACHINKO_HOOK_AFTER_READY`: `addWebSocketHook` after `ready()`/`listen()`. Fix: add hooks while the app is being built. */
export const ERR_HOOK_AFTER_READY = createError<[string]>(
  'FST_PACHINKO_HOOK_AFTER_READY', 'Cannot add a "%s" WebSocket hook once the app is ready; add hooks before ready() or listen()', 500)

// testing
/** `FST_PACHINKO_TESTING_BAD_STATE`: a `simulate()` simulation was used out of order (`receive()` before `connect()`, after the close, `connect()` twice, `this.app` in a simulated resource). Fix: follow `connect()` → `receive()` → `disconnect()`; test code that needs Fastify with `testApp()` and `connect()`. */
export const ERR_TESTING_BAD_STATE = createError<[string, string]>(
  'FST_PACHINKO_TESTING_BAD_STATE', 'Cannot %s: the simulated connection %s', 500)
// the contract: request/reply, outgoing messages, AsyncAPI
/** `FST_PACHINKO_REQUEST_TIMEOUT`: `connection.request()` / `app.ws.request()` got no reply within `timeoutMs`. Fix: raise `timeoutMs` (or `requestTimeoutMs`), or make the client answer (`onRequest`). */
export const ERR_REQUEST_TIMEOUT = createError<[string, number]>(
  'FST_PACHINKO_REQUEST_TIMEOUT', 'Connection "%s" did not reply to the request within %d ms; raise timeoutMs or check the client answers it', 504)
/** `FST_PACHINKO_REQUEST_CLOSED`: the connection closed before it replied (or was closed when asked). Fix: retry on its next connection. */
export const ERR_REQUEST_CLOSED = createError<[string]>(
  'FST_PACHINKO_REQUEST_CLOSED', 'Connection "%s" closed before it replied to the request', 410)
/** `FST_PACHINKO_REQUEST_FAILED`: the client answered the request with an error frame (`err.clientError` has its code and message). Fix: handle the client's refusal. */
export const ERR_REQUEST_FAILED = createError<[string, string, string]>(
  'FST_PACHINKO_REQUEST_FAILED', 'Connection "%s" answered the request with the error %s: %s', 502)
/** `FST_PACHINKO_OUTGOING_INVALID`: with `validateOutgoing: 'throw'`, a resource sent a message its `static emits` does not declare or allow. Fix: fix the message or the declaration. */
export const ERR_OUTGOING_INVALID = createError<[string, string, string]>(
  'FST_PACHINKO_OUTGOING_INVALID',
  '%s sent a "%s" message that does not match its static emits (%s); fix the message or the schema, or set validateOutgoing: \'warn\'', 500, TypeError)
/** `FST_PACHINKO_REPLY_INVALID`: with `validateOutgoing: 'throw'`, a handler's result does not match its `reply` schema. Fix: fix the return value or the schema. */
export const ERR_REPLY_INVALID = createError<[string, string, string]>(
  'FST_PACHINKO_REPLY_INVALID',
  '%s: the reply to "%s" does not match its reply schema (%s); fix the handler\'s return value or the schema, or set validateOutgoing: \'warn\'', 500, TypeError)
// room history and recovery
/** `FST_PACHINKO_HISTORY_UNSUPPORTED`: `keepHistory` (or a recovering join) on a backend that keeps no history. Fix: use the memory or Redis backend, or give your backend a `history`. */
export const ERR_HISTORY_UNSUPPORTED = createError<[string]>(
  'FST_PACHINKO_HISTORY_UNSUPPORTED',
  'The %s backend keeps no room history; use the memory or Redis backend, or give your backend a `history` (see docs/history.md)', 500)
/** `FST_PACHINKO_HISTORY_NOT_KEPT`: `join(room, { since })` on a room no `keepHistory` covers. Fix: declare the room with `app.ws.keepHistory` on every node. */
export const ERR_HISTORY_NOT_KEPT = createError<[string]>(
  'FST_PACHINKO_HISTORY_NOT_KEPT',
  'Room "%s" keeps no history, so there is nothing to recover; declare it with app.ws.keepHistory(rooms, { size, ttlMs }) on every node', 500)

// the change feed
/** `FST_PACHINKO_CHANGE_INVALID`: `app.ws.publishChange()` got a bad model, method, id or many. Fix: pass `{ model, method, id?, payload? }`. */
export const ERR_CHANGE_INVALID = createError<[string, string]>(
  'FST_PACHINKO_CHANGE_INVALID', 'Invalid change event: %s %s', 500, TypeError)
/** `FST_PACHINKO_CHANGE_ROUTE_INVALID`: a route of a change feed's scope has a bad `config.model` or `config.id`. Fix: the route's config. */
export const ERR_CHANGE_ROUTE_INVALID = createError<[string, string]>(
  'FST_PACHINKO_CHANGE_ROUTE_INVALID', 'Route %s: %s', 500, TypeError)
/** `FST_PACHINKO_CHANGE_FEED_DUPLICATE`: a change feed is registered in a scope that has one, or in one nested in it. Fix: one feed per scope. */
export const ERR_CHANGE_FEED_DUPLICATE = createError<[string]>(
  'FST_PACHINKO_CHANGE_FEED_DUPLICATE',
  'A change feed is already registered in this scope or one it is nested in (at "%s"); register one feed per scope, in sibling scopes if you need several', 500)

// channels hub
/** `FST_PACHINKO_HUB_PATTERN_INVALID`: `hub.channel` got an empty, reserved, malformed or duplicate topic pattern. */
export const ERR_HUB_PATTERN_INVALID = createError<[string, string]>(
  'FST_PACHINKO_HUB_PATTERN_INVALID', 'Invalid topic pattern "%s": %s', 500, TypeError)
/** `FST_PACHINKO_HUB_NOT_CHANNEL`: `hub.channel` got something that is not a `Channel` subclass. */
export const ERR_HUB_NOT_CHANNEL = createError<[string, string]>(
  'FST_PACHINKO_HUB_NOT_CHANNEL', 'hub.channel("%s"): %s is not a Channel subclass; extend Channel from fastify-pachinko', 500, TypeError)
/** `FST_PACHINKO_HUB_EVENT_INVALID`: `@handlesEvent` got an empty or reserved event, one bound twice, or a non-method. */
export const ERR_HUB_EVENT_INVALID = createError<[string, string]>(
  'FST_PACHINKO_HUB_EVENT_INVALID', '%s: %s', 500, TypeError)
/** `FST_PACHINKO_HUB_NOT_SERIALIZABLE`: a hub payload is not a JSON-serialisable object. */
export const ERR_HUB_NOT_SERIALIZABLE = createError<[string, { cause: unknown }?]>(
  'FST_PACHINKO_HUB_NOT_SERIALIZABLE', 'A hub payload must be a JSON-serialisable object: %s', 500, TypeError)
/** `FST_PACHINKO_HUB_NOT_SERVED`: `broadcast` on a hub that no served hub includes. */
export const ERR_HUB_NOT_SERVED = createError<[]>(
  'FST_PACHINKO_HUB_NOT_SERVED', 'This hub is not served on any path: declare it with app.addWebSocketHub(path) or include it in one that is', 500)
// hub presence
/** `FST_PACHINKO_HUB_PRESENCE_OFF`: presence used on a topic whose channel was declared without it. */
export const ERR_HUB_PRESENCE_OFF = createError<[string]>(
  'FST_PACHINKO_HUB_PRESENCE_OFF', 'Topic "%s" has no presence: declare its channel with hub.channel(pattern, Channel, { presence: true })', 500)
