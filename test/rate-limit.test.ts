import 'reflect-metadata'
import t from 'tap'
import { CloseCode, WebSocketResource } from '../lib/index.js'
import { connect, type TestConnection } from '../lib/testing/index.js'
import { RateLimit } from '../lib/rate-limit/token-bucket.js'
import { resolveRateLimit } from '../lib/rate-limit/options.js'
import { build, until } from './helpers/build.js'

class Counter extends WebSocketResource {
  static convention = 'any' as const
  static handled = new Map<string, number>()
  onPing (msg: { type: 'ping', payload: string }) {
    Counter.handled.set(msg.payload, (Counter.handled.get(msg.payload) ?? 0) + 1)
    this.send({ type: 'pong', payload: msg.payload })
  }

  onAsk () {
    return 'answer'
  }
}

/** One refill per minute: within a test only the burst is ever available, so the counts below are exact. */
const SLOW = { messages: 1, perMs: 60_000 }

/** Counts a client's incoming frames by tag (and error code) without keeping them; `total` counts them all. */
function tally (client: TestConnection): Map<string, number> {
  const counts = new Map<string, number>()
  client.socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString())
    const key = frame.type === 'error' ? `error:${frame.error.code}` : frame.type
    counts.set(key, (counts.get(key) ?? 0) + 1)
    counts.set('total', (counts.get('total') ?? 0) + 1)
  })
  return counts
}

/** The first frame from now on that has `ref`. */
async function frameWithRef (client: TestConnection, ref: unknown): Promise<Record<string, any>> {
  return await new Promise((resolve) => {
    client.socket.on('message', function onMessage (data: Buffer) {
      const frame = JSON.parse(data.toString())
      if (frame.ref !== ref) return
      client.socket.off('message', onMessage)
      resolve(frame)
    })
  })
}

t.test('a flood of 10,000 messages from one client is limited while another client is unaffected', async (t) => {
  Counter.handled.clear()
  // 10,000 error frames written in one go are more than the default 1 MiB send buffer of a client that has not read yet
  const app = await build(t, { rateLimit: { ...SLOW, burst: 20, closeAfter: false }, backpressure: { highWaterMark: 16 * 1024 * 1024 } })
  app.addWebSocketRoute('/ws', Counter)
  const flooder = await connect(app, '/ws')
  const calm = await connect(app, '/ws')
  const flooded = tally(flooder)
  const calmCounts = tally(calm)
  for (let i = 0; i < 10_000; i++) {
    flooder.send({ type: 'ping', payload: 'flooder' })
    if (i % 2000 === 0) calm.send({ type: 'ping', payload: 'calm' })
  }
  const lastFrame = frameWithRef(flooder, 'last')
  flooder.send({ type: 'ping', payload: 'flooder', ref: 'last' })
  const last = await lastFrame
  t.match(last, { type: 'error', ref: 'last', error: { code: 'RATE_LIMITED', retryAfterMs: Number } })
  t.ok(last.error.retryAfterMs > 0 && last.error.retryAfterMs <= 60_000, 'retryAfterMs says when the next token comes')
  t.equal(Counter.handled.get('flooder'), 20, 'only the burst was dispatched')
  t.equal(flooded.get('pong'), 20)
  t.equal(flooded.get('error:RATE_LIMITED'), 10_001 - 20, 'every other message got RATE_LIMITED')
  for (let i = 0; i < 5; i++) await calm.expect('pong')
  t.equal(Counter.handled.get('calm'), 5, 'the other client got every message through')
  t.equal(calmCounts.get('error:RATE_LIMITED'), undefined, 'and no RATE_LIMITED')
  t.equal(app.ws.metrics.messagesLimited, 10_001 - 20)
  t.equal(app.ws.metrics.rateLimitCloses, 0)
  t.ok(flooder.socket.readyState === 1, 'closeAfter: false keeps the flooder open')
  t.notOk(app.logs.some((line) => line.level >= 40), 'nothing above info was logged')
})

t.test('sustained abuse closes with 1008 and counts the close', async (t) => {
  const app = await build(t, { rateLimit: { ...SLOW, burst: 3, closeAfter: 5 } })
  app.addWebSocketRoute('/ws', Counter)
  const client = await connect(app, '/ws')
  const other = await connect(app, '/ws')
  const counts = tally(client)
  for (let i = 0; i < 1000; i++) client.send({ type: 'ping', payload: 'abuser' })
  const closed = await client.closed
  t.equal(closed.code, CloseCode.POLICY_VIOLATION)
  t.equal(closed.reason, 'rate limit exceeded')
  t.equal(counts.get('pong'), 3)
  t.equal(counts.get('error:RATE_LIMITED'), 4, 'refused four times, closed at the fifth')
  t.equal(app.ws.metrics.rateLimitCloses, 1)
  t.ok(app.ws.metrics.messagesLimited >= 5)
  t.ok(app.logs.some((line) => line.level === 30 && line.msg === 'rate limit exceeded again and again; closing'), 'the close is logged at info')
  t.notOk(app.logs.some((line) => line.level >= 40))
  other.send({ type: 'ping', payload: 'other' })
  await other.expect('pong')
})

t.test('a refused request fails at once: its RATE_LIMITED frame carries the ref', async (t) => {
  const app = await build(t, { rateLimit: { ...SLOW, burst: 1, closeAfter: false } })
  app.addWebSocketRoute('/ws', Counter)
  const client = await connect(app, '/ws')
  client.send({ type: 'ask', ref: 1 })
  t.match(await client.expect('reply'), { ref: 1, payload: 'answer' })
  client.send({ type: 'ask', ref: 2 })
  t.match(await client.expect('error'), { ref: 2, error: { code: 'RATE_LIMITED' } })
  // frames that only look like they have a ref get a frame without one
  client.sendRaw('{"ref": 3')
  client.sendRaw('["ref", 3]')
  client.sendRaw('{"ref": {"no": 1}}')
  client.sendRaw('"ref"')
  client.sendRaw(Buffer.from('{"ref": 4}'))
  client.send({ type: 'ask' })
  for (let i = 0; i < 6; i++) {
    const frame = await client.expect('error')
    t.equal(frame.error.code, 'RATE_LIMITED')
    t.notOk('ref' in frame, 'no ref')
  }
})

t.test('a route\'s rateLimit replaces the plugin\'s, and false turns it off', async (t) => {
  const app = await build(t, { rateLimit: { ...SLOW, burst: 1, closeAfter: false } })
  app.addWebSocketRoute('/plugin', Counter)
  app.addWebSocketRoute('/own', Counter, { rateLimit: { ...SLOW, burst: 2, closeAfter: false } })
  app.addWebSocketRoute('/off', Counter, { rateLimit: false })
  for (const [path, allowed] of [['/plugin', 1], ['/own', 2], ['/off', 10]] as const) {
    const client = await connect(app, path)
    const counts = tally(client)
    for (let i = 0; i < 10; i++) client.send({ type: 'ping', payload: path })
    await until(() => counts.get('total') === 10, 2000, `${path}: ten answers`)
    t.equal(counts.get('pong') ?? 0, allowed, `${path}: ${allowed} through`)
    t.equal(counts.get('error:RATE_LIMITED') ?? 0, 10 - allowed, `${path}: the rest limited`)
    await client.close()
  }
})

t.test('messages sent before onConnect finishes count too', async (t) => {
  class Slow extends Counter {
    override async onConnect () {
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const app = await build(t, { rateLimit: { ...SLOW, burst: 2, closeAfter: false } })
  app.addWebSocketRoute('/ws', Slow)
  const client = await connect(app, '/ws')
  for (let i = 0; i < 4; i++) client.send({ type: 'ping', payload: 'early' })
  await client.expect('pong')
  await client.expect('pong')
  t.equal((await client.expect('error')).error.code, 'RATE_LIMITED')
  t.equal((await client.expect('error')).error.code, 'RATE_LIMITED')
})

t.test('the bucket refills with time, from the time of each take, and never beyond its burst', async (t) => {
  const limit = new RateLimit({ messages: 10, perMs: 1000, burst: 2, closeAfter: 3 })
  const bucket = limit.bucket(0)
  t.equal(limit.take(bucket, 0), 0)
  t.equal(limit.take(bucket, 0), 0)
  t.equal(limit.take(bucket, 0), 100, 'one token comes every 100 ms')
  t.equal(limit.take(bucket, 40), 60)
  t.notOk(limit.exceeded(bucket), 'two refusals')
  t.equal(limit.take(bucket, 100), 0, 'refilled')
  t.equal(limit.take(bucket, 100), 100)
  t.ok(limit.exceeded(bucket), 'three refusals within one perMs')
  t.equal(limit.take(bucket, 10_000), 0, 'a long pause refills...')
  t.equal(limit.take(bucket, 10_000), 0)
  t.equal(limit.take(bucket, 10_000), 100, '...only up to the burst')
  t.notOk(limit.exceeded(bucket), 'a new window starts the refusals again')
  t.equal(limit.take(bucket, 9_000), 100, 'a clock that went back adds nothing')
  const never = new RateLimit({ messages: 1, perMs: 1000, burst: 1, closeAfter: 0 })
  const b = never.bucket(0)
  for (let i = 0; i < 10; i++) never.take(b, 0)
  t.notOk(never.exceeded(b), 'closeAfter 0 never closes')
})

t.test('resolves defaults: burst and closeAfter default to messages; joins get a bucket of their own', async (t) => {
  const limits = resolveRateLimit({ messages: 5, perMs: 100, joins: { messages: 1, perMs: 1000, closeAfter: false } })!
  t.same(limits.messages.limit, { messages: 5, perMs: 100, burst: 5, closeAfter: 5 })
  t.same(limits.joins?.limit, { messages: 1, perMs: 1000, burst: 1, closeAfter: 0 })
  t.equal(resolveRateLimit({ messages: 5, perMs: 100 })?.joins, undefined)
  t.equal(resolveRateLimit(undefined), undefined)
})

t.test('bad rateLimit values are coded errors that name the option', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /"rateLimit": must be an object like \{ messages: 100, perMs: 1000, burst: 200 \}, got null/],
    [[], /"rateLimit": must be an object.*got an array/],
    [100, /"rateLimit": must be an object.*got 100/],
    [{ perMs: 1000 }, /"rateLimit.messages": must be a positive integer, got undefined/],
    [{ messages: 0, perMs: 1000 }, /"rateLimit.messages": must be a positive integer, got 0/],
    [{ messages: 10, perMs: '1s' }, /"rateLimit.perMs": must be a positive integer, got "1s"/],
    [{ messages: 10, perMs: 1000, burst: 1.5 }, /"rateLimit.burst": must be a positive integer, got 1.5/],
    [{ messages: 10, perMs: 1000, closeAfter: -1 }, /"rateLimit.closeAfter": must be a positive integer, got -1/],
    [{ messages: 10, perMs: 1000, closeAfter: true }, /"rateLimit.closeAfter": must be a positive integer, got true/],
    [{ messages: 10, perMs: 1000, mesages: 5 }, /"rateLimit.mesages": is not an option; use messages, perMs, burst, closeAfter, joins/],
    [{ messages: 10, perMs: 1000, joins: 'often' }, /"rateLimit.joins": must be an object.*got "often"/],
    [{ messages: 10, perMs: 1000, joins: { messages: 1, perMs: 0 } }, /"rateLimit.joins.perMs": must be a positive integer, got 0/],
    [{ messages: 10, perMs: 1000, joins: { messages: 1, perMs: 10, joins: {} } }, /"rateLimit.joins.joins": is not an option/],
    [{ messages: 10, perMs: 1000, burst: { many: true } }, /"rateLimit.burst": must be a positive integer, got an object/]
  ]
  for (const [value, message] of cases) {
    await t.rejects(build(t, { rateLimit: value as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message }, `plugin: ${JSON.stringify(value)}`)
  }
  const app = await build(t)
  t.throws(() => app.addWebSocketRoute('/ws', Counter, { rateLimit: { messages: 1, perMs: -5 } }), {
    code: 'FST_PACHINKO_OPTION_INVALID', message: /"rateLimit.perMs": must be a positive integer, got -5/
  }, 'a route\'s bad value throws at declaration')
})
