import 'reflect-metadata'
import { fork } from 'node:child_process'
import t, { type Test } from 'tap'
import { redisBackend } from '../lib/index.js'
import { presenceMember as member, presenceNode } from './helpers/presence.js'
import { needRedis, REDIS_URL, testPrefix } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'

async function node (t: Test, url: string, prefix: string) {
  return await presenceNode(t, redisBackend({ url, prefix, heartbeatMs: 100 }))
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
