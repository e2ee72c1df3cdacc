import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { performance } from 'node:perf_hooks'
import type { ContenderServer, StartOptions } from './contenders/contender.js'
import { loadContender } from './contenders/index.js'
import { Channel } from './ipc.js'

/*
 * A contender's own process (started with --expose-gc). The orchestrator asks
 * it, over IPC, to start a contender and for its CPU time and memory, so
 * figures are the server's alone.
 */

let server: ContenderServer | undefined
let profiler: Session | undefined

async function post<T> (session: Session, method: string, params?: object): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    session.post(method, params ?? {}, (err: Error | null, result?: object) => { if (err !== null) reject(err); else resolve(result as T) })
  })
}

const gc = (globalThis as { gc?: () => void }).gc

/** CPU time used by this process (every thread), in µs, and when it was read; the frames it wrote so far when the contender counts them. */
export interface CpuSnapshot { cpuUs: number, at: number, connections: number, framesOut?: number }

/** Memory after a full collection. */
export interface MemorySnapshot { rss: number, heapUsed: number, external: number, connections: number }

const channel = new Channel(process, {
  async start ({ module, options }: { module: string, options: StartOptions }) {
    server = await (await loadContender(module)).start(options)
    return { port: server.port, path: server.path, pid: process.pid }
  },
  cpu (): CpuSnapshot {
    const { user, system } = process.cpuUsage()
    return { cpuUs: user + system, at: performance.now(), connections: server?.connections() ?? 0, framesOut: server?.framesOut?.() }
  },
  connections: () => server?.connections() ?? 0,
  memory (): MemorySnapshot {
    if (gc === undefined) throw new Error('start the server with --expose-gc')
    gc()
    gc()
    const m = process.memoryUsage()
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, connections: server?.connections() ?? 0 }
  },
  /** Starts V8's sampling profiler: the measured window only, not the process's start-up. */
  async profileStart ({ intervalUs }: { intervalUs: number }) {
    profiler = new Session()
    profiler.connect()
    await post(profiler, 'Profiler.enable')
    await post(profiler, 'Profiler.setSamplingInterval', { interval: intervalUs })
    await post(profiler, 'Profiler.start')
    return true
  },
  async profileStop ({ file }: { file: string }) {
    if (profiler === undefined) throw new Error('profileStart was not called')
    const { profile } = await post<{ profile: object }>(profiler, 'Profiler.stop')
    profiler.disconnect()
    profiler = undefined
    writeFileSync(file, JSON.stringify(profile))
    return file
  },
  async stop ({ graceful }: { graceful: boolean }) {
    if (graceful && server !== undefined) {
      await Promise.race([server.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())])
    }
    setImmediate(() => process.exit(0))
    return true
  }
})
void channel

// an orphaned server must not outlive the run
process.on('disconnect', () => process.exit(0))
