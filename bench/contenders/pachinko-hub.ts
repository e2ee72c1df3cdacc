import 'reflect-metadata'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { Type } from 'typebox'
import pachinko, { Channel, handlesEvent, type WebSocketHub } from '../../lib/index.js'
import type { ContenderServer, StartOptions } from './contender.js'
import { EchoText, RoomName, SayText } from './protocol.js'

/*
 * Contender 4h: the same rooms on the channels hub, speaking the Phoenix
 * protocol (V2 arrays): a room is the topic `room:{name}`, `say` is an event
 * whose handler broadcasts `said` to the topic. The load generator's
 * `phoenix` client kind maps the bench protocol onto it.
 */

const Say = Type.Object({ room: RoomName, text: SayText, sentAt: Type.Number() })
const Echo = Type.Object({ seq: Type.Integer(), text: EchoText })

class BenchTopic extends Channel<{ name: string }> {
  /* c8 ignore start -- tsc's emitted __decorate helper is mapped here and has branches no decorator takes */
  @handlesEvent('say', Say)
  async say (payload: object): Promise<void> {
    await this.broadcast('said', payload)
  }

  @handlesEvent('echo', Echo)
  echo (payload: object): object {
    return payload
  }
  /* c8 ignore stop */
}

/** A hub at `/socket` with `declare` adding its channels; the server also counts the frames it wrote (the presence burst reports them). */
export async function startHub (options: StartOptions, declare: (hub: WebSocketHub) => void): Promise<ContenderServer> {
  const app = Fastify({ logger: false })
  await app.register(pachinko, { validateOutgoing: false })
  declare(app.addWebSocketHub('/socket'))
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  return {
    port: (app.server.address() as AddressInfo).port,
    path: '/socket/websocket?vsn=2.0.0',
    connections: () => app.ws.size,
    framesOut: () => app.ws.metrics.messagesOut,
    close: async () => await app.close()
  }
}

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startHub(options, (hub) => hub.channel('room:{name}', BenchTopic))
}
