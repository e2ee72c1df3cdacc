/* Internal keys. Public objects keep their internals under these, never under public names. */

/** The rooms a connection is in on this node (Connection). */
export const kRooms = Symbol('pachinko.rooms')
/** The per-connection context a resource was created with (WebSocketResource). */
export const kContext = Symbol('pachinko.context')
/** The labels a connection carries (Connection). */
export const kLabels = Symbol('pachinko.labels')
/** The user id a connection is identified as (Connection). */
export const kUser = Symbol('pachinko.user')
/** The plugin's state, decorated on the Fastify instance it was registered on. */
export const kState = Symbol('pachinko.state')
/** The WebSocket hooks of an encapsulation context (Fastify instance). */
export const kHooks = Symbol('pachinko.hooks')
