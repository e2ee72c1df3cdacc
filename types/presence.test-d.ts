import { expectAssignable, expectError, expectType } from 'tsd'
import Fastify from 'fastify'
import pachinko, { Channel, type Presence, type PresenceList, type PresenceMeta, type PresenceStore } from '../dist/lib/index.js'

class Room extends Channel<{ id: string }, Record<string, unknown>, { user: string }> {
  override onJoin () {
    expectType<Presence>(this.presence)
    expectType<string>(this.presence.track(this.assigns.user, { device: 'web' }))
    expectType<string>(this.presence.track(this.assigns.user))
    expectType<string | undefined>(this.presence.update(this.assigns.user, { status: 'away' }))
    expectType<boolean>(this.presence.untrack(this.assigns.user))
    expectType<Promise<PresenceList>>(this.presence.list())
    expectError(this.presence.track(42))
    expectError(this.presence.track('k', 'not an object'))
    return {}
  }
}

const app = Fastify()
await app.register(pachinko)
const hub = app.addWebSocketHub('/socket')
hub.channel('room:{id}', Room, { presence: true })
hub.channel('lobby:{id}', Room, { presence: { intervalMs: 50 }, history: { size: 100, ttlMs: 120_000 } })
expectError(hub.channel('x:{id}', Room, { presence: 'yes' }))
expectError(hub.channel('y:{id}', Room, { history: { size: 1 } }))
expectType<Presence>(hub.presence('room:1'))
const list = await hub.presence('room:1').list()
expectAssignable<PresenceMeta[] | undefined>(list.ada?.metas)
expectType<string>(list.ada.metas[0].phx_ref)
declare const store: PresenceStore
expectType<number>(store.checkMs)
