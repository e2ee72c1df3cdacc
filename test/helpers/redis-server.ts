import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

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

  /** Starts (or restarts) the server and resolves once it answers PING. */
  async start (): Promise<void> {
    this.process = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      probe.on('error', () => {})
      try {
        await probe.connect()
        if (await probe.ping() === 'PONG') return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50))
      } finally {
        probe.disconnect()
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`)
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
