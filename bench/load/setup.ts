import { performance } from 'node:perf_hooks'
import { Samples } from '../stats.js'
import type { Target } from './client.js'
import { Conn } from './pool.js'
import { sleep, Window, type Mark, type ThroughputResult } from './window.js'

/** Connection setup: `concurrency` loops of connect → join → joined → close, back to back. */
export interface SetupTask {
  kind: 'setup'
  targets: Target[]
  concurrency: number
  warmupMs: number
  windowMs: number
  room: string
}

export async function runSetup (task: SetupTask, mark: Mark): Promise<ThroughputResult> {
  const window = new Window(mark)
  const samples = new Samples()
  const checks = { cycles: 0, failures: 0 }
  const run = { going: true }
  let units = 0
  let lastError = ''

  const loop = async (target: Target): Promise<void> => {
    while (run.going) {
      const began = performance.now()
      try {
        const conn = await Conn.open(target, task.room)
        await conn.client.close()
      } catch (err) {
        checks.failures++
        lastError = (err as Error).message
        await sleep(20)
        continue
      }
      checks.cycles++
      if (window.recording) {
        units++
        samples.add(performance.now() - began)
      }
    }
  }
  const loops = Array.from({ length: task.concurrency }, (_, i) => loop(task.targets[i % task.targets.length]))

  await sleep(task.warmupMs)
  await window.open()
  await sleep(task.windowMs)
  const { seconds, loadgenCpu } = await window.close()
  run.going = false
  await Promise.all(loops)

  const problems: string[] = []
  if (checks.failures > 0) problems.push(`${checks.failures} connection cycles failed (last: ${lastError})`)
  return { units, seconds, loadgenCpu, latency: samples.summary(), checks, problems }
}
