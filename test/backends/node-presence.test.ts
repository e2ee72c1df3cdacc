import t from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { NodePresence, type LocalView } from '../../lib/backends/cluster-presence.js'
import type { ClusterTransport } from '../../lib/backends/cluster-transport.js'

/*
 * A node's heartbeat, driven by a transport whose answers the test chooses:
 * the cluster losing this node's state (a heartbeat that finds it gone) makes
 * it republish, but only when it has state to put back; a failing heartbeat
 * is a debug line. Over a real transport these depend on timing, so they are
 * pinned here.
 */

type Beat = boolean | Error

// the heartbeat timer is unref'd, as it should be in an app: this keeps the test's process alive while it waits
const alive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(alive))

function harness (beats: Beat[], size: number) {
  const calls: string[] = []
  const logs: Array<{ level: string, msg: string }> = []
  let beaten!: () => void
  const done = new Promise<void>((resolve) => { beaten = resolve })
  const transport = {
    description: 'fake',
    heartbeat: async () => {
      const beat = beats.shift()
      calls.push(`heartbeat ${String(beat)}`)
      if (beats.length === 0) setImmediate(beaten)
      if (beat instanceof Error) throw beat
      return beat ?? true
    },
    subscribe: async (channels: string[]) => { calls.push(`subscribe ${channels.join()}`) },
    replaceNode: async () => { calls.push('replaceNode') },
    removeNode: async () => { calls.push('removeNode') }
  } as unknown as ClusterTransport
  const log = (level: string) => (_: unknown, msg: string) => { logs.push({ level, msg }) }
  const logger = { info: log('info'), debug: log('debug'), warn: log('warn'), error: log('error') } as unknown as FastifyBaseLogger
  const local: LocalView = { channels: () => ['room:a'], state: () => ({ connections: [], rooms: [], users: [] }) as never, size: () => size }
  const presence = new NodePresence(transport, 'fake', 'node-1', 1, 1000, logger, local)
  return { presence, calls, logs, done }
}

t.test('a heartbeat that finds the node\'s state gone republishes it, when the node has state', async (t) => {
  const { presence, calls, logs, done } = harness([false], 2)
  presence.start()
  await done
  await presence.stop()
  t.same(calls.slice(0, 4), ['heartbeat false', 'subscribe room:a', 'replaceNode', 'heartbeat undefined'], 'resubscribed, republished, and beat again')
  t.ok(logs.some((line) => line.level === 'info' && /resubscribed and republished/.test(line.msg)))
})

t.test('with nothing to put back, a lost state is left alone; a live one too', async (t) => {
  const { presence, calls, done } = harness([false, true], 0)
  presence.start()
  await done
  await presence.stop()
  t.same(calls.filter((call) => !call.startsWith('heartbeat')), ['removeNode'], 'no resubscription, only the clean leave')
})

t.test('a failing heartbeat is a debug line and the next one goes on', async (t) => {
  const { presence, calls, logs, done } = harness([new Error('timeout'), true], 1)
  presence.start()
  await done
  await presence.stop()
  t.same(calls.slice(0, 2), ['heartbeat Error: timeout', 'heartbeat true'])
  t.same(logs.map((line) => `${line.level} ${line.msg}`), ['debug heartbeat failed'])
})
