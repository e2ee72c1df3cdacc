/* Internal keys. Public objects keep their internals under these, never under public names. */

/** The rooms a connection is in, recorded by the manager (Connection). */
export const kRooms = Symbol('pachinko.rooms')
/** The labels a connection carries, recorded by the manager (Connection). */
export const kLabels = Symbol('pachinko.labels')
/** The user id a connection is identified as, recorded by the manager (Connection). */
export const kUser = Symbol('pachinko.user')
/** Writes an already-encoded frame, under the backpressure policy (Connection). */
export const kWrite = Symbol('pachinko.write')
/** The transport `ws` upgraded, corked to coalesce writes (Connection). */
export const kTransport = Symbol('pachinko.transport')
/** Whether the transport is corked until the end of this tick (Connection). */
export const kCorked = Symbol('pachinko.corked')
/** The per-connection context a resource was created with (WebSocketResource). */
export const kContext = Symbol('pachinko.context')
/** The plugin's state, decorated on the Fastify instance it was registered on. */
export const kState = Symbol('pachinko.state')
/** The WebSocket hooks of an encapsulation context (Fastify instance). */
export const kHooks = Symbol('pachinko.hooks')
/** The backend rooms and fan-out live in (ConnectionManager). */
export const kBackend = Symbol('pachinko.backend')
/** Settings every connection of a manager shares (ConnectionManager). */
export const kSettings = Symbol('pachinko.settings')
/** Registers a connection that just opened (ConnectionManager). */
export const kAdd = Symbol('pachinko.add')
/** Unregisters a connection that closed, cluster-wide (ConnectionManager). */
export const kRemove = Symbol('pachinko.remove')
/** The named routes, for `urlFor` (ConnectionManager). */
export const kRouteNames = Symbol('pachinko.routeNames')
/** On an injected upgrade request (the testing helper): what the route tells the test about itself. */
export const kUpgradeProbe = Symbol('pachinko.upgradeProbe')
/** The server→client requests awaiting a reply on a connection (Connection). */
export const kRequests = Symbol('pachinko.requests')
/** The wire names (discriminator, reply field) of the route a connection belongs to (Connection). */
export const kWire = Symbol('pachinko.wire')
/** The subprotocol chosen for an upgrade before ws completes it (raw request). */
export const kProtocol = Symbol('pachinko.protocol')
/** The body an HTTP route of a change feed sent, kept from its last onSend hook until onResponse (FastifyRequest). */
export const kChangeBody = Symbol('pachinko.changeBody')
/** The session a socket's shared listeners run (Session). */
export const kSession = Symbol('pachinko.session')
export const kHubSocket = Symbol('pachinko.hubSocket')
/** When a connection's credential expires, epoch ms (Connection). */
export const kExpiresAt = Symbol('pachinko.expiresAt')
/** What answers a connection's credential refresh: its resource, or the hub's socket (Connection). */
export const kRefresher = Symbol('pachinko.refresher')
/** What admission decided about an upgrade before it happened: the subject, the counts to release (raw request). */
export const kAdmission = Symbol('pachinko.admission')
/** Where revocations are kept: the backend's store, or this node's (ConnectionManager). */
export const kRevocations = Symbol('pachinko.revocations')
/** A channel's context: its topic, join ref, socket and hub (Channel). */
export const kChannel = Symbol('pachinko.channel')
/** Writes a hub frame the hub encoded itself, past the broadcast filter (HubConnection). */
export const kWriteOwn = Symbol('pachinko.writeOwn')
/** What the hub's `connect` returned for an upgrade request: the socket's assigns (raw request). */
export const kHubAssigns = Symbol('pachinko.hubAssigns')
/** Joins a room without the `authorizeJoin` check: hub subscriptions (ConnectionManager). */
export const kSubscribe = Symbol('pachinko.subscribe')
/** The hub's run-time half, once it is served on a path (WebSocketHub). */
export const kHubRuntime = Symbol('pachinko.hubRuntime')
