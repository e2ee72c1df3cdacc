import type { Duplex } from 'node:stream'
import { io } from 'socket.io-client'
import { WebSocket } from 'ws'
import type { ClientKind } from '../contenders/contender.js'

/*
 * One load-generator connection, the same for every contender: `send(type,
 * payload)` and an `onMessage(type, body)` callback, where body is the payload
 * (or, for `error`, the error body). `ws` clients cork their socket for the
 * rest of the turn on the first send, so a burst leaves in one write and the
 * load generator spends its core on the protocol rather than on syscalls.
 */

export type OnMessage = (type: string, body: any) => void

export interface BenchClient {
  /** Sends `{ type, payload }`, with `ref` when given (request/reply). */
  send (type: string, payload: unknown, ref?: number): void
  /** Closes and resolves once the connection is gone. */
  close (): Promise<void>
}

/** Where a load generator connects. */
export interface Target { kind: ClientKind, url: string }

interface Cork { readonly raw: Duplex, corked: boolean }
let pending: Cork[] = []

function flush (): void {
  const batch = pending
  pending = []
  for (const cork of batch) {
    cork.corked = false
    cork.raw.uncork()
  }
}

function corkForTurn (cork: Cork): void {
  if (cork.corked) return
  cork.corked = true
  cork.raw.cork()
  if (pending.push(cork) === 1) setImmediate(flush)
}

export async function connectClient (target: Target, onMessage: OnMessage): Promise<BenchClient> {
  return target.kind === 'socket.io' ? await connectSocketIo(target.url, onMessage) : await connectWs(target.url, onMessage, target.kind === 'ws-deflate')
}

async function connectWs (url: string, onMessage: OnMessage, deflate: boolean): Promise<BenchClient> {
  const ws = new WebSocket(url, { perMessageDeflate: deflate })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.on('error', () => {})
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { type: string, payload?: unknown, error?: unknown }
    onMessage(msg.type, msg.type === 'error' ? msg.error : msg.payload)
  })
  const cork: Cork = { raw: (ws as unknown as { _socket: Duplex })._socket, corked: false }
  return {
    send (type, payload, ref) {
      corkForTurn(cork)
      ws.send(JSON.stringify(ref === undefined ? { type, payload } : { type, ref, payload }))
    },
    async close () {
      if (ws.readyState === WebSocket.CLOSED) return
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve())
        ws.close(1000)
      })
    }
  }
}

async function connectSocketIo (url: string, onMessage: OnMessage): Promise<BenchClient> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20000 })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  socket.onAny((type: string, body: unknown) => onMessage(type, body))
  return {
    send (type, payload) {
      socket.emit(type, payload)
    },
    async close () {
      const engine = socket.io.engine
      await new Promise<void>((resolve) => {
        engine.once('close', () => resolve())
        socket.disconnect()
      })
    }
  }
}
