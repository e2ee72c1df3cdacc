import type { FastifyInstance } from 'fastify'
import { Socket, type Channel as PhxChannel, type SocketConnectOption } from 'phoenix'
import type { Test } from 'tap'
import { WebSocket } from 'ws'

/** A reply's status and response, as `push.receive` reports them. */
export interface Reply { status: 'ok' | 'error' | 'timeout', response: any }

/** Listens on a free port and returns the hub's ws:// URL. */
export async function listen (app: FastifyInstance, path = '/socket', port = 0): Promise<string> {
  const address = await app.listen({ port, host: '127.0.0.1' })
  return address.replace('http://', 'ws://') + path
}

/** The official client, in Node (with `ws` as its transport), disconnected when the test ends. */
export function phoenix (t: Test, url: string, options: Partial<SocketConnectOption> = {}): Socket {
  const socket = new Socket(url, { transport: WebSocket as never, reconnectAfterMs: () => 20, rejoinAfterMs: () => 20, ...options })
  t.teardown(() => socket.disconnect())
  socket.connect()
  return socket
}

/** Joins and resolves with the join reply (ok or error); an error reply's channel is left so the client stops retrying. */
export async function join (channel: PhxChannel): Promise<Reply> {
  return await new Promise((resolve) => {
    channel.join()
      .receive('ok', (response) => resolve({ status: 'ok', response }))
      .receive('error', (response) => { channel.leave(); resolve({ status: 'error', response }) })
      .receive('timeout', () => resolve({ status: 'timeout', response: undefined }))
  })
}

/** Pushes and resolves with the reply. */
export async function push (channel: PhxChannel, event: string, payload: object = {}): Promise<Reply> {
  return await new Promise((resolve) => {
    channel.push(event, payload)
      .receive('ok', (response) => resolve({ status: 'ok', response }))
      .receive('error', (response) => resolve({ status: 'error', response }))
      .receive('timeout', () => resolve({ status: 'timeout', response: undefined }))
  })
}

/** Resolves with the payload of the next `event` on `channel`. */
export async function next (channel: PhxChannel, event: string): Promise<any> {
  return await new Promise((resolve) => {
    const ref = channel.on(event, (payload) => {
      channel.off(event, ref)
      resolve(payload)
    })
  })
}

/** A raw `ws` client on the hub, for frames the official client would never send. */
export async function rawClient (t: Test, url: string, query: string | null = 'vsn=2.0.0'): Promise<RawClient> {
  const ws = new WebSocket(query === null ? `${url}/websocket` : `${url}/websocket?${query}`)
  t.teardown(() => ws.terminate())
  const client = new RawClient(ws)
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  return client
}

/** Collects frames, so a test can wait for the one it expects. */
export class RawClient {
  readonly frames: unknown[] = []
  readonly closed: Promise<{ code: number, reason: string }>
  private waiters: Array<() => void> = []

  constructor (readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()))
      for (const waiter of this.waiters.splice(0)) waiter()
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  send (frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame))
  }

  /** The first frame (taken out of the list) for which `match` holds. */
  async take (match: (frame: any) => boolean): Promise<any> {
    for (;;) {
      const index = this.frames.findIndex(match)
      if (index !== -1) return this.frames.splice(index, 1)[0]
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** The reply to `ref` (V2 arrays and V1 objects alike). */
  async reply (ref: unknown): Promise<any> {
    return await this.take((f) => Array.isArray(f) ? f[1] === ref && f[3] === 'phx_reply' : f.ref === ref && f.event === 'phx_reply')
  }
}
