import { createServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ContenderServer, StartOptions } from './contender.js'
import { Rooms, serveConnection, type Writer } from './hand-dispatch.js'
import { closeServer, listen } from './listen.js'
import { MAX_PAYLOAD } from './protocol.js'

/*
 * Contender 1b: contender 1 plus the two tricks that make a Node WebSocket
 * server fast — a broadcast is encoded once to a Buffer that every recipient
 * shares, and each socket is corked on its first write of an event-loop turn
 * and uncorked with all others in one setImmediate, so a turn's frames leave
 * in one writev. The practical limit for Node.
 */

const kCorked = Symbol('corked')
type Corkable = WebSocket & { [kCorked]: boolean, _socket: Duplex }

let pending: Corkable[] = []

function flush (): void {
  const batch = pending
  pending = []
  for (const socket of batch) {
    socket[kCorked] = false
    socket._socket.uncork()
  }
}

function cork (socket: Corkable): void {
  if (socket[kCorked]) return
  socket[kCorked] = true
  socket._socket.cork()
  if (pending.push(socket) === 1) setImmediate(flush)
}

const TEXT = { binary: false }

const fastWriter: Writer = {
  reply (socket, message) {
    cork(socket as Corkable)
    socket.send(Buffer.from(JSON.stringify(message)), TEXT)
  },
  broadcast (members, message) {
    const frame = Buffer.from(JSON.stringify(message))
    for (const member of members) {
      cork(member as Corkable)
      member.send(frame, TEXT)
    }
  }
}

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  const server = createServer()
  const wss = new WebSocketServer({ server, maxPayload: MAX_PAYLOAD })
  const rooms = new Rooms()
  wss.on('connection', (socket) => {
    (socket as Corkable)[kCorked] = false
    serveConnection(socket, rooms, fastWriter)
  })
  const port = await listen(server, options)
  return {
    port,
    path: '/ws',
    connections: () => wss.clients.size,
    async close () {
      for (const socket of wss.clients) socket.terminate()
      wss.close()
      await closeServer(server)
    }
  }
}
