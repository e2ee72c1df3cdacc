import { performance } from 'node:perf_hooks'
import { Samples } from '../stats.js'
import type { Target } from './client.js'
import { openMany, type Conn } from './pool.js'
import { Window, type Mark, type ThroughputResult } from './window.js'

/**
 * Presence join burst: `clients` connections (Phoenix protocol) send their
 * `phx_join` to one topic in the same turn, each with its own `user`. A join
 * is done at its ok reply and, when the contender has `presence`, its
 * `presence_state`; the burst is done when every join is and the first client
 * has seen all `clients` keys in its state and diffs. The window is the burst
 * alone: every connection is open before it, and `warmupClients` other
 * connections first do the same burst on a topic of their own.
 */
export interface PresenceTask {
  kind: 'presence'
  targets: Target[]
  clients: number
  warmupClients: number
  presence: boolean
  room: string
  /** How long a burst may go without a single frame arriving before the run fails (default 10 s). */
  stallMs?: number
}

interface Burst {
  complete: boolean
  checks: { joins: number, states: number, keys: number, framesIn: number }
}

export async function runPresence (task: PresenceTask, mark: Mark): Promise<ThroughputResult> {
  const warm = await openMany(task.targets, task.warmupClients)
  const conns = await openMany(task.targets, task.clients)
  const stallMs = task.stallMs ?? 10000
  const warmup = await burst(warm, `${task.room}-warmup`, task.presence, stallMs, new Samples())
  const window = new Window(mark)
  const samples = new Samples()
  await window.open()
  const { complete, checks } = await burst(conns, task.room, task.presence, stallMs, samples)
  const { seconds, loadgenCpu } = await window.close()

  const problems: string[] = []
  if (!warmup.complete) problems.push('the warm-up burst never completed')
  if (!complete) problems.push(`burst stalled: ${checks.joins}/${task.clients} join replies, ${checks.states} presence states, ${checks.keys} keys seen by the first client`)
  return { units: complete ? task.clients : 0, seconds, loadgenCpu, latency: samples.summary(), checks, problems }
}

/** Every connection joins `room` at once; resolves when all are done, or when frames stop arriving for `stallMs`. */
async function burst (conns: Conn[], room: string, presence: boolean, stallMs: number, samples: Samples): Promise<Burst> {
  const checks = { joins: 0, states: 0, keys: 0, framesIn: 0 }
  const keys = new Set<string>()
  const began = performance.now()
  let finish!: (complete: boolean) => void
  const finished = new Promise<boolean>((resolve) => { finish = resolve })
  const done = (): boolean => checks.joins === conns.length && (!presence || (checks.states === conns.length && keys.size === conns.length))
  conns.forEach((conn, i) => {
    let joined = false
    let stated = !presence
    conn.handler = (type, body) => {
      checks.framesIn++
      const wasDone = joined && stated
      if (type === 'joined') {
        checks.joins++
        joined = true
      } else if (type === 'presence_state') {
        checks.states++
        stated = true
        // only the first client decodes the keys; the others just count
        if (i === 0) for (const key of Object.keys(body)) keys.add(key)
      } else if (type === 'presence_diff' && i === 0) {
        for (const key of Object.keys(body.joins)) keys.add(key)
      }
      if (!wasDone && joined && stated) samples.add(performance.now() - began)
      if (done()) finish(true)
    }
  })
  for (let i = 0; i < conns.length; i++) conns[i].client.send('join', { room, user: `${room}-${i}` })
  let seen = -1
  const watchdog = setInterval(() => {
    if (checks.framesIn === seen) finish(false)
    seen = checks.framesIn
  }, stallMs)
  const complete = await finished
  clearInterval(watchdog)
  checks.keys = keys.size
  return { complete, checks }
}
