import { Presence as PhxPresence, type Channel as PhxChannel } from 'phoenix'
import type { Test } from 'tap'
import { Channel, type Backend } from '../../lib/index.js'
import { build } from './build.js'
import { join, listen, phoenix } from './phoenix.js'

/* A hub node whose topics track every joiner in presence, and clients that watch it through the phoenix client's Presence. */

export class PresenceRoom extends Channel<{ id: string }, Record<string, unknown>, { user: string }> {
  override onJoin () {
    this.presence.track(this.assigns.user, { node: this.ws.nodeId })
    return {}
  }
}

/** A node on `backend`: `room:{id}` topics with presence (5 ms diffs), the user from the socket's `user` param. */
export async function presenceNode (t: Test, backend: Backend) {
  const app = await build(t, { backend })
  const hub = app.addWebSocketHub('/socket', { connect: (params) => ({ user: params.user }) })
  hub.channel('room:{id}', PresenceRoom, { presence: { intervalMs: 5 } })
  return { app, hub, url: await listen(app) }
}

/** The phoenix client's Presence, and a wait for the users it lists. */
export function watchPresence (channel: PhxChannel) {
  const presence = new PhxPresence(channel)
  const waiters: Array<() => void> = []
  presence.onSync(() => { for (const w of waiters.splice(0)) w() })
  const users = (): string => presence.list((key: string) => key).sort().join()
  return {
    users,
    async until (expected: string) {
      while (users() !== expected) await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
}

/** A client of the node at `url`, as `user`, joined to `topic` and watching its presence. */
export async function presenceMember (t: Test, url: string, user: string, topic = 'room:1') {
  const socket = phoenix(t, url, { params: { user } })
  const channel = socket.channel(topic)
  const seen = watchPresence(channel)
  t.equal((await join(channel)).status, 'ok', `${user} joined`)
  return { socket, channel, seen }
}
