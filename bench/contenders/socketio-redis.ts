import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import type { ContenderServer, StartOptions } from './contender.js'
import { startSocketIo } from './socketio.js'

/** Contender 3 for two nodes: socket.io with `@socket.io/redis-adapter` over ioredis pub/sub clients. */
export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  if (options.redis === undefined) throw new Error('socketio-redis needs options.redis ({ url, prefix })')
  const pub = new Redis(options.redis.url, { lazyConnect: true })
  const sub = pub.duplicate()
  await Promise.all([pub.connect(), sub.connect()])
  const server = await startSocketIo(options, createAdapter(pub, sub, { key: `${options.redis.prefix}socket.io` }))
  return {
    ...server,
    async close () {
      await server.close()
      pub.disconnect()
      sub.disconnect()
    }
  }
}
