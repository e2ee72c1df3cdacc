import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A throwaway redis-server of the test's own, on a free loopback port, that can be killed and restarted. */
export class OwnRedis {
  private process: ChildProcess | undefined
  private constructor (readonly port: number) {}

  static async start (): Promise<OwnRedis> {
    const server = new OwnRedis(await freePort())
    await server.start()
    return server
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts (or restarts) the server and resolves once it says it accepts connections. */
  async start (): Promise<void> {
    const child = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
    this.process = child
    const stdout = child.stdout!
    await new Promise<void>((resolve, reject) => {
      let log = ''
      const onExit = (code: number | null): void => reject(new Error(`redis-server exited (${code}) before accepting connections on port ${this.port}`))
      const onData = (chunk: Buffer): void => {
        log += chunk.toString()
        if (!log.includes('Ready to accept connections')) return
        stdout.off('data', onData)
        child.off('exit', onExit)
        resolve()
      }
      stdout.on('data', onData)
      child.once('exit', onExit)
    })
    stdout.resume() // keep draining its log, so a full pipe never blocks it
  }

  /** Kills the server abruptly, like a crash. */
  async kill (): Promise<void> {
    const child = this.process
    if (child === undefined || child.exitCode !== null) return
    await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGKILL') })
  }
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
