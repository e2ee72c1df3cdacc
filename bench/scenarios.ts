import type { Config, ScenarioId } from './config.js'
import type { ContenderInfo } from './contenders/index.js'
import type { Target } from './load/client.js'
import type { Task } from './load/main.js'

/*
 * The scenarios: what the load generator does, on how many nodes, and
 * which figure is the "unit" server CPU is divided by.
 */

export interface Scenario {
  readonly id: ScenarioId
  /** The letter used in the issue and the report: (a)…(j). */
  readonly letter: string
  readonly title: string
  /** Throughput scenarios report rate, latency and CPU per unit; `memory` reports bytes per connection. */
  readonly kind: 'throughput' | 'memory'
  /** What one unit of work is: the denominator of "server µs per …". */
  readonly unit: 'msg' | 'delivery' | 'connection' | 'join'
  readonly nodes: 1 | 2
  /** The contender's module for this scenario, or undefined when it does not take part. */
  module (contender: ContenderInfo): string | undefined
  task (config: Config, targets: Target[], contender: ContenderInfo): Task
}

/** Feature variants of pachinko run only in the scenarios they measure. */
const only = (id: string) => (c: ContenderInfo): string | undefined => c.feature === undefined || c.feature.scenarios.includes(id) ? c.module : undefined

/** The presence burst's contenders other than the hub without presence, its baseline. */
const tracksPresence = (c: ContenderInfo): boolean => c.feature?.scenarios.includes('presence-burst') === true

/** The presence burst's warm-up: a tenth as many clients, on a topic of their own. */
export const presenceWarmupClients = (clients: number): number => Math.max(1, Math.round(clients / 10))

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'echo',
    letter: 'a',
    title: 'echo round trips with validation',
    kind: 'throughput',
    unit: 'msg',
    nodes: 1,
    module: only('echo'),
    task: (config, targets) => ({ kind: 'echo', targets, connections: config.echoConnections, inflight: config.echoInflight, invalidEvery: 0, warmupMs: config.warmupMs, windowMs: config.windowMs })
  },
  {
    id: 'echo-invalid',
    letter: 'b',
    title: 'echo with 10% invalid messages (error frames verified)',
    kind: 'throughput',
    unit: 'msg',
    nodes: 1,
    module: only('echo-invalid'),
    task: (config, targets) => ({ kind: 'echo', targets, connections: config.echoConnections, inflight: config.echoInflight, invalidEvery: config.invalidEvery, warmupMs: config.warmupMs, windowMs: config.windowMs })
  },
  {
    id: 'fanout',
    letter: 'c',
    title: 'fan-out to one room',
    kind: 'throughput',
    unit: 'delivery',
    nodes: 1,
    module: only('fanout'),
    task: (config, targets) => ({ kind: 'fanout', targets, members: config.fanoutMembers, inflight: config.fanoutInflight, warmupMs: config.warmupMs, windowMs: config.windowMs, room: 'fanout' })
  },
  {
    id: 'memory',
    letter: 'd',
    title: 'memory per idle joined connection',
    kind: 'memory',
    unit: 'connection',
    nodes: 1,
    module: only('memory'),
    task: (config, targets) => ({ kind: 'idle', targets, connections: config.memoryConnections, warmupConnections: Math.min(100, config.memoryConnections), room: 'idle' })
  },
  {
    id: 'two-node',
    letter: 'e',
    title: 'fan-out across two nodes over Redis',
    kind: 'throughput',
    unit: 'delivery',
    nodes: 2,
    module: (c) => c.feature === undefined ? c.clusterModule : undefined,
    task: (config, targets) => ({ kind: 'fanout', targets, members: config.twoNodeMembers, inflight: config.fanoutInflight, warmupMs: config.warmupMs, windowMs: config.windowMs, room: 'fanout' })
  },
  {
    id: 'setup',
    letter: 'f',
    title: 'connection setup (upgrade, join, close)',
    kind: 'throughput',
    unit: 'connection',
    nodes: 1,
    module: only('setup'),
    task: (config, targets) => ({ kind: 'setup', targets, concurrency: config.setupConcurrency, warmupMs: Math.min(config.warmupMs, 500), windowMs: config.windowMs, room: 'setup' })
  },
  {
    id: 'rpc',
    letter: 'g',
    title: 'request/reply round trips (a ref on every message, the reply frame back)',
    kind: 'throughput',
    unit: 'msg',
    nodes: 1,
    // request/reply is pachinko's own protocol: the figure to compare is its echo's (scenario a)
    module: (c) => c.name === 'pachinko' ? c.module : undefined,
    task: (config, targets) => ({ kind: 'echo', targets, connections: config.echoConnections, inflight: config.echoInflight, invalidEvery: 0, warmupMs: config.warmupMs, windowMs: config.windowMs, rpc: true })
  },
  {
    id: 'two-node-burst',
    letter: 'h',
    title: 'fan-out across two nodes over Redis, bursts of back-to-back messages from one sender',
    kind: 'throughput',
    unit: 'delivery',
    nodes: 2,
    module: (c) => c.feature === undefined ? c.clusterModule : undefined,
    task: (config, targets) => ({ kind: 'fanout', targets, members: config.twoNodeMembers, inflight: 1, burst: config.burst, warmupMs: config.warmupMs, windowMs: config.windowMs, room: 'fanout' })
  },
  {
    id: 'fanout-paced',
    letter: 'i',
    title: 'paced fan-out (one broadcast every few ms, open loop): what flushDelayMs trades',
    kind: 'throughput',
    unit: 'delivery',
    nodes: 1,
    // pachinko at each flush delay, against the practical limit
    module: (c) => (c.feature === undefined ? ['pachinko', 'ws-fast'].includes(c.name) : c.feature.scenarios.includes('fanout-paced')) ? c.module : undefined,
    task: (config, targets) => ({ kind: 'fanout', targets, members: config.pacedMembers, inflight: 1, paceMs: config.paceMs, warmupMs: config.warmupMs, windowMs: config.windowMs, room: 'fanout' })
  },
  {
    id: 'presence-burst',
    letter: 'j',
    title: 'presence join burst (N clients join one hub topic at once)',
    kind: 'throughput',
    unit: 'join',
    nodes: 1,
    // the hub's own join is the baseline: presence is a hub feature
    module: (c) => c.name === 'pachinko-hub' || tracksPresence(c) ? c.module : undefined,
    task: (config, targets, c) => ({ kind: 'presence', targets, clients: config.presenceClients, warmupClients: presenceWarmupClients(config.presenceClients), presence: tracksPresence(c), room: 'presence' })
  }
]

export function scenario (id: ScenarioId): Scenario {
  return SCENARIOS.find((s) => s.id === id) as Scenario
}
