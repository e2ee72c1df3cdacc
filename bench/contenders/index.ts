import type { ClientKind, ContenderModule } from './contender.js'

/** A contender as the orchestrator knows it. */
export interface ContenderInfo {
  /** The name used on the command line and in results. */
  readonly name: string
  /** How it appears in reports. */
  readonly label: string
  readonly client: ClientKind
  /** Its module under bench/contenders/, for one node and (when it has one) for two nodes over Redis. */
  readonly module: string
  readonly clusterModule?: string
  /** A variant of pachinko that measures one feature's cost: it runs only in these scenarios, against `versus` (default: plain pachinko). */
  readonly feature?: { readonly scenarios: readonly string[], readonly what: string, readonly versus?: string }
}

/** Every contender, in report order. Add a new one here and in a file of its own. */
export const CONTENDERS: readonly ContenderInfo[] = [
  { name: 'ws', label: '1 ws hand-written', client: 'ws', module: 'ws-plain' },
  { name: 'ws-fast', label: '1b ws + encode-once + cork', client: 'ws', module: 'ws-fast' },
  { name: 'fastify-ws', label: '2 @fastify/websocket hand-written', client: 'ws', module: 'fastify-ws' },
  { name: 'socketio', label: '3 socket.io', client: 'socket.io', module: 'socketio', clusterModule: 'socketio-redis' },
  { name: 'pachinko', label: '4 fastify-pachinko', client: 'ws', module: 'pachinko', clusterModule: 'pachinko-redis' },
  { name: 'pachinko-validated', label: '4v pachinko + validateOutgoing', client: 'ws', module: 'pachinko-validated', feature: { scenarios: ['echo', 'fanout'], what: 'validateOutgoing (static emits checked on every send)' } },
  { name: 'pachinko-hub', label: '4c pachinko channels hub (Phoenix protocol)', client: 'phoenix', module: 'pachinko-hub', feature: { scenarios: ['echo', 'fanout'], what: 'the channels hub instead of a resource route (a topic instead of a room)' } },
  { name: 'pachinko-deflate', label: '4d pachinko + permessage-deflate', client: 'ws-deflate', module: 'pachinko-deflate', feature: { scenarios: ['echo', 'fanout', 'memory'], what: 'permessage-deflate (ws defaults)' } },
  { name: 'pachinko-history', label: '4h pachinko + room history', client: 'ws', module: 'pachinko-history', feature: { scenarios: ['fanout'], what: 'room history (offset and epoch on every broadcast, the last 100 kept)' } },
  { name: 'pachinko-flush1', label: '4f1 pachinko + flushDelayMs: 1', client: 'ws', module: 'pachinko-flush1', feature: { scenarios: ['fanout-paced'], what: 'flushDelayMs: 1' } },
  { name: 'pachinko-flush5', label: '4f5 pachinko + flushDelayMs: 5', client: 'ws', module: 'pachinko-flush5', feature: { scenarios: ['fanout-paced'], what: 'flushDelayMs: 5' } },
  { name: 'pachinko-presence', label: '4p pachinko hub + presence', client: 'phoenix', module: 'pachinko-presence', feature: { scenarios: ['presence-burst'], what: 'presence, diffs batched every 100 ms (÷ a hub join without presence, 4c)', versus: 'pachinko-hub' } },
  { name: 'pachinko-presence-flush', label: '4p0 pachinko hub + presence, intervalMs: 0', client: 'phoenix', module: 'pachinko-presence-flush', feature: { scenarios: ['presence-burst'], what: 'presence, diffs flushed every event-loop turn (÷ a hub join without presence, 4c)', versus: 'pachinko-hub' } },
  { name: 'pachinko-presence-hand', label: '4p-hand presence written by hand on the hub', client: 'phoenix', module: 'pachinko-presence-hand', feature: { scenarios: ['presence-burst'], what: 'presence written by hand, one diff per join to everyone (÷ a hub join without presence, 4c)', versus: 'pachinko-hub' } }
]

export function contender (name: string): ContenderInfo {
  const found = CONTENDERS.find((c) => c.name === name)
  if (found === undefined) throw new Error(`unknown contender "${name}"; known: ${CONTENDERS.map((c) => c.name).join(', ')}`)
  return found
}

/** Loads a contender module by its file name (in the server child). */
export async function loadContender (module: string): Promise<ContenderModule> {
  if (!/^[a-z0-9-]+$/.test(module)) throw new Error(`bad contender module name "${module}"`)
  return await import(`./${module}.js`) as ContenderModule
}
