import { performance } from 'node:perf_hooks'
import { Samples } from '../stats.js'
import type { Target } from './client.js'
import { openMany, type Conn } from './pool.js'
import { sleep, until, Window, type Mark, type ThroughputResult } from './window.js'

/** Echo round trips: `connections` × `inflight` requests outstanding, every `invalidEvery`-th one invalid (0: none). */
export interface EchoTask {
  kind: 'echo'
  targets: Target[]
  connections: number
  inflight: number
  invalidEvery: number
  warmupMs: number
  windowMs: number
  /** Request/reply: each message is an `ask` with a ref, answered by a `reply` frame. */
  rpc?: boolean
}

const TEXT = 'the quick brown fox jumps over the lazy dog, pachinko bench text.'

/** One connection's outstanding requests, oldest first: replies come back in order. */
class Pipeline {
  readonly sentAt: Float64Array
  readonly seq: Int32Array
  head = 0
  size = 0

  constructor (readonly conn: Conn, capacity: number) {
    this.sentAt = new Float64Array(capacity)
    this.seq = new Int32Array(capacity)
  }
}

export async function runEcho (task: EchoTask, mark: Mark): Promise<ThroughputResult> {
  const conns = await openMany(task.targets, task.connections)
  const window = new Window(mark)
  const samples = new Samples()
  const capacity = task.inflight
  let running = true
  let nextSeq = 0
  let units = 0
  const checks = { sent: 0, invalidSent: 0, echoes: 0, errorFrames: 0, mismatches: 0 }

  const send = (p: Pipeline): void => {
    const seq = nextSeq++
    const invalid = task.invalidEvery > 0 && seq % task.invalidEvery === task.invalidEvery - 1
    const slot = (p.head + p.size++) % capacity
    p.sentAt[slot] = performance.now()
    p.seq[slot] = invalid ? -1 : seq
    checks.sent++
    if (invalid) checks.invalidSent++
    if (task.rpc === true) p.conn.client.send('ask', { seq, text: TEXT }, seq)
    else p.conn.client.send('echo', invalid ? { seq, text: 12345 } : { seq, text: TEXT })
  }

  const pipelines = conns.map((conn) => {
    const p = new Pipeline(conn, capacity)
    conn.handler = (type, body) => {
      const now = performance.now()
      const slot = p.head
      p.head = (p.head + 1) % capacity
      p.size--
      const expected = p.seq[slot]
      const answer = task.rpc === true ? 'reply' : 'echo'
      if (type === answer && expected >= 0 && body?.seq === expected && body?.text === TEXT) checks.echoes++
      else if (type === 'error' && expected < 0 && body?.code === 'VALIDATION' && body?.tag === 'echo') checks.errorFrames++
      else checks.mismatches++
      if (window.recording) {
        units++
        samples.add(now - p.sentAt[slot])
      }
      if (running) send(p)
    }
    return p
  })
  for (const p of pipelines) for (let i = 0; i < capacity; i++) send(p)

  await sleep(task.warmupMs)
  await window.open()
  await sleep(task.windowMs)
  const { seconds, loadgenCpu } = await window.close()
  running = false
  const drained = await until(() => pipelines.every((p) => p.size === 0), 10000)

  const problems: string[] = []
  if (!drained) problems.push(`${pipelines.reduce((n, p) => n + p.size, 0)} requests never answered`)
  if (checks.mismatches > 0) problems.push(`${checks.mismatches} replies did not match their request`)
  if (checks.errorFrames !== checks.invalidSent) problems.push(`${checks.invalidSent} invalid messages sent, ${checks.errorFrames} VALIDATION error frames received`)
  return { units, seconds, loadgenCpu, latency: samples.summary(), checks, problems }
}
