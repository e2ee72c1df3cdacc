import 'reflect-metadata'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import pachinko, { Channel } from '../../lib/index.js'

/*
 * The presence burst's server, in its own process: a hub whose topic tracks
 * every joiner. It reports its CPU time and the frames it wrote over IPC.
 */
class Lobby extends Channel<{ name: string }> {
  override onJoin (payload: Record<string, unknown>) {
    this.presence.track(String(payload.user), { device: 'bench' })
    return {}
  }
}

/** The peer: presence written by hand on the same hub, one diff per join and a fresh state for each joiner (what Phoenix's own Presence sends). */
const everyone = new Map<string, object>()
class HandWrittenLobby extends Channel<{ name: string }> {
  override async onJoin (payload: Record<string, unknown>) {
    const key = String(payload.user)
    const meta = { device: 'bench', phx_ref: key }
    everyone.set(key, { metas: [meta] })
    this.push('presence_state', Object.fromEntries(everyone))
    await this.broadcast('presence_diff', { joins: { [key]: { metas: [meta] } }, leaves: {} })
    return {}
  }
}

const mode = process.env.PRESENCE_MODE ?? '100'
const app = Fastify({ logger: false })
await app.register(pachinko, { validateOutgoing: false })
const hub = app.addWebSocketHub('/socket', { maxChannels: 10 })
if (mode === 'hand') hub.channel('lobby:{name}', HandWrittenLobby)
else hub.channel('lobby:{name}', Lobby, { presence: { intervalMs: Number(mode) } })
await app.listen({ port: 0, host: '127.0.0.1' })

process.on('message', (message: string) => {
  if (message === 'stats') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuUs: user + system, framesOut: app.ws.metrics.messagesOut, connections: app.ws.size })
  } else if (message === 'close') {
    void app.close().then(() => process.exit(0))
  }
})
process.send?.({ port: (app.server.address() as AddressInfo).port })
