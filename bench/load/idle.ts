import type { Target } from './client.js'
import { closeAll, openMany } from './pool.js'
import type { Mark } from './window.js'

/**
 * Memory per idle connection: warm the server up with a few connections and
 * close them, mark `baseline`, open `connections` joined ones, mark `loaded`.
 * The orchestrator reads the server's memory (after gc) at each mark.
 */
export interface IdleTask {
  kind: 'idle'
  targets: Target[]
  connections: number
  warmupConnections: number
  room: string
}

export interface IdleResult { connected: number, problems: string[] }

export async function runIdle (task: IdleTask, mark: Mark): Promise<IdleResult> {
  await closeAll(await openMany(task.targets, task.warmupConnections, task.room))
  await mark('baseline')
  const conns = await openMany(task.targets, task.connections, task.room)
  await mark('loaded')
  return { connected: conns.length, problems: [] }
}
