import 'reflect-metadata'
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { Type, type Static } from 'typebox'
import pachinko, { WebSocketResource, handlesMessage, message, type PachinkoOptions } from '../../lib/index.js'
import type { ContenderServer, StartOptions } from './contender.js'
import { EchoText, RoomName, SayText } from './protocol.js'

/*
 * Contender 4: fastify-pachinko written the way its README tells users to:
 * a resource class, `message()` schemas in a `static schema` union, handlers
 * bound by `@handlesMessage` or the `on<Tag>` convention, `this.join`,
 * `this.broadcast`. Validation, error frames, rooms and write coalescing are
 * the library's.
 */

const Join = message('join', { room: RoomName })
const Echo = message('echo', { seq: Type.Integer(), text: EchoText })
const Say = message('say', { room: RoomName, text: SayText, sentAt: Type.Number() })
const Ask = message('ask', { seq: Type.Integer(), text: EchoText })

/** What BenchRoom sends, for the validateOutgoing variant. */
export const BenchEmits = Type.Union([
  message('joined', { room: RoomName }),
  message('echo', { seq: Type.Integer(), text: EchoText }),
  message('said', { room: RoomName, text: SayText, sentAt: Type.Number() })
])

export class BenchRoom extends WebSocketResource {
  static schema = Type.Union([Join, Echo, Say, Ask])

  async onJoin (msg: Static<typeof Join>): Promise<void> {
    await this.join(msg.payload.room)
    this.send({ type: 'joined', payload: msg.payload })
  }

  onEcho (msg: Static<typeof Echo>): void {
    this.send({ type: 'echo', payload: msg.payload })
  }

  /** Request/reply (scenario g): the payload back as the reply. */
  onAsk (msg: Static<typeof Ask>): Static<typeof Ask>['payload'] {
    return msg.payload
  }

  /* c8 ignore start -- tsc's emitted __decorate helper is mapped here and has branches no decorator takes */
  @handlesMessage('say')
  async say (msg: Static<typeof Say>): Promise<void> {
    await this.broadcast(msg.payload.room, { type: 'said', payload: msg.payload })
  }
  /* c8 ignore stop */
}

/** Starts the pachinko contender with the given plugin options (the backend, for two nodes); `prepare` sets the app up further. */
export async function startPachinko (options: StartOptions, pluginOptions: PachinkoOptions, resource: typeof BenchRoom = BenchRoom, prepare?: (app: FastifyInstance) => void): Promise<ContenderServer> {
  const app = Fastify({ logger: false })
  // outgoing checks off, as in production: the pachinko-validated variant measures them
  await app.register(pachinko, { validateOutgoing: false, ...pluginOptions })
  prepare?.(app)
  app.addWebSocketRoute('/ws', resource)
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  return {
    port: (app.server.address() as AddressInfo).port,
    path: '/ws',
    connections: () => app.ws.size,
    close: async () => await app.close()
  }
}

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPachinko(options, {})
}
