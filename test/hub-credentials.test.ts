import 'reflect-metadata'
import Fastify from 'fastify'
import t from 'tap'
import pachinko, { Channel } from '../lib/index.js'
import { join, listen, phoenix } from './helpers/phoenix.js'

/* A hub join re-checks the socket's credential: once `expiresAt` has passed, no new channel is joined. */

class Login extends Channel {
  override onJoin (payload: { validForMs?: number }) {
    this.connection.expiresAt = new Date(Date.now() + (payload.validForMs ?? 60_000))
    return {}
  }
}
class Room extends Channel<{ id: string }> {
  override onJoin () { return { room: this.params.id } }
}

t.test('a join after the credential expired gets an error reply; before, it joins', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  // the expiry wheel would close the stale socket at its next tick (4401): an hour's tick keeps this about the join check
  await app.register(pachinko, { credentials: { resolutionMs: 3_600_000 } })
  app.addWebSocketHub('/socket').channel('login', Login).channel('room:{id}', Room)
  const url = await listen(app)

  const fresh = phoenix(t, url)
  t.match(await join(fresh.channel('login', { validForMs: 60_000 })), { status: 'ok' })
  t.match(await join(fresh.channel('room:1', {})), { status: 'ok', response: { room: '1' } })

  const stale = phoenix(t, url)
  t.match(await join(stale.channel('login', { validForMs: -1 })), { status: 'ok' })
  t.match(await join(stale.channel('room:2', {})), { status: 'error', response: { reason: 'credential expired', code: 'CREDENTIAL_EXPIRED' } })
})
