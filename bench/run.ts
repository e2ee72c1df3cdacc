import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { parseConfig, type Config, type ScenarioId } from './config.js'
import { contender, type ContenderInfo } from './contenders/index.js'
import { waitForQuiet } from './machine.js'
import { runOnce, type RunResult } from './measure.js'
import { redisBackendAvailable, repoRoot, resultsDir } from './paths.js'
import { comparisonsTable, featuresTable, markdown, ratiosTable, resultsTable, targetsTable } from './report/markdown.js'
import { summarize } from './report/summary.js'
import { svg } from './report/svg.js'
import { scenario as scenarioById } from './scenarios.js'
import { kib, num, pct } from './report/format.js'

/*
 * `npm run bench`: every selected scenario × contender × repeat, each run in
 * fresh child processes, contenders interleaved within a repeat; then one
 * report (stdout, and bench/results/<out>.{md,json,svg}). Progress on stderr.
 */

/** Before each run, wait up to this long for other processes to go under --noise-limit… */
const QUIET_RUN_MS = 15000
/** …and at most this long over the whole bench, so a busy machine makes a noisier report rather than an endless run. */
const QUIET_TOTAL_MS = 180000

const progress = (line: string): void => { process.stderr.write(line + '\n') }

async function main (): Promise<void> {
  let config: Config
  try {
    config = parseConfig(process.argv.slice(2), process.env)
  } catch (err) {
    progress((err as Error).message)
    process.exitCode = 2
    return
  }
  const began = performance.now()
  const redisPrefix = `pachinko-bench:${Date.now().toString(36)}:${process.pid}:`
  const { plan, notApplicable } = await buildPlan(config)
  const { runs, quietMs } = await runPlan(plan, config, redisPrefix, began)
  if (plan.some((p) => scenarioById(p.scenario).nodes === 2)) await cleanRedis(config.redisUrl, redisPrefix)

  const summary = summarize(runs, config, { ...meta(began), waitedForQuiet: `${Math.round(quietMs / 1000)} s` }, notApplicable)
  mkdirSync(resultsDir, { recursive: true })
  const base = join(resultsDir, config.out)
  writeFileSync(`${base}.md`, markdown(summary))
  writeFileSync(`${base}.json`, JSON.stringify(summary, null, 2) + '\n')
  writeFileSync(`${base}.svg`, svg(summary))
  process.stdout.write(`\n${resultsTable(summary)}\n\n${ratiosTable(summary)}\n\n${comparisonsTable(summary)}\n\n${targetsTable(summary)}\n\n${featuresTable(summary)}\n\n`)
  progress(`bench: wrote ${base}.{md,json,svg} in ${elapsed(began)}`)
  if (runs.some((r) => !r.ok)) process.exitCode = 1
}

interface Step { scenario: ScenarioId, contenders: ContenderInfo[] }

/** Which contenders run in each scenario, and why the others cannot (two nodes: Redis and pachinko's Redis backend). */
async function buildPlan (config: Config): Promise<{ plan: Step[], notApplicable: Map<ScenarioId, Array<{ contender: string, reason: string }>> }> {
  const notApplicable = new Map<ScenarioId, Array<{ contender: string, reason: string }>>()
  const plan: Step[] = []
  for (const id of config.scenarios) {
    const s = scenarioById(id)
    const skipped: Array<{ contender: string, reason: string }> = []
    let contenders = config.contenders.map(contender).filter((c) => s.module(c) !== undefined)
    if (s.nodes === 2) {
      if (contenders.some((c) => c.name === 'pachinko') && !redisBackendAvailable()) {
        skipped.push({ contender: 'pachinko', reason: 'n/a (no Redis backend yet)' })
        contenders = contenders.filter((c) => c.name !== 'pachinko')
      }
      const down = contenders.length === 0 ? undefined : await redisProblem(config.redisUrl)
      if (down !== undefined) {
        for (const c of contenders) skipped.push({ contender: c.name, reason: `n/a (Redis at ${config.redisUrl}: ${down})` })
        contenders = []
      }
    }
    notApplicable.set(id, skipped)
    if (contenders.length > 0) plan.push({ scenario: id, contenders })
  }
  return { plan, notApplicable }
}

/** Runs every step, repeat by repeat, with the quiet wait and the retries; progress on stderr. */
async function runPlan (plan: Step[], config: Config, redisPrefix: string, began: number): Promise<{ runs: RunResult[], quietMs: number }> {
  const total = plan.reduce((n, p) => n + p.contenders.length * config.repeats, 0)
  progress(`bench: ${total} runs (${config.quick ? 'quick' : `${config.repeats} repeats`}) — scenarios ${config.scenarios.join(', ')}; contenders ${config.contenders.join(', ')}`)
  const runs: RunResult[] = []
  let quietBudget = QUIET_TOTAL_MS
  const quiet = async (): Promise<void> => {
    if (config.quick || quietBudget <= 0) return
    quietBudget -= await waitForQuiet(config.noiseLimit / 100, Math.min(QUIET_RUN_MS, quietBudget), (load) => {
      progress(`  waiting up to ${Math.round(Math.min(QUIET_RUN_MS, quietBudget) / 1000)} s for the machine to quieten (other processes use ${pct(load)} of a core)`)
    })
  }
  for (const { scenario: id, contenders } of plan) {
    const s = scenarioById(id)
    let retriesLeft = Math.ceil(contenders.length * config.repeats / 4) * Math.min(config.retries, 1)
    for (let repeat = 0; repeat < config.repeats; repeat++) {
      // rotate the order each repeat so no contender always runs first (or right after the heaviest)
      const order = contenders.map((_, i) => contenders[(i + repeat) % contenders.length])
      for (const c of order) {
        await quiet()
        let result = await runOnce(s, c, { config, repeat, redisPrefix })
        for (let attempt = 2; attempt <= 1 + config.retries && retriesLeft > 0 && retryable(result, config); attempt++) {
          retriesLeft--
          progress(`  ${id} · ${c.name} · run ${repeat + 1}: ${result.ok ? `noisy (other processes ${pct(result.otherCpu as number)} of a core)` : 'failed'}; attempt ${attempt}`)
          await quiet()
          result = better(result, await runOnce(s, c, { config, repeat, redisPrefix }))
          result.attempts = attempt
        }
        runs.push(result)
        progress(`[${String(runs.length).padStart(String(total).length)}/${total} ${elapsed(began)}] (${s.letter}) ${id} · ${c.name} · run ${repeat + 1}/${config.repeats} · ${describe(result)}`)
      }
    }
  }
  return { runs, quietMs: QUIET_TOTAL_MS - Math.max(0, quietBudget) }
}

function retryable (r: RunResult, config: Config): boolean {
  return !r.ok || (r.otherCpu !== undefined && r.otherCpu * 100 > config.noiseLimit)
}

/** The run to keep of two attempts: a successful one, then the quieter one. */
function better (a: RunResult, b: RunResult): RunResult {
  if (a.ok !== b.ok) return a.ok ? a : b
  return (b.otherCpu ?? 0) < (a.otherCpu ?? 0) ? b : a
}

function describe (r: RunResult): string {
  if (!r.ok) return `FAILED: ${r.problems.join('; ')}`
  if (r.rssPerConn !== undefined) return `RSS ${kib(r.rssPerConn)}/conn, heap ${kib(r.heapPerConn as number)}/conn`
  const saturated = r.saturated === true ? ' (load-gen saturated)' : ''
  const other = r.otherCpu === undefined ? '' : ` / other ${pct(r.otherCpu)}`
  return `${num(r.rate as number)}/s, ${num(r.serverUsPerUnit as number)} µs/unit, p99 ${num(r.p99Ms as number)} ms, CPU server ${pct(r.serverCpu as number)} / gen ${pct(r.loadgenCpu as number)}${other}${saturated}`
}

function elapsed (began: number): string {
  const s = Math.round((performance.now() - began) / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

function meta (began: number): Record<string, string | number> {
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (execFileSync('git', ['status', '--porcelain', 'lib'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '') commit += ' (lib/ has uncommitted changes)'
  } catch {}
  return { date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', commit, duration: elapsed(began) }
}

async function redisProblem (url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    redis.disconnect()
  }
}

/** Deletes whatever keys this run's prefix left behind (never anything else). */
async function cleanRedis (url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } catch (err) {
    progress(`bench: could not clean Redis keys ${prefix}*: ${(err as Error).message}`)
  } finally {
    redis.disconnect()
  }
}

await main()
