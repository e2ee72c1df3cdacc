import type { Config, ScenarioId } from '../config.js'
import { CONTENDERS } from '../contenders/index.js'
import type { RunResult } from '../measure.js'
import { scenario as scenarioById } from '../scenarios.js'
import { spread, type Spread } from '../stats.js'

/*
 * From runs to what the report shows: per scenario and contender the median
 * with min–max of each figure; pachinko ÷ each peer computed pair-by-pair
 * (same repeat, same run); and the targets with pass/miss.
 */

export const SUBJECT = 'pachinko'
/** The peers pachinko is compared with, in report order. */
export const PEERS = ['ws-fast', 'fastify-ws', 'socketio'] as const

export interface Cell {
  contender: string
  label: string
  runs: number
  okRuns: number
  rate?: Spread
  p50Ms?: Spread
  p99Ms?: Spread
  serverUsPerUnit?: Spread
  framesPerUnit?: Spread
  serverCpu?: Spread
  loadgenCpu?: Spread
  saturatedRuns: number
  otherCpu?: Spread
  rssPerConn?: Spread
  heapPerConn?: Spread
  /** The load generator's conformance counters, summed over runs. */
  checks: Record<string, number>
  problems: string[]
}

export interface Ratio {
  versus: string
  /** pachinko's cost (server µs per unit, or bytes per connection) ÷ the peer's: below 1 is better. */
  cost?: Spread
  /** pachinko's rate ÷ the peer's: above 1 is better. */
  rate?: Spread
}

/** A ratio outside pachinko ÷ PEERS: one contender ÷ another in the same scenario, run by run. */
export interface Comparison extends Ratio {
  scenario: ScenarioId
  subject: string
}

export interface ScenarioSummary {
  id: ScenarioId
  letter: string
  title: string
  kind: 'throughput' | 'memory'
  unit: string
  cells: Cell[]
  ratios: Ratio[]
  /** Contenders that could not take part, and why. */
  notApplicable: Array<{ contender: string, reason: string }>
}

export interface TargetResult {
  scenario: ScenarioId
  text: string
  versus?: string
  limit: number
  strict: boolean
  measured?: Spread
  status: 'pass' | 'miss' | 'n/a'
  note: string
}

export interface Summary {
  meta: Record<string, string | number>
  config: Config
  scenarios: ScenarioSummary[]
  targets: TargetResult[]
  /** What a pachinko feature costs: the variant's figure ÷ plain pachinko's, run by run. */
  features?: FeatureCost[]
  /** The COMPARISONS measured in this run. */
  comparisons?: Comparison[]
  runs: RunResult[]
}

/** One feature's cost in one scenario. */
export interface FeatureCost {
  feature: string
  scenario: ScenarioId
  /** variant ÷ pachinko: server CPU per unit, or RSS per connection for memory. */
  cost?: Spread
  /** For memory: the variant's extra bytes per connection (RSS). */
  extraBytes?: Spread
}

const TARGETS: Array<Omit<TargetResult, 'measured' | 'status' | 'note'>> = [
  { scenario: 'echo', text: 'echo: server µs/msg ≤ 1.25 × contender 1b', versus: 'ws-fast', limit: 1.25, strict: false },
  { scenario: 'echo', text: 'echo: cheaper than contender 2 (ratio < 1)', versus: 'fastify-ws', limit: 1, strict: true },
  { scenario: 'echo-invalid', text: 'echo, 10% invalid: ≤ 1.25 × contender 1b', versus: 'ws-fast', limit: 1.25, strict: false },
  { scenario: 'echo-invalid', text: 'echo, 10% invalid: cheaper than contender 2', versus: 'fastify-ws', limit: 1, strict: true },
  { scenario: 'fanout', text: 'fan-out: server µs/delivery ≤ 1.2 × contender 1b', versus: 'ws-fast', limit: 1.2, strict: false },
  { scenario: 'memory', text: 'RSS per idle joined connection ≤ 12 KiB', limit: 12 * 1024, strict: false },
  { scenario: 'setup', text: 'setup: server µs/connection ≤ 1.2 × contender 2', versus: 'fastify-ws', limit: 1.2, strict: false },
  { scenario: 'two-node', text: 'two-node fan-out: server µs/delivery ≤ socket.io + redis-adapter', versus: 'socketio', limit: 1, strict: false },
  { scenario: 'two-node-burst', text: 'two-node bursts: server µs/delivery ≤ 0.5 × socket.io + redis-adapter', versus: 'socketio', limit: 0.5, strict: false }
]

/** Where the peer is not one of PEERS: batched presence against presence written by hand on the same hub. */
const COMPARISONS: Array<{ scenario: ScenarioId, subject: string, versus: string }> = [
  { scenario: 'presence-burst', subject: 'pachinko-presence', versus: 'pachinko-presence-hand' },
  { scenario: 'presence-burst', subject: 'pachinko-presence-flush', versus: 'pachinko-presence-hand' }
]

export function summarize (runs: RunResult[], config: Config, meta: Summary['meta'], notApplicable: Map<ScenarioId, Array<{ contender: string, reason: string }>>): Summary {
  const scenarios: ScenarioSummary[] = config.scenarios.map((id) => {
    const s = scenarioById(id)
    const mine = runs.filter((r) => r.scenario === id)
    const cells = CONTENDERS.filter((c) => mine.some((r) => r.contender === c.name)).map((c) => cell(c.name, c.label, mine.filter((r) => r.contender === c.name)))
    const ratios = PEERS.map((peer) => ratio(mine, SUBJECT, peer, s.kind)).filter((r): r is Ratio => r !== undefined)
    return { id, letter: s.letter, title: s.title, kind: s.kind, unit: s.unit, cells, ratios, notApplicable: notApplicable.get(id) ?? [] }
  })
  const targets = TARGETS.filter((t) => config.scenarios.includes(t.scenario)).map((t) => judge(t, scenarios.find((s) => s.id === t.scenario) as ScenarioSummary))
  const comparisons = COMPARISONS.flatMap((c) => {
    const found = ratio(runs.filter((r) => r.scenario === c.scenario), c.subject, c.versus, 'throughput')
    return found === undefined ? [] : [{ ...found, scenario: c.scenario, subject: c.subject }]
  })
  return { meta, config, scenarios, targets, features: featureCosts(runs), comparisons, runs }
}

/** Each feature variant ÷ plain pachinko (or its `versus`) in the same scenario and repeat; request/reply (g) ÷ pachinko's echo (a). */
function featureCosts (runs: RunResult[]): FeatureCost[] {
  const found: FeatureCost[] = []
  const pairs: Array<{ feature: string, scenario: ScenarioId, mine: (r: RunResult) => boolean, base: (r: RunResult) => boolean }> = []
  for (const c of CONTENDERS) {
    for (const id of c.feature?.scenarios ?? []) {
      const base = c.feature?.versus ?? SUBJECT
      pairs.push({ feature: c.feature?.what as string, scenario: id as ScenarioId, mine: (r) => r.contender === c.name && r.scenario === id, base: (r) => r.contender === base && r.scenario === id })
    }
  }
  pairs.push({ feature: 'request/reply (a ref and a reply frame) vs a plain echo', scenario: 'rpc', mine: (r) => r.contender === SUBJECT && r.scenario === 'rpc', base: (r) => r.contender === SUBJECT && r.scenario === 'echo' })
  pairs.push({ feature: 'two nodes over Redis, bursts (h) vs one node (c)', scenario: 'two-node-burst', mine: (r) => r.contender === SUBJECT && r.scenario === 'two-node-burst', base: (r) => r.contender === SUBJECT && r.scenario === 'fanout' })
  for (const pair of pairs) {
    const costs: number[] = []
    const extra: number[] = []
    for (const mine of runs.filter((r) => r.ok && pair.mine(r))) {
      const base = runs.find((r) => r.ok && pair.base(r) && r.repeat === mine.repeat)
      if (base === undefined) continue
      if (mine.rssPerConn !== undefined) {
        costs.push(mine.rssPerConn / (base.rssPerConn as number))
        extra.push(mine.rssPerConn - (base.rssPerConn as number))
      } else {
        costs.push((mine.serverUsPerUnit as number) / (base.serverUsPerUnit as number))
      }
    }
    if (costs.length > 0) found.push({ feature: pair.feature, scenario: pair.scenario, cost: spread(costs), extraBytes: spread(extra) })
  }
  return found
}

function cell (name: string, label: string, runs: RunResult[]): Cell {
  const ok = runs.filter((r) => r.ok)
  const of = (f: (r: RunResult) => number | undefined): Spread | undefined => spread(ok.map(f))
  return {
    contender: name,
    label,
    runs: runs.length,
    okRuns: ok.length,
    rate: of((r) => r.rate),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    serverUsPerUnit: of((r) => r.serverUsPerUnit),
    framesPerUnit: of((r) => r.framesPerUnit),
    serverCpu: of((r) => r.serverCpu),
    loadgenCpu: of((r) => r.loadgenCpu),
    saturatedRuns: ok.filter((r) => r.saturated === true).length,
    otherCpu: of((r) => r.otherCpu),
    rssPerConn: of((r) => r.rssPerConn),
    heapPerConn: of((r) => r.heapPerConn),
    checks: sumChecks(runs),
    problems: [...new Set(runs.flatMap((r) => r.problems.map((p) => `run ${r.repeat + 1}: ${p}`)))]
  }
}

function sumChecks (runs: RunResult[]): Record<string, number> {
  const total: Record<string, number> = {}
  for (const run of runs) for (const [key, value] of Object.entries(run.checks ?? {})) total[key] = (total[key] ?? 0) + value
  return total
}

/** subject ÷ peer per repeat where both runs succeeded, then median and min–max over repeats. */
function ratio (runs: RunResult[], subject: string, peer: string, kind: 'throughput' | 'memory'): Ratio | undefined {
  const costs: number[] = []
  const rates: number[] = []
  for (const mine of runs.filter((r) => r.contender === subject && r.ok)) {
    const theirs = runs.find((r) => r.contender === peer && r.repeat === mine.repeat && r.ok)
    if (theirs === undefined) continue
    if (kind === 'memory') {
      costs.push((mine.rssPerConn as number) / (theirs.rssPerConn as number))
    } else {
      costs.push((mine.serverUsPerUnit as number) / (theirs.serverUsPerUnit as number))
      rates.push((mine.rate as number) / (theirs.rate as number))
    }
  }
  if (costs.length === 0) return undefined
  return { versus: peer, cost: spread(costs), rate: spread(rates) }
}

function judge (t: Omit<TargetResult, 'measured' | 'status' | 'note'>, s: ScenarioSummary): TargetResult {
  const measured = t.versus === undefined
    ? s.cells.find((c) => c.contender === SUBJECT)?.rssPerConn
    : s.ratios.find((r) => r.versus === t.versus)?.cost
  if (measured === undefined) {
    const na = s.notApplicable.find((n) => n.contender === SUBJECT)
    return { ...t, status: 'n/a', note: na?.reason ?? 'not measured in this run' }
  }
  const passes = (v: number): boolean => t.strict ? v < t.limit : v <= t.limit
  const status = passes(measured.median) ? 'pass' : 'miss'
  const note = passes(measured.min) !== passes(measured.max) ? 'marginal: the min–max range straddles the target' : ''
  return { ...t, measured, status, note }
}
