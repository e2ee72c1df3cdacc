import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import type { ContenderServer, StartOptions } from './contender.js'
import { Rooms, plainWriter, serveConnection } from './hand-dispatch.js'
import { closeServer, listen } from './listen.js'
import { MAX_PAYLOAD } from './protocol.js'

/** Contender 1: a hand-written `ws` server — compiled TypeBox validators and a `switch`. */
export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  const server = createServer()
  const wss = new WebSocketServer({ server, maxPayload: MAX_PAYLOAD })
  const rooms = new Rooms()
  wss.on('connection', (socket) => serveConnection(socket, rooms, plainWriter))
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
