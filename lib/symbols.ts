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
/** The server→client requests awaiting a reply on a connection (Connection). */
export const kRequests = Symbol('pachinko.requests')
/** The wire names (discriminator, reply field) of the route a connection belongs to (Connection). */
export const kWire = Symbol('pachinko.wire')
/** The subprotocol chosen for an upgrade before ws completes it (raw request). */
export const kProtocol = Symbol('pachinko.protocol')
