import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { StartOptions } from './contenders/contender.js'
import { Channel } from './ipc.js'
import { loadMain, resultsDir, serverMain } from './paths.js'
import type { CpuSnapshot, MemorySnapshot } from './server-main.js'

/*
 * The orchestrator's handles on its child processes: contender servers
 * (started with --expose-gc, optionally --cpu-prof) and the load generator.
 */

export interface ServerChild {
  readonly url: { ws: string, socketio: string }
  cpu (): Promise<CpuSnapshot>
  memory (): Promise<MemorySnapshot>
  connections (): Promise<number>
  /** Profiles the server's CPU from now until profileStop, which writes the .cpuprofile. */
  profileStart (): Promise<void>
  profileStop (name: string): Promise<string>
  stop (graceful: boolean): Promise<void>
}

export interface LoadChild {
  run<T> (task: unknown): Promise<T>
  stop (): Promise<void>
}

export const profilesDir = join(resultsDir, 'profiles')

export async function startServer (module: string, options: StartOptions): Promise<ServerChild> {
  const child = fork(serverMain, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const channel = new Channel(child)
  try {
    const { port, path } = await channel.request<{ port: number, path: string }>('start', { module, options })
    return {
      url: { ws: `ws://127.0.0.1:${port}${path}`, socketio: `http://127.0.0.1:${port}` },
      cpu: async () => await channel.request<CpuSnapshot>('cpu'),
      memory: async () => await channel.request<MemorySnapshot>('memory'),
      connections: async () => await channel.request<number>('connections'),
      profileStart: async () => { await channel.request('profileStart', { intervalUs: 200 }) },
      profileStop: async (name) => {
        mkdirSync(profilesDir, { recursive: true })
        return await channel.request<string>('profileStop', { file: join(profilesDir, `${name}.cpuprofile`) })
      },
      stop: async (graceful) => {
        await channel.request('stop', { graceful }).catch(() => {})
        await exited(child, graceful ? 8000 : 3000)
      }
    }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}

export function startLoad (onMark: (name: string) => Promise<void>): LoadChild {
  const child = fork(loadMain, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const channel = new Channel(child, { mark: onMark })
  return {
    run: async <T>(task: unknown) => await channel.request<T>('run', task),
    stop: async () => {
      await channel.request('exit').catch(() => {})
      await exited(child, 3000)
    }
  }
}

/** Waits for a child to exit, killing it after `ms`. */
async function exited (child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
