import 'reflect-metadata'
import { fork } from 'node:child_process'
import { Presence as PhxPresence, type Channel as PhxChannel } from 'phoenix'
import t, { type Test } from 'tap'
import { Channel, redisBackend } from '../lib/index.js'
import { build } from './helpers/build.js'
import { join, listen, phoenix } from './helpers/phoenix.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'

class Room extends Channel<{ id: string }, Record<string, unknown>, { user: string }> {
  override onJoin () {
    this.presence.track(this.assigns.user, { node: this.ws.nodeId })
    return {}
  }
}

async function node (t: Test, url: string, prefix: string) {
  const app = await build(t, { backend: redisBackend({ url, prefix, heartbeatMs: 100 }) })
  const hub = app.addWebSocketHub('/socket', { connect: (params) => ({ user: params.user }) })
  hub.channel('room:{id}', Room, { presence: { intervalMs: 5 } })
  return { app, hub, url: await listen(app) }
}

function watch (channel: PhxChannel) {
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

async function member (t: Test, url: string, user: string) {
  const socket = phoenix(t, url, { params: { user } })
  const channel = socket.channel('room:1')
  const seen = watch(channel)
  t.equal((await join(channel)).status, 'ok', `${user} joined`)
  return { socket, channel, seen }
}

t.test('over Redis, a killed node\'s users leave within its TTL and the other node\'s clients see it', async (t) => {
  if (!await needRedis(t)) return
  const prefix = testPrefix('presence-kill')
  const parent = await node(t, REDIS_URL, prefix)
  const child = fork(new URL('./fixtures/hub-presence-node.ts', import.meta.url), { execArgv: process.execArgv, env: { ...process.env, PREFIX: prefix, REDIS_URL } })
  t.teardown(() => { child.kill('SIGKILL') })
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', resolve as never)
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)))
  })
  const ada = await member(t, parent.url, 'ada')
  const bob = await member(t, `ws://127.0.0.1:${port}/socket`, 'bob')
  await ada.seen.until('ada,bob')
  await bob.seen.until('ada,bob')
  bob.socket.disconnect()
  await ada.seen.until('ada')
  const carl = await member(t, `ws://127.0.0.1:${port}/socket`, 'carl')
  carl.socket.onError(() => {})
  await ada.seen.until('ada,carl')
  const killedAt = Date.now()
  child.kill('SIGKILL')
  await ada.seen.until('ada')
  t.pass(`carl left ${Date.now() - killedAt} ms after his node died without a word (ttl 300 ms)`)
})

t.test('a Redis restart (its data gone) re-syncs presence on both nodes', async (t) => {
  const redis = await OwnRedis.start()
  t.teardown(() => redis.kill())
  const prefix = testPrefix('presence-restart')
  const a = await node(t, redis.url, prefix)
  const b = await node(t, redis.url, prefix)
  const ada = await member(t, a.url, 'ada')
  await member(t, b.url, 'bob')
  await ada.seen.until('ada,bob')
  await redis.kill()
  const carl = await member(t, b.url, 'carl')
  await carl.seen.until('bob,carl')
  await redis.start()
  await ada.seen.until('ada,bob,carl')
  await carl.seen.until('ada,bob,carl')
  const dan = await member(t, a.url, 'dan')
  await dan.seen.until('ada,bob,carl,dan')
  t.same(Object.keys(await b.hub.presence('room:1').list()).sort(), ['ada', 'bob', 'carl', 'dan'], 'the store has every node again')
})
