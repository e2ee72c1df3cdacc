import { CONTENDERS } from './contenders/index.js'

/*
 * Command-line flags (and BENCH_* environment variables) → one Config.
 * `--quick` swaps in small numbers for a smoke run; any explicit flag wins.
 */

export const SCENARIO_IDS = ['echo', 'echo-invalid', 'fanout', 'memory', 'two-node', 'setup', 'rpc', 'two-node-burst', 'fanout-paced', 'presence-burst'] as const
export type ScenarioId = typeof SCENARIO_IDS[number]

export interface Config {
  scenarios: ScenarioId[]
  contenders: string[]
  repeats: number
  quick: boolean
  warmupMs: number
  windowMs: number
  echoConnections: number
  echoInflight: number
  invalidEvery: number
  fanoutMembers: number
  fanoutInflight: number
  memoryConnections: number
  twoNodeMembers: number
  /** Messages the sender sends back to back in the burst scenario. */
  burst: number
  /** Paced fan-out: room size and the interval between two broadcasts. */
  pacedMembers: number
  paceMs: number
  /** Presence join burst: clients that join one topic at once. */
  presenceClients: number
  setupConcurrency: number
  /** Extra attempts for a run that failed or shared the machine (see noiseLimit); at most a quarter of all runs are retried. */
  retries: number
  /** Other processes' CPU over a window, in % of one core, above which a run is retried. */
  noiseLimit: number
  redisUrl: string
  cpuProf: boolean
  /** Report file name stem under bench/results/: `latest` for a full default run. */
  out: string
}

const FULL = {
  repeats: 3,
  warmupMs: 1000,
  windowMs: 4000,
  echoConnections: 50,
  echoInflight: 8,
  invalidEvery: 10,
  fanoutMembers: 2000,
  fanoutInflight: 2,
  memoryConnections: 5000,
  twoNodeMembers: 2000,
  burst: 200,
  pacedMembers: 50,
  paceMs: 1,
  // the hand-written peer's cost grows with the square of this
  presenceClients: 1000,
  setupConcurrency: 8,
  retries: 2,
  noiseLimit: 25
}

const QUICK: typeof FULL = {
  repeats: 1,
  warmupMs: 300,
  windowMs: 1000,
  echoConnections: 10,
  echoInflight: 8,
  invalidEvery: 10,
  fanoutMembers: 200,
  fanoutInflight: 2,
  memoryConnections: 300,
  twoNodeMembers: 200,
  burst: 50,
  pacedMembers: 20,
  paceMs: 1,
  presenceClients: 100,
  setupConcurrency: 4,
  retries: 0,
  noiseLimit: 25
}

const NUMERIC: Record<string, keyof typeof FULL> = {
  repeats: 'repeats',
  warmup: 'warmupMs',
  window: 'windowMs',
  'echo-connections': 'echoConnections',
  'echo-inflight': 'echoInflight',
  'invalid-every': 'invalidEvery',
  'fanout-members': 'fanoutMembers',
  'fanout-inflight': 'fanoutInflight',
  'memory-connections': 'memoryConnections',
  'two-node-members': 'twoNodeMembers',
  burst: 'burst',
  'paced-members': 'pacedMembers',
  pace: 'paceMs',
  'presence-clients': 'presenceClients',
  'setup-concurrency': 'setupConcurrency',
  retries: 'retries',
  'noise-limit': 'noiseLimit'
}

export const USAGE = `npm run bench -- [options]
  --scenario a,b       ${SCENARIO_IDS.join(', ')} (default: all)
  --contender a,b      ${CONTENDERS.map((c) => c.name).join(', ')} (default: all)
  --quick              small numbers, 1 repeat, short windows (a smoke run)
  --repeats N          runs per scenario and contender (default 3)
  --warmup MS --window MS   warm-up and measured window of throughput scenarios (1000, 4000)
  --echo-connections N --echo-inflight N --invalid-every N   (50, 8, 10)
  --fanout-members N --fanout-inflight N                     (2000, 2)
  --memory-connections N --two-node-members N --setup-concurrency N   (5000, 2000, 8)
  --burst N            messages sent back to back in two-node-burst (200)
  --paced-members N --pace MS   fanout-paced: room size, and one broadcast every MS (50, 1)
  --presence-clients N clients joining one topic at once in presence-burst (1000; quick 100)
  --retries N          re-run a failed or noisy run up to N more times, keeping the quietest (default 2; quick 0)
  --noise-limit PCT    a run is noisy when other processes used over PCT% of a core in its window (default 25)
  --redis-url URL      (default redis://127.0.0.1:6379, or REDIS_URL)
  --cpu-prof           profile each server over the measured window → bench/results/profiles/*.cpuprofile
  --out NAME           report name under bench/results/ (default: latest for a full run, else partial or quick)
Every flag also reads from BENCH_<FLAG> (BENCH_SCENARIO=fanout, BENCH_QUICK=1, ...).`

export function parseConfig (argv: string[], env: NodeJS.ProcessEnv): Config {
  const known = new Set([...Object.keys(NUMERIC), 'scenario', 'contender', 'quick', 'cpu-prof', 'redis-url', 'out'])
  const flags = new Map<string, string>()
  for (const [key, value] of Object.entries(env)) {
    const name = key.slice(6).toLowerCase().replace(/_/g, '-')
    if (key.startsWith('BENCH_') && value !== undefined && known.has(name)) flags.set(name, value)
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${USAGE}`)
    const [name, inline] = arg.slice(2).split('=', 2)
    if (name === 'help') throw new Error(USAGE)
    if (!known.has(name)) throw new Error(`unknown option --${name}\n${USAGE}`)
    if (name === 'quick' || name === 'cpu-prof') flags.set(name, inline ?? 'true')
    else if (inline !== undefined) flags.set(name, inline)
    else if (i + 1 < argv.length) flags.set(name, argv[++i])
    else throw new Error(`--${name} needs a value\n${USAGE}`)
  }
  const truthy = (name: string): boolean => ['1', 'true', 'yes'].includes(flags.get(name) ?? '')
  const quick = truthy('quick')
  const numbers = { ...(quick ? QUICK : FULL) }
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = flags.get(flag)
    if (raw === undefined) continue
    const value = Number(raw)
    if (!Number.isInteger(value) || value < 0 || (value === 0 && !['invalidEvery', 'retries'].includes(key))) throw new Error(`--${flag} must be a positive integer, got "${raw}"`)
    numbers[key] = value
  }
  const scenarios = list(flags.get('scenario'), SCENARIO_IDS, 'scenario') as ScenarioId[]
  const contenders = list(flags.get('contender'), CONTENDERS.map((c) => c.name), 'contender')
  const filtered = flags.has('scenario') || flags.has('contender')
  const out = flags.get('out') ?? (quick ? 'quick' : filtered ? 'partial' : 'latest')
  if (!/^[\w.-]+$/.test(out)) throw new Error(`--out must be a plain file name stem, got "${out}"`)
  return {
    ...numbers,
    scenarios,
    contenders,
    quick,
    redisUrl: flags.get('redis-url') ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    cpuProf: truthy('cpu-prof'),
    out
  }
}

function list (raw: string | undefined, allowed: readonly string[], what: string): string[] {
  if (raw === undefined || raw === '' || raw === 'all') return [...allowed]
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const item of items) if (!allowed.includes(item)) throw new Error(`unknown ${what} "${item}"; choose from ${allowed.join(', ')}`)
  return allowed.filter((a) => items.includes(a))
}
