import 'reflect-metadata'
import Fastify from 'fastify'
import { expectError, expectType } from 'tsd'
import { Type } from 'typebox'
import pachinko, { Channel, ClientError, handlesEvent, WebSocketHub, type LeaveReason } from '../dist/lib/index.js'
import { connectHub, type TestChannel, type TestHubSocket } from '../dist/lib/testing/index.js'

const Shout = Type.Object({ body: Type.String() })

class RoomChannel extends Channel<{ id: string }, { shouts: number }, { user: string }> {
  override async onJoin (payload: Record<string, unknown>) {
    if (payload.token !== 'ok') throw new ClientError('UNAUTHORIZED', 'unauthorized')
    expectType<string>(this.params.id)
    expectType<string>(this.assigns.user)
    return { joined: this.topic }
  }

  @handlesEvent('shout', Shout)
  async shout (payload: { body: string }) {
    this.state.shouts++
    await this.broadcast('shout', payload)
    await this.broadcastFrom('shout', payload)
    expectType<boolean>(this.push('shouted', {}))
    return { ok: true }
  }

  override onLeave (reason: LeaveReason) {
    expectType<LeaveReason>(reason)
  }
}

class Bad extends Channel {
  // the payload schema's type must be what the method takes
  // @ts-expect-error -- body is a string, not a number
  @handlesEvent('shout', Shout)
  shout (payload: { body: number }) { return payload }
}
void Bad

const app = Fastify()
await app.register(pachinko)
const hub = app.addWebSocketHub('/socket', { connect: (params) => params.token !== 'bad', maxChannels: 10 })
expectType<WebSocketHub>(hub)
expectType<WebSocketHub>(hub.channel('room:{id}', RoomChannel))
hub.include(new WebSocketHub(), { prefix: 'admin:' })
expectType<Promise<void>>(hub.broadcast('room:42', 'announce', { text: 'hi' }))
expectError(hub.channel('room:{id}', class NotAChannel {}))
expectError(app.addWebSocketHub('/socket', { maxChannels: 'many' }))

const s = await connectHub(app, '/socket', { params: { token: 'ok' } })
expectType<TestHubSocket>(s)
const room = await s.join('room:1', { token: 'ok' })
expectType<TestChannel>(room)
expectType<{ ok: boolean }>(await room.push<{ ok: boolean }>('shout', { body: 'hi' }))
