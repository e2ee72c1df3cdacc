import type { Serializable } from 'node:child_process'

/*
 * Request/response over a child process's IPC channel, usable from both ends:
 * `new Channel(process, handlers)` in a child, `new Channel(child, handlers)`
 * in the parent. Each side may call the other's handlers.
 */

/** Either end of a Node IPC channel. */
export interface Endpoint {
  send?: (message: Serializable) => boolean
  on (event: 'message', listener: (message: unknown) => void): unknown
  on (event: 'exit' | 'disconnect', listener: (...args: unknown[]) => void): unknown
}

type Handler = (args: any) => unknown
interface Request { id: number, cmd: string, args: unknown }
interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

export class Channel {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()

  constructor (private readonly endpoint: Endpoint, private readonly handlers: Record<string, Handler> = {}) {
    endpoint.on('message', (message) => this.receive(message as Request | Reply))
    const gone = (): void => this.failAll('the other process went away')
    endpoint.on('exit', gone)
    endpoint.on('disconnect', gone)
  }

  /** Calls a handler on the other side. */
  async request<T = unknown> (cmd: string, args?: unknown): Promise<T> {
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      if (this.endpoint.send === undefined || !this.endpoint.send({ id, cmd, args } as Serializable)) {
        this.waiting.delete(id)
        reject(new Error(`cannot send "${cmd}": IPC channel closed`))
      }
    })
  }

  private receive (message: Request | Reply): void {
    if ('cmd' in message) {
      void this.answer(message)
      return
    }
    const waiter = this.waiting.get(message.id)
    if (waiter === undefined) return
    this.waiting.delete(message.id)
    if (message.ok) waiter.resolve(message.result)
    else waiter.reject(new Error(message.error))
  }

  private async answer (request: Request): Promise<void> {
    let reply: Reply
    try {
      const handler = this.handlers[request.cmd]
      if (handler === undefined) throw new Error(`no handler for "${request.cmd}"`)
      reply = { id: request.id, ok: true, result: await handler(request.args) }
    } catch (err) {
      reply = { id: request.id, ok: false, error: (err as Error).stack ?? String(err) }
    }
    this.endpoint.send?.(reply as unknown as Serializable)
  }

  private failAll (reason: string): void {
    for (const waiter of this.waiting.values()) waiter.reject(new Error(reason))
    this.waiting.clear()
  }
}
