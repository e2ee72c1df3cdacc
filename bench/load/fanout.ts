import { Samples } from '../stats.js'
import type { Target } from './client.js'
import { openMany } from './pool.js'
import { nowAbs, sleep, until, Window, type Mark, type ThroughputResult } from './window.js'

/**
 * Fan-out: `members` connections (round-robin over the targets, so two targets
 * make two nodes) join one room; the first one `say`s, keeping `inflight`
 * broadcasts outstanding, each complete once every member got its `said`.
 * With `burst`, the sender instead sends `burst` messages back to back (one
 * write) and the next burst once every member got all of them: the case where
 * one connection's messages queue behind each other on the server. With
 * `paceMs`, it sends one message every `paceMs` whatever is outstanding (an
 * open loop: the server is never saturated, which is where a flush delay helps).
 */
export interface FanoutTask {
  kind: 'fanout'
  targets: Target[]
  members: number
  inflight: number
  warmupMs: number
  windowMs: number
  room: string
  burst?: number
  paceMs?: number
}

/** After the window, outstanding broadcasts may take this long without a single delivery before the run fails (a burst to 2,000 members on a busy machine takes tens of seconds). */
const STALL_MS = 10000

export async function runFanout (task: FanoutTask, mark: Mark): Promise<ThroughputResult> {
  const conns = await openMany(task.targets, task.members, task.room)
  const window = new Window(mark)
  const samples = new Samples()
  const remaining = new Map<number, number>()
  const checks = { broadcasts: 0, completed: 0, deliveries: 0, strays: 0 }
  let running = true
  let nextSeq = 0
  let units = 0
  const sender = conns[0].client

  const say = (): void => {
    const seq = nextSeq++
    remaining.set(seq, conns.length)
    checks.broadcasts++
    sender.send('say', { room: task.room, text: String(seq), sentAt: nowAbs() })
  }

  const onSaid = (type: string, body: any): void => {
    const now = nowAbs()
    const seq = type === 'said' ? Number(body?.text) : NaN
    const left = remaining.get(seq)
    if (left === undefined) {
      checks.strays++
      return
    }
    checks.deliveries++
    if (window.recording) {
      units++
      samples.add(now - body.sentAt)
    }
    if (left > 1) {
      remaining.set(seq, left - 1)
      return
    }
    remaining.delete(seq)
    checks.completed++
    if (running) next()
  }
  const { burst, paceMs } = task
  const next = (): void => {
    if (paceMs !== undefined) return
    if (burst === undefined) say()
    else if (remaining.size === 0) for (let i = 0; i < burst; i++) say()
  }
  for (const conn of conns) conn.handler = onSaid
  const pacer = paceMs === undefined ? undefined : setInterval(() => { if (running) say() }, paceMs)
  if (burst !== undefined) next()
  else if (paceMs === undefined) for (let i = 0; i < task.inflight; i++) say()

  await sleep(task.warmupMs)
  await window.open()
  await sleep(task.windowMs)
  const { seconds, loadgenCpu } = await window.close()
  running = false
  clearInterval(pacer)
  let drained = false
  for (let seen = -1; !drained && checks.deliveries !== seen;) {
    seen = checks.deliveries
    drained = await until(() => remaining.size === 0, STALL_MS)
  }

  const problems: string[] = []
  if (!drained) problems.push(`${remaining.size} broadcasts never reached every member`)
  if (checks.strays > 0) problems.push(`${checks.strays} unexpected frames`)
  if (checks.completed === 0) problems.push('no broadcast completed')
  return { units, seconds, loadgenCpu, latency: samples.summary(), checks, problems }
}
