import { performance } from 'node:perf_hooks'

/* The measured window of a load task, and the small timing helpers the tasks share. */

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Milliseconds since the epoch with sub-ms precision, comparable across processes. */
export function nowAbs (): number {
  return performance.timeOrigin + performance.now()
}

/** Tells the orchestrator a phase began, so it can read the servers' CPU or memory at that moment. */
export type Mark = (name: string) => Promise<void>

/** The measured window of a throughput task, with the load generator's own CPU use over it. */
export class Window {
  recording = false
  private startedAt = 0
  private startCpu = 0

  constructor (private readonly mark: Mark) {}

  async open (): Promise<void> {
    this.startedAt = performance.now()
    this.startCpu = cpuUs()
    this.recording = true
    await this.mark('start')
  }

  /** Ends the window; `loadgenCpu` is the share of one core the load generator used (1 = saturated). */
  async close (): Promise<{ seconds: number, loadgenCpu: number }> {
    this.recording = false
    const seconds = (performance.now() - this.startedAt) / 1000
    const loadgenCpu = (cpuUs() - this.startCpu) / 1e6 / seconds
    await this.mark('end')
    return { seconds, loadgenCpu }
  }
}

function cpuUs (): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

/** What every throughput task reports. */
export interface ThroughputResult {
  /** Units of work completed in the window: replies, deliveries or connection cycles. */
  units: number
  seconds: number
  loadgenCpu: number
  latency: { p50: number, p99: number, max: number }
  /** Conformance checks, and anything that went wrong; an empty `problems` means the run is valid. */
  checks: Record<string, number>
  problems: string[]
}

/** Waits until `done()` holds or `ms` pass; returns whether it held. */
export async function until (done: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms
  while (!done()) {
    if (performance.now() > deadline) return false
    await sleep(10)
  }
  return true
}
