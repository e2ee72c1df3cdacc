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
  if (target.kind === 'socket.io') return await connectSocketIo(target.url, onMessage)
  if (target.kind === 'phoenix') return await connectPhoenix(target.url, onMessage)
  const socket = await connectWs(target.url, (data) => {
    const msg = JSON.parse(data.toString()) as { type: string, payload?: unknown, error?: unknown }
    onMessage(msg.type, msg.type === 'error' ? msg.error : msg.payload)
  }, target.kind === 'ws-deflate')
  return {
    send: (type, payload, ref) => socket.send(JSON.stringify(ref === undefined ? { type, payload } : { type, ref, payload })),
    close: socket.close
  }
}

interface WsSocket {
  send (text: string): void
  close (): Promise<void>
}

async function connectWs (url: string, onFrame: (data: Buffer) => void, deflate: boolean): Promise<WsSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: deflate })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.on('error', () => {})
  ws.on('message', onFrame)
  const cork: Cork = { raw: (ws as unknown as { _socket: Duplex })._socket, corked: false }
  return {
    send (text) {
      corkForTurn(cork)
      ws.send(text)
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

/**
 * The bench protocol over the Phoenix channel protocol (V2 arrays, framed as
 * the official client frames them): `join {room}` joins the topic
 * `room:<room>` (the rest of its payload is the join's) and its ok reply is
 * `joined`; other messages are pushes on the joined topic, and an `echo`
 * push's ok reply is the `echo`; replies with
 * nothing to report (a `say`'s) are dropped; broadcasts arrive as their event.
 * A push before any join (the echo scenario's) first joins `room:bench-echo`.
 */
async function connectPhoenix (url: string, onMessage: OnMessage): Promise<BenchClient> {
  let ref = 0
  let topic = ''
  let joinRef = ''
  const pushes = new Map<string, { type: string, room?: string }>()
  const socket = await connectWs(url, (data) => {
    const [, replyTo, , event, payload] = JSON.parse(data.toString()) as [string | null, string | null, string, string, any]
    if (event !== 'phx_reply') return onMessage(event, payload)
    const push = pushes.get(replyTo as string)
    pushes.delete(replyTo as string)
    /* c8 ignore next: every phx_reply answers a push this client made; the guard keeps a stray one from throwing */
    if (push === undefined) return
    if (payload.status !== 'ok') onMessage('error', payload.response)
    else if (push.type === 'join') onMessage('joined', { room: push.room })
    else if (push.type === 'echo') onMessage('echo', payload.response)
  }, false)
  const send = (type: string, payload: unknown): void => {
    const mine = String(++ref)
    if (type === 'join') {
      // the rest of the payload (the presence burst's `user`) is the join's
      const { room, ...params } = payload as { room: string }
      pushes.set(mine, { type, room })
      topic = `room:${room}`
      joinRef = mine
      socket.send(JSON.stringify([mine, mine, topic, 'phx_join', params]))
      return
    }
    // a push needs a joined topic: echo, which joins nothing, gets one of its own (its join's reply is dropped)
    if (topic === '') {
      topic = 'room:bench-echo'
      joinRef = mine
      pushes.set(mine, { type: 'auto-join' })
      socket.send(JSON.stringify([mine, mine, topic, 'phx_join', {}]))
      return send(type, payload)
    }
    pushes.set(mine, { type })
    socket.send(JSON.stringify([joinRef, mine, topic, type, payload]))
  }
  return {
    send,
    close: socket.close
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
