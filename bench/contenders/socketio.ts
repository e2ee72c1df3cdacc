import { createServer } from 'node:http'
import { Server, type ServerOptions } from 'socket.io'
import type { ContenderServer, StartOptions } from './contender.js'
import { listen } from './listen.js'
import { checkPayload, MAX_PAYLOAD, validationError, type Echo, type Join, type Say } from './protocol.js'

/*
 * Contender 3: socket.io 4, WebSocket transport only, events named like the
 * tags (`socket.emit('echo', payload)`), payloads checked with the same
 * compiled TypeBox validators; a refused payload gets an `error` event.
 */

/** Starts the socket.io contender, optionally with an adapter (the Redis one, for two nodes). */
export async function startSocketIo (options: StartOptions, adapter?: ServerOptions['adapter']): Promise<ContenderServer> {
  const httpServer = createServer()
  const io = new Server(httpServer, {
    serveClient: false,
    transports: ['websocket'],
    maxHttpBufferSize: MAX_PAYLOAD,
    adapter
  })
  io.on('connection', (socket) => {
    socket.on('join', (payload: Join) => {
      if (!checkPayload.join.Check(payload)) return socket.emit('error', validationError('join', checkPayload.join, payload))
      void socket.join(payload.room)
      socket.emit('joined', payload)
    })
    socket.on('echo', (payload: Echo) => {
      if (!checkPayload.echo.Check(payload)) return socket.emit('error', validationError('echo', checkPayload.echo, payload))
      socket.emit('echo', payload)
    })
    socket.on('say', (payload: Say) => {
      if (!checkPayload.say.Check(payload)) return socket.emit('error', validationError('say', checkPayload.say, payload))
      io.to(payload.room).emit('said', payload)
    })
  })
  const port = await listen(httpServer, options)
  return {
    port,
    path: '/socket.io/',
    connections: () => io.engine.clientsCount,
    close: async () => await io.close()
  }
}

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startSocketIo(options)
}
