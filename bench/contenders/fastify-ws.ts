import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import type { ContenderServer, StartOptions } from './contender.js'
import { Rooms, plainWriter, serveConnection } from './hand-dispatch.js'
import { MAX_PAYLOAD } from './protocol.js'

/** Contender 2: `@fastify/websocket` with the hand-written dispatch of contender 1 — what users write today. */
export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  const app = Fastify({ logger: false })
  await app.register(websocket, { options: { maxPayload: MAX_PAYLOAD } })
  const rooms = new Rooms()
  app.get('/ws', { websocket: true }, (socket) => serveConnection(socket, rooms, plainWriter))
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  return {
    port: (app.server.address() as AddressInfo).port,
    path: '/ws',
    connections: () => app.websocketServer.clients.size,
    close: async () => await app.close()
  }
}
