import { connectClient, type BenchClient, type Target } from './client.js'
import { sleep } from './window.js'

/** One connection of a task: routes each frame either to a one-shot waiter or to the task's handler. */
export class Conn {
  client!: BenchClient
  handler: (type: string, body: any) => void = () => {}
  private readonly waiters = new Map<string, () => void>()

  readonly onMessage = (type: string, body: any): void => {
    const waiter = this.waiters.get(type)
    if (waiter !== undefined) {
      this.waiters.delete(type)
      waiter()
      return
    }
    this.handler(type, body)
  }

  /** Resolves on the next frame of that type. */
  async next (type: string, timeoutMs = 30000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" frame within ${timeoutMs} ms`)), timeoutMs)
      this.waiters.set(type, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Connects and, given a room, joins it and waits for `joined`. */
  static async open (target: Target, room?: string): Promise<Conn> {
    const conn = new Conn()
    conn.client = await connectClient(target, conn.onMessage)
    if (room !== undefined) {
      const joined = conn.next('joined')
      conn.client.send('join', { room })
      await joined
    }
    return conn
  }
}

/** Opens `n` connections spread round-robin over the targets, `concurrency` handshakes at a time, retrying each up to 3 times. */
export async function openMany (targets: Target[], n: number, room?: string, concurrency = 64): Promise<Conn[]> {
  const conns: Conn[] = new Array(n)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++
      for (let attempt = 1; ; attempt++) {
        try {
          conns[i] = await Conn.open(targets[i % targets.length], room)
          break
        } catch (err) {
          if (attempt === 3) throw err
          await sleep(50 * attempt)
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
  return conns
}

export async function closeAll (conns: Conn[], concurrency = 256): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < conns.length) await conns[next++].client.close()
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker))
}
