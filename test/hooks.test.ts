import 'reflect-metadata'
import t from 'tap'
import { ClientError, WebSocketResource, subroute, type HookContext, type WebSocketHooks } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

/** Hooks that record `tier:event` into `log`, for every event. */
function recorder (tier: string, log: string[]): WebSocketHooks {
  const record = (ctx: HookContext) => { log.push(`${tier}:${ctx.event}${ctx.tag === undefined ? '' : `(${ctx.tag})`}`) }
  return { beforeConnect: record, afterConnect: record, beforeMessage: record, afterMessage: record, beforeDisconnect: record, afterDisconnect: record }
}

t.test('runs every tier in onion order: global → context → route → parent → resource → handler → back out', async (t) => {
  const log: string[] = []
  class Child extends WebSocketResource {
    static convention = 'any' as const
    static hooks = recorder('child', log)
    override onConnect () { log.push('child.onConnect') }
    onPing () { log.push('handler'); this.send({ type: 'pong' }) }
    override onDisconnect () { log.push('child.onDisconnect') }
  }
  class Parent extends WebSocketResource {
    static hooks = recorder('parent', log)
    static subroutes = [subroute('child', Child)]
    override onConnect () { log.push('parent.onConnect') }
    override onDisconnect () { log.push('parent.onDisconnect') }
  }
  const app = await build(t, { hooks: recorder('global', log) })
  await app.register(async (scoped) => {
    for (const [event, hook] of Object.entries(recorder('context', log))) scoped.addWebSocketHook(event as never, hook as never)
    scoped.addWebSocketRoute('/parent', Parent, { hooks: recorder('route', log) })
  })
  const client = await connect(app, '/parent/child')
  client.send({ type: 'ping' })
  await client.expect('pong')
  await client.close()
  await until(() => log.includes('global:afterDisconnect'))
  const tiers = ['global', 'context', 'route', 'parent', 'child']
  const around = (event: string, middle: string[], tag = '') => [
    ...tiers.map((tier) => `${tier}:before${event}${tag}`), ...middle, ...[...tiers].reverse().map((tier) => `${tier}:after${event}${tag}`)
  ]
  t.same(log, [
    ...around('Connect', ['parent.onConnect', 'child.onConnect']),
    ...around('Message', ['handler'], '(ping)'),
    ...around('Disconnect', ['child.onDisconnect', 'parent.onDisconnect'])
  ])
})

t.test('keeps context hooks inside their encapsulation context', async (t) => {
  const seen: string[] = []
  class Plain extends WebSocketResource { static convention = 'any' as const; onPing () { this.send({ type: 'pong' }) } }
  const app = await build(t)
  await app.register(async (a) => {
    a.addWebSocketHook('beforeMessage', () => { seen.push('a') })
    a.addWebSocketRoute('/a', Plain)
  })
  await app.register(async (b) => { b.addWebSocketRoute('/b', Plain) })
  for (const path of ['/a', '/b']) {
    const client = await connect(app, path)
    client.send({ type: 'ping' })
    await client.expect('pong')
  }
  t.same(seen, ['a'])
})

t.test('lets beforeConnect refuse (1008 or its own code) and add context the resource sees', async (t) => {
  class Who extends WebSocketResource<Record<string, string>, { user?: string }> {
    static convention = 'any' as const
    onWho () { this.send({ type: 'you', payload: this.state.user }) }
  }
  const afterSeen: Array<{ refused: boolean }> = []
  const app = await build(t, {
    hooks: {
      beforeConnect: (ctx) => {
        const token = ctx.request.headers.authorization
        if (token === undefined) return ctx.refuse()
        if (token === 'banned') return ctx.refuse(4003, 'banned')
        ctx.state.user = `${token} on ${ctx.connection.id.split('.')[0] === ctx.resource.ws.nodeId ? 'this node' : '?'} ${JSON.stringify(ctx.params)}`
      },
      afterConnect: (ctx) => { afterSeen.push({ refused: ctx.refused }) }
    }
  })
  app.addWebSocketRoute('/who', Who)
  t.same(await (await connect(app, '/who')).closed, { code: 1008, reason: 'connection refused' })
  t.same(await (await connect(app, '/who', { headers: { authorization: 'banned' } })).closed, { code: 4003, reason: 'banned' })
  const ann = await connect(app, '/who', { headers: { authorization: 'ann' } })
  ann.send({ type: 'who' })
  t.equal((await ann.expect('you')).payload, 'ann on this node {}')
  t.same(afterSeen, [{ refused: true }, { refused: true }, { refused: false }])
  t.ok(app.logs.some((l) => l.msg === 'connection refused by a beforeConnect hook'))
})

t.test('refuses and logs when a beforeConnect hook throws, at any tier; afterConnect sees the error', async (t) => {
  let disconnects = 0
  const errors: unknown[] = []
  class Guarded extends WebSocketResource {
    static hooks: WebSocketHooks = { beforeConnect: (ctx) => { if (ctx.request.headers['x-fail'] === 'resource') throw new Error('resource tier failed') } }
    override onDisconnect () { disconnects++ }
  }
  const app = await build(t, {
    hooks: {
      beforeConnect: (ctx) => { if (ctx.request.headers['x-fail'] === 'global') throw new Error('global tier failed') },
      afterConnect: (ctx) => { errors.push((ctx.error as Error | undefined)?.message) }
    }
  })
  app.addWebSocketRoute('/g', Guarded, { hooks: { beforeConnect: (ctx) => { if (ctx.request.headers['x-fail'] === 'route') throw new ClientError('NOPE', 'route says no', { close: 4009 }) } } })
  for (const tier of ['global', 'resource']) {
    const client = await connect(app, '/g', { headers: { 'x-fail': tier } })
    t.same(await client.closed, { code: 1008, reason: 'connection refused' }, tier)
  }
  const client = await connect(app, '/g', { headers: { 'x-fail': 'route' } })
  t.same((await client.expect('error')).error, { code: 'NOPE', message: 'route says no' })
  t.equal((await client.closed).code, 4009)
  t.same(errors, ['global tier failed', 'resource tier failed', 'route says no'])
  t.equal(app.logs.filter((l) => l.level === 50 && l.msg === 'beforeConnect failed; connection refused').length, 2)
  await until(() => app.ws.size === 0)
  t.equal(disconnects, 0)
})

t.test('lets beforeMessage drop or rewrite a message; a throwing one gets an error frame and the connection stays', async (t) => {
  const after: Array<{ tag?: string, dropped: boolean, error?: string }> = []
  class Echo extends WebSocketResource {
    static convention = 'any' as const
    onEcho (msg: { payload: unknown }) { this.send({ type: 'echo', payload: msg.payload }) }
    onShout (msg: { payload: string }) { this.send({ type: 'shout', payload: msg.payload }) }
    onBoom () { throw new Error('handler broke') }
  }
  const app = await build(t)
  app.addWebSocketRoute('/e', Echo, {
    hooks: {
      beforeMessage: (ctx) => {
        const payload = ctx.message?.payload
        if (payload === 'drop me') return ctx.drop()
        if (payload === 'throw') throw new Error('hook broke')
        if (payload === 'refuse') throw new ClientError('RATE_LIMITED', 'slow down')
        if (payload === 'rewrite') ctx.message = { type: 'echo', payload: 'rewritten' }
        if (payload === 'retag') ctx.message = { type: 'shout', payload: 'RETAGGED' }
        if (payload === 'to nowhere') ctx.message = { type: 'nothing' }
        if (payload === 'invalid rewrite') ctx.message = 42 as never
      },
      afterMessage: (ctx) => { after.push({ tag: ctx.tag, dropped: ctx.dropped, error: (ctx.error as Error | undefined)?.message }) }
    }
  })
  const client = await connect(app, '/e')
  client.send({ type: 'echo', payload: 'drop me' })
  client.send({ type: 'echo', payload: 'rewrite' })
  t.equal((await client.expect('echo')).payload, 'rewritten', 'the dropped one got nothing; the rewrite went through')
  client.send({ type: 'echo', payload: 'retag' })
  t.equal((await client.expect('shout')).payload, 'RETAGGED')
  client.send({ type: 'echo', payload: 'throw' })
  t.same((await client.expect('error')).error, { code: 'INTERNAL', message: 'internal server error', tag: 'echo' })
  client.send({ type: 'echo', payload: 'refuse' })
  t.same((await client.expect('error')).error, { code: 'RATE_LIMITED', message: 'slow down', tag: 'echo' })
  client.send({ type: 'echo', payload: 'to nowhere' })
  t.equal((await client.expect('error')).error.code, 'UNKNOWN_TYPE')
  client.send({ type: 'echo', payload: 'invalid rewrite' })
  t.equal((await client.expect('error')).error.code, 'INTERNAL')
  client.send({ type: 'boom' })
  t.equal((await client.expect('error')).error.code, 'INTERNAL')
  client.send({ type: 'echo', payload: 'still open' })
  t.equal((await client.expect('echo')).payload, 'still open')
  t.same(after.slice(0, 3), [{ tag: 'echo', dropped: true, error: undefined }, { tag: 'echo', dropped: false, error: undefined }, { tag: 'echo', dropped: false, error: undefined }])
  t.equal(after[3].error, 'hook broke', 'after hooks see a before hook\'s error')
  t.equal(after[7].error, 'handler broke', 'after hooks see the handler\'s error')
  t.equal(after[7].tag, 'boom')
})

t.test('validates a rewritten message against its handler\'s schema', async (t) => {
  class Typed extends WebSocketResource {
    static schema = undefined
  }
  const { Type } = await import('typebox')
  const { message, handlesMessage } = await import('../lib/index.js')
  const Num = message('num', { n: Type.Number() })
  class Numbers extends Typed {
    @handlesMessage('num', Num)
    num (msg: { payload: { n: number } }) { this.send({ type: 'n', payload: msg.payload.n }) }
  }
  const app = await build(t)
  app.addWebSocketRoute('/n', Numbers, { hooks: { beforeMessage: (ctx) => { ctx.message = { type: 'num', payload: { n: String(ctx.message?.payload) } } } } })
  const client = await connect(app, '/n')
  client.send({ type: 'num', payload: { n: 1 } })
  t.equal((await client.expect('error')).error.code, 'VALIDATION')
})

t.test('runs every after hook even when one fails, and logs it', async (t) => {
  const ran: string[] = []
  class Plain extends WebSocketResource { static convention = 'any' as const; onPing () { this.send({ type: 'pong' }) } }
  const app = await build(t, { hooks: { afterMessage: () => { ran.push('global') } } })
  app.addWebSocketRoute('/p', Plain, { hooks: { afterMessage: [() => { throw new Error('after failed') }, () => { ran.push('route') }] } })
  const client = await connect(app, '/p')
  client.send({ type: 'ping' })
  await client.expect('pong')
  await until(() => ran.length === 2)
  t.same(ran, ['route', 'global'])
  t.ok(app.logs.some((l) => l.level === 50 && l.msg === 'WebSocket hook failed' && l.event === 'afterMessage'))
})

t.test('runs disconnect hooks around onDisconnect, even when they or it fail', async (t) => {
  const seen: Array<string | undefined> = []
  class Faulty extends WebSocketResource {
    override onDisconnect () { throw new Error('cleanup failed') }
  }
  const app = await build(t, {
    hooks: {
      beforeDisconnect: () => { throw new Error('before failed') },
      afterDisconnect: (ctx) => { seen.push(`${ctx.code} ${ctx.reason} ${(ctx.error as Error).message}`) }
    }
  })
  app.addWebSocketRoute('/f', Faulty)
  const client = await connect(app, '/f')
  await client.close(4000, 'bye')
  await until(() => seen.length === 1)
  t.same(seen, ['4000 bye before failed'])
  t.ok(app.logs.some((l) => l.msg === 'beforeDisconnect hook failed'))
  t.ok(app.logs.some((l) => l.msg === 'onDisconnect failed'))
  await until(() => app.ws.size === 0)
})

t.test('refuses bad hooks at declaration and hooks added after ready', async (t) => {
  class Plain extends WebSocketResource {}
  class BadStatic extends WebSocketResource { static hooks = { beforeSomething: () => {} } }
  const app = await build(t)
  t.throws(() => app.addWebSocketHook('beforeLunch' as never, () => {}), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"event"/ })
  t.throws(() => app.addWebSocketHook('beforeMessage', 'no' as never), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"hook"/ })
  t.throws(() => app.addWebSocketRoute('/x', Plain, { hooks: { beforeMessage: [1 as never] } }), { message: /"hooks.beforeMessage"/ })
  t.throws(() => app.addWebSocketRoute('/y', Plain, { hooks: 'x' as never }), { message: /"hooks"/ })
  t.throws(() => app.addWebSocketRoute('/z', BadStatic), { message: /"BadStatic.hooks.beforeSomething"/ })
  await app.ready()
  t.throws(() => app.addWebSocketHook('beforeMessage', () => {}), { code: 'FST_PACHINKO_HOOK_AFTER_READY' })
})

t.test('answers a rewrite whose tag is not a string with UNKNOWN_TYPE', async (t) => {
  class Echo extends WebSocketResource { static convention = 'any' as const; onEcho () { this.send({ type: 'echo' }) } }
  const app = await build(t)
  app.addWebSocketRoute('/e', Echo, { hooks: { beforeMessage: (ctx) => { ctx.message = { type: 7 } } } })
  const client = await connect(app, '/e')
  client.send({ type: 'echo' })
  t.match((await client.expect('error')).error, { code: 'UNKNOWN_TYPE', message: 'no handler for "7"' })
})
