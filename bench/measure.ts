import type { Config } from './config.js'
import { startLoad, startServer, type ServerChild } from './children.js'
import type { ContenderInfo } from './contenders/index.js'
import type { Target } from './load/client.js'
import { machineBusySeconds } from './machine.js'
import type { IdleResult } from './load/idle.js'
import type { ThroughputResult } from './load/window.js'
import type { Scenario } from './scenarios.js'
import type { CpuSnapshot, MemorySnapshot } from './server-main.js'

/*
 * One run: fresh server process(es) for one contender, a fresh load
 * generator, the task, and the server-side figures read over IPC at the
 * load generator's marks.
 */

/** The load generator is "saturated" at this share of one core: its rate is then a floor. */
export const SATURATED = 0.9

export interface RunResult {
  scenario: string
  contender: string
  repeat: number
  /** How many attempts this run took (see --retries); absent when one. */
  attempts?: number
  ok: boolean
  problems: string[]
  /** Throughput scenarios. */
  units?: number
  rate?: number
  p50Ms?: number
  p99Ms?: number
  /** Server CPU time (all nodes) per unit of work, µs. */
  serverUsPerUnit?: number
  /** Frames the server(s) wrote over the window per unit, when the contender counts them. */
  framesPerUnit?: number
  /** Server CPU over the window as a share of one core (summed over nodes). */
  serverCpu?: number
  loadgenCpu?: number
  saturated?: boolean
  /** CPU used by everything else on the machine over the window, as a share of one core (Linux only): the noise. */
  otherCpu?: number
  checks?: Record<string, number>
  /** Memory scenario: RSS and heap growth per connection, bytes. */
  rssPerConn?: number
  heapPerConn?: number
}

export interface RunContext {
  config: Config
  repeat: number
  redisPrefix: string
}

export async function runOnce (scenario: Scenario, contender: ContenderInfo, ctx: RunContext): Promise<RunResult> {
  const base: RunResult = { scenario: scenario.id, contender: contender.name, repeat: ctx.repeat, ok: false, problems: [] }
  const module = scenario.module(contender) as string
  const options = scenario.nodes === 2 ? { redis: { url: ctx.config.redisUrl, prefix: ctx.redisPrefix } } : {}
  const servers: ServerChild[] = []
  const marks = new Map<string, Array<CpuSnapshot | MemorySnapshot>>()
  const machine = new Map<string, number | undefined>()
  let load: ReturnType<typeof startLoad> | undefined
  try {
    for (let node = 0; node < scenario.nodes; node++) servers.push(await startServer(module, options))
    const targets: Target[] = servers.map((s) => contender.client === 'socket.io' ? { kind: 'socket.io', url: s.url.socketio } : { kind: contender.client, url: s.url.ws })
    load = startLoad(async (name) => {
      if (name === 'start' || name === 'end') {
        machine.set(name, machineBusySeconds())
        marks.set(name, await Promise.all(servers.map(async (s) => await s.cpu())))
        if (ctx.config.cpuProf) await profile(servers, name, `${scenario.id}-${contender.name}-${ctx.repeat + 1}`)
      } else marks.set(name, await Promise.all(servers.map(async (s) => await memoryWhenSettled(s, name === 'baseline'))))
    })
    const result = await withTimeout(load.run<ThroughputResult | IdleResult>(scenario.task(ctx.config, targets, contender)), 180000, 'the run')
    return scenario.kind === 'memory'
      ? memoryResult(base, result as IdleResult, marks)
      : throughputResult(base, result as ThroughputResult, marks, machine)
  } catch (err) {
    return { ...base, problems: [(err as Error).message.split('\n')[0]] }
  } finally {
    await load?.stop()
    await Promise.all(servers.map(async (s) => await s.stop(scenario.nodes === 2)))
  }
}

function throughputResult (base: RunResult, r: ThroughputResult, marks: Map<string, Array<CpuSnapshot | MemorySnapshot>>, machine: Map<string, number | undefined>): RunResult {
  const start = marks.get('start') as CpuSnapshot[]
  const end = marks.get('end') as CpuSnapshot[]
  let cpuUs = 0
  let wallMs = 0
  let framesOut = 0
  for (let i = 0; i < start.length; i++) {
    cpuUs += end[i].cpuUs - start[i].cpuUs
    wallMs += (end[i].at - start[i].at) / start.length
    framesOut += (end[i].framesOut ?? NaN) - (start[i].framesOut ?? NaN)
  }
  const busyStart = machine.get('start')
  const busyEnd = machine.get('end')
  const otherCpu = busyStart === undefined || busyEnd === undefined
    ? undefined
    : Math.max(0, (busyEnd - busyStart - cpuUs / 1e6 - r.loadgenCpu * r.seconds) / r.seconds)
  return {
    ...base,
    ok: r.problems.length === 0 && r.units > 0,
    problems: r.units > 0 ? r.problems : [...r.problems, 'no work completed in the window'],
    units: r.units,
    rate: r.units / r.seconds,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    serverUsPerUnit: cpuUs / r.units,
    framesPerUnit: Number.isNaN(framesOut) ? undefined : framesOut / r.units,
    serverCpu: cpuUs / 1000 / wallMs,
    loadgenCpu: r.loadgenCpu,
    saturated: r.loadgenCpu >= SATURATED,
    otherCpu,
    checks: r.checks
  }
}

function memoryResult (base: RunResult, r: IdleResult, marks: Map<string, Array<CpuSnapshot | MemorySnapshot>>): RunResult {
  const before = marks.get('baseline') as MemorySnapshot[]
  const after = marks.get('loaded') as MemorySnapshot[]
  const open = after.reduce((n, m) => n + m.connections, 0)
  const problems = [...r.problems]
  if (open < r.connected) problems.push(`server counted ${open} of ${r.connected} connections`)
  const sum = (list: MemorySnapshot[], f: (m: MemorySnapshot) => number): number => list.reduce((n, m) => n + f(m), 0)
  return {
    ...base,
    ok: problems.length === 0,
    problems,
    units: r.connected,
    rssPerConn: (sum(after, (m) => m.rss) - sum(before, (m) => m.rss)) / r.connected,
    heapPerConn: (sum(after, (m) => m.heapUsed + m.external) - sum(before, (m) => m.heapUsed + m.external)) / r.connected
  }
}

/** With --cpu-prof: profiles each server over the measured window (after its CPU was read, so the profiler's cost is not counted). */
async function profile (servers: ServerChild[], mark: string, name: string): Promise<void> {
  await Promise.all(servers.map(async (s, i) => {
    if (mark === 'start') await s.profileStart()
    else await s.profileStop(servers.length === 1 ? name : `${name}-node${i + 1}`)
  }))
}

/** Memory after gc; for the baseline, once the warm-up connections are gone (up to 10 s). */
async function memoryWhenSettled (server: ServerChild, empty: boolean): Promise<MemorySnapshot> {
  const deadline = Date.now() + 10000
  if (empty) {
    while (await server.connections() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return await server.memory()
}

async function withTimeout<T> (work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms) })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
