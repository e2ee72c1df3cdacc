import 'reflect-metadata'
import t from 'tap'
import { WebSocketResource, injectable, subroute } from '../lib/index.js'
import { connect } from '../lib/testing/index.js'
import { build, until } from './helpers/build.js'

class Comments extends WebSocketResource<{ projectId: string, taskId: string }> {
  static convention = 'any' as const
  onWhere () { this.send({ type: 'here', payload: { params: this.params, parentParams: this.parent?.params, grand: this.parent?.parent?.params } }) }
}

class Tasks extends WebSocketResource<{ projectId: string, taskId?: string }> {
  static convention = 'any' as const
  static subroutes = [subroute(':taskId/comments', Comments, { name: 'project.task.comments' })]
  constructor (readonly fromParent: { project: string, state?: object }, readonly pageSize: number) { super() }
  onInfo () { this.send({ type: 'info', payload: { fromParent: this.fromParent.project, pageSize: this.pageSize, params: this.params, state: this.state } }) }
}

class Project extends WebSocketResource<{ projectId: string }> {
  static convention = 'any' as const
  static subroutes = [subroute('tasks', Tasks, { args: [25], name: 'project.tasks' })]
  override onConnect () { (this.state as Record<string, unknown>).project = this.params.projectId }
  override getChildContext () { return { project: `project ${this.params.projectId}` } }
  onInfo () { this.send({ type: 'info', payload: { params: this.params } }) }
}

t.test('serves the parent path and each nested path, with the deepest resource handling messages', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/projects/:projectId', Project, { name: 'project' })
  const parent = await connect(app, '/projects/p1')
  parent.send({ type: 'info' })
  t.same((await parent.expect('info')).payload, { params: { projectId: 'p1' } })
  const tasks = await connect(app, '/projects/p1/tasks')
  tasks.send({ type: 'info' })
  t.same((await tasks.expect('info')).payload, {
    fromParent: 'project p1', pageSize: 25, params: { projectId: 'p1' }, state: { project: 'p1' }
  }, 'getChildContext feeds the child constructor, route args follow, state is shared down')
  const comments = await connect(app, '/projects/p1/tasks/t9/comments')
  comments.send({ type: 'where' })
  t.same((await comments.expect('here')).payload, {
    params: { projectId: 'p1', taskId: 't9' },
    parentParams: { projectId: 'p1' },
    grand: { projectId: 'p1' }
  })
  t.equal(app.ws.urlFor('project.tasks', { projectId: 'x y' }), '/projects/x%20y/tasks')
  t.equal(app.ws.urlFor('project.task.comments', { projectId: 'a', taskId: 'b' }), '/projects/a/tasks/b/comments')
})

t.test('merges params with the child winning a clash, each level keeping its own by position', async (t) => {
  const seen: Array<Record<string, string>> = []
  class Inner extends WebSocketResource<{ id: string }> {
    override onConnect () { seen.push({ ...this.parent!.params as Record<string, string> }, { ...this.params }) }
  }
  class Outer extends WebSocketResource<{ id: string }> {
    static subroutes = [subroute('inner/:id', Inner)]
  }
  const app = await build(t)
  app.addWebSocketRoute('/outer/:id', Outer)
  await connect(app, '/outer/o%201/inner/i2')
  await until(() => seen.length === 2)
  t.same(seen, [{ id: 'o 1' }, { id: 'i2' }])
})

t.test('runs onConnect parent first and onDisconnect child first; a parent refusing refuses the child', async (t) => {
  const log: string[] = []
  class Child extends WebSocketResource {
    override onConnect () { log.push('child connect') }
    override onDisconnect () { log.push('child disconnect') }
  }
  class Gate extends WebSocketResource<{ open: string }> {
    static subroutes = [subroute('child', Child)]
    override onConnect () { log.push('parent connect'); return this.params.open === 'yes' }
    override onDisconnect () { log.push('parent disconnect') }
  }
  const app = await build(t)
  app.addWebSocketRoute('/gate/:open', Gate)
  const refused = await connect(app, '/gate/no/child')
  t.equal((await refused.closed).code, 1008)
  t.same(log.splice(0), ['parent connect'])
  const ok = await connect(app, '/gate/yes/child')
  await ok.close()
  await until(() => log.length === 4)
  t.same(log, ['parent connect', 'child connect', 'child disconnect', 'parent disconnect'])
})

t.test('lets a parent give its children their own state', async (t) => {
  class Child extends WebSocketResource {
    static convention = 'any' as const
    onState () { this.send({ type: 'state', payload: { mine: this.state, parents: this.parent!.state } }) }
  }
  class Isolating extends WebSocketResource {
    static subroutes = [subroute('child', Child)]
    override onConnect () { (this.state as Record<string, string>).owner = 'parent' }
    override getChildContext () { return { state: { owner: 'child' } } }
  }
  class Stricter extends Child {
    constructor (readonly given: unknown) { super() }
  }
  class Isolating2 extends Isolating { static override subroutes = [subroute('child', Stricter)] }
  const app = await build(t)
  app.addWebSocketRoute('/iso', Isolating2)
  const client = await connect(app, '/iso/child')
  client.send({ type: 'state' })
  t.same((await client.expect('state')).payload, { mine: { owner: 'child' }, parents: { owner: 'parent' } })
})

t.test('injects services into nested resources after the child context and args', async (t) => {
  class Clock { now () { return 7 } }
  @injectable()
  class Child extends WebSocketResource {
    static convention = 'any' as const
    constructor (readonly ctx: unknown, readonly clock: Clock) { super() }
    onNow () { this.send({ type: 'now', payload: { ctx: this.ctx, now: this.clock.now() } }) }
  }
  class Parent extends WebSocketResource {
    static subroutes = [subroute('child', Child)]
    override getChildContext () { return 'from parent' }
  }
  const app = await build(t)
  app.ws.container.register(Clock)
  app.addWebSocketRoute('/p', Parent)
  const client = await connect(app, '/p/child')
  client.send({ type: 'now' })
  t.same((await client.expect('now')).payload, { ctx: 'from parent', now: 7 })
})

t.test('refuses bad subroutes at declaration', async (t) => {
  class NotResource { }
  class BadChild extends WebSocketResource { static subroutes = [subroute('x', NotResource)] }
  class NotArray extends WebSocketResource { static subroutes = 'x' }
  class Loop extends WebSocketResource { static subroutes: unknown[] = [] }
  Loop.subroutes.push(subroute('again', Loop))
  const app = await build(t)
  t.throws(() => app.addWebSocketRoute('/a', BadChild), { code: 'FST_PACHINKO_ROUTE_NOT_RESOURCE', message: /subroute NotResource/ })
  t.throws(() => app.addWebSocketRoute('/b', NotArray), { code: 'FST_PACHINKO_OPTION_INVALID', message: /NotArray.subroutes/ })
  t.throws(() => app.addWebSocketRoute('/c', Loop), { message: /cannot loop/ })
  t.throws(() => subroute('', Loop), { message: /subroute path/ })
})

t.test('leaves a malformed escape in a path to the router (HTTP 400, before any resource)', async (t) => {
  let made = 0
  class Inner extends WebSocketResource { constructor () { super(); made++ } }
  class Outer extends WebSocketResource { static subroutes = [subroute('inner', Inner)] }
  const app = await build(t)
  app.addWebSocketRoute('/o/:id', Outer)
  const error = await connect(app, '/o/50%E0%A4%A/inner').catch((err: { statusCode?: number }) => err)
  t.equal((error as { statusCode?: number }).statusCode, 400)
  t.equal(made, 0)
})
