import t, { type Test } from 'tap'
import { buildReferenceApp } from '../../example/reference/app.js'
import { connect, UpgradeRefusedError } from '../../lib/testing/index.js'
import { until } from '../helpers/build.js'
import type { Task } from '../../example/reference/store.js'

async function reference (t: Test, digestMs = 60_000) {
  const app = await buildReferenceApp({ server: { logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } } }, digestMs })
  const logs: Array<Record<string, unknown>> = []
  t.teardown(() => app.close())
  return { app, logs }
}

t.test('refuses an unknown token before the upgrade, under the router prefix', async (t) => {
  const { app } = await reference(t)
  const error = await connect(app, '/api/v1/projects/p1/tasks', { query: { token: 'nope' } }).catch((e: unknown) => e)
  t.ok(error instanceof UpgradeRefusedError)
  t.equal((error as UpgradeRefusedError).statusCode, 403)
  t.equal(app.ws.urlFor('project.tasks', { projectId: 'p1' }), '/api/v1/projects/p1/tasks')
})

t.test('adds and completes tasks through the nested resource, live for every member', async (t) => {
  const { app, logs } = await reference(t)
  const ann = await connect(app, '/api/v1/projects/p1/tasks', { query: { token: 'token-ann' } })
  t.same((await ann.expect('tasks')).payload, [])
  const bob = await connect(app, '/api/v1/projects/p1', { query: { token: 'token-bob' } })
  t.same((await ann.expect('memberJoined')).payload, { user: 'bob' })
  ann.send({ type: 'addTask', payload: { title: 'write docs' } })
  const added = (await bob.expect<{ payload: Task }>('taskAdded')).payload
  t.match(added, { title: 'write docs', done: false, by: 'ann' })
  t.same((await ann.expect('taskAdded')).payload, added)
  ann.send({ type: 'completeTask', payload: { id: added.id } })
  t.match((await bob.expect('taskCompleted')).payload, { id: added.id, done: true })
  ann.send({ type: 'completeTask', payload: { id: 999 } })
  t.same((await ann.expect('error')).error, { code: 'NOT_FOUND', message: 'no task 999 in this project', tag: 'completeTask' })
  ann.send({ type: 'addTask', payload: { title: '' } })
  t.equal((await ann.expect('error')).error.code, 'VALIDATION')
  ann.send({ type: 'listTasks' })
  t.equal((await ann.expect<{ payload: Task[] }>('tasks')).payload.length, 1)
  const other = await connect(app, '/api/v1/projects/p2/tasks', { query: { token: 'token-bob' } })
  t.same((await other.expect('tasks')).payload, [], 'projects are separate')
  await until(() => logs.filter((l) => l.msg === 'message handled').length >= 5)
  t.match(logs.find((l) => l.msg === 'message handled' && l.tag === 'completeTask' && l.failed === true), { connId: /\./ })
})

t.test('counts messages in the parent resource\'s hook, around the nested resource', async (t) => {
  const { app } = await reference(t)
  const ann = await connect(app, '/api/v1/projects/p1/tasks', { query: { token: 'token-ann' } })
  await ann.expect('tasks')
  ann.send({ type: 'listTasks' })
  ann.send({ type: 'listTasks' })
  await ann.expect('tasks')
  await ann.expect('tasks')
  const parent = await connect(app, '/api/v1/projects/p1', { query: { token: 'token-ann' } })
  parent.send({ type: 'stats' })
  parent.send({ type: 'stats' })
  t.same((await parent.expect('stats')).payload, { messages: 0 }, 'state is per connection')
  t.same((await parent.expect('stats')).payload, { messages: 1 }, 'the hook counted the first')
})

t.test('sends each project room a digest from the worker', async (t) => {
  const { app } = await reference(t, 20)
  const ann = await connect(app, '/api/v1/projects/p1/tasks', { query: { token: 'token-ann' } })
  ann.send({ type: 'addTask', payload: { title: 'one' } })
  await ann.expect('taskAdded')
  await until(() => ann.trace.some((e) => (e.data as { type: string, payload: { open: number } }).type === 'digest' && (e.data as { payload: { open: number } }).payload.open === 1), 3000, 'a digest')
  t.pass('digest arrived')
})
