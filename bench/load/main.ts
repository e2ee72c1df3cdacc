import { Channel } from '../ipc.js'
import { runEcho, type EchoTask } from './echo.js'
import { runFanout, type FanoutTask } from './fanout.js'
import { runIdle, type IdleTask } from './idle.js'
import { runPresence, type PresenceTask } from './presence.js'
import type { Mark } from './window.js'
import { runSetup, type SetupTask } from './setup.js'

/*
 * The load generator's own process: runs one task sent by the orchestrator
 * and reports marks (window start/end, memory phases) back as they happen.
 */

export type Task = EchoTask | FanoutTask | IdleTask | SetupTask | PresenceTask

async function run (task: Task, mark: Mark): Promise<unknown> {
  switch (task.kind) {
    case 'echo': return await runEcho(task, mark)
    case 'fanout': return await runFanout(task, mark)
    case 'idle': return await runIdle(task, mark)
    case 'setup': return await runSetup(task, mark)
    case 'presence': return await runPresence(task, mark)
  }
}

const channel: Channel = new Channel(process, {
  run: async (task: Task) => await run(task, async (name) => { await channel.request('mark', name) }),
  exit: () => {
    setImmediate(() => process.exit(0))
    return true
  }
})

process.on('disconnect', () => process.exit(0))
