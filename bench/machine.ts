/*
 * How busy the rest of the machine is. The bench shares two cores with
 * whatever else runs (other people's test suites): runs are flagged, retried
 * and preceded by a short wait for quiet based on these readings. Linux only
 * (/proc/stat); elsewhere they read as undefined and nothing waits.
 */

import { readFileSync } from 'node:fs'

/** CPU seconds the whole machine has been busy since boot, or undefined off Linux. */
export function machineBusySeconds (): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    const [user, nice, system, , , irq, softirq, steal] = fields
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100
  } catch {
    return undefined
  }
}

/** The machine's CPU use over `ms`, as a share of one core (call it while none of the bench's children run). */
export async function machineLoad (ms = 500): Promise<number | undefined> {
  const before = machineBusySeconds()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const after = machineBusySeconds()
  return before === undefined || after === undefined ? undefined : (after - before) / (ms / 1000)
}

/** Waits until the machine's load is under `limit` (share of a core) or `maxMs` passed; resolves with the time waited. */
export async function waitForQuiet (limit: number, maxMs: number, onBusy: (load: number) => void): Promise<number> {
  const began = Date.now()
  let told = false
  while (Date.now() - began < maxMs) {
    const load = await machineLoad()
    if (load === undefined || load <= limit) break
    if (!told) onBusy(load)
    told = true
  }
  return Date.now() - began
}
