import { Type, type Static } from 'typebox'
import { ClientError, WebSocketResource, injectable, message, subroute, type WebSocketHooks } from '../../lib/index.js'
import { ProjectStore } from './store.js'

const AddTask = message('addTask', { title: Type.String({ minLength: 1, maxLength: 200 }) })
const CompleteTask = message('completeTask', { id: Type.Integer({ minimum: 1 }) })
const ListTasks = message('listTasks')

/** What Project hands its nested resources. */
export interface ProjectContext {
  project: string
  room: string
}

interface ConnectionState { user: string }

/** `/api/v1/projects/:projectId/tasks`: the tasks of a project, live. Messages land here, inside Project's hooks. */
// TypeScript's __decorate helper has branches that map onto the decorated class's constructor
/* c8 ignore start */
@injectable()
export class Tasks extends WebSocketResource<{ projectId: string }, ConnectionState> {
  static schema = Type.Union([AddTask, CompleteTask, ListTasks])

  constructor (private readonly project: ProjectContext, private readonly store: ProjectStore) { super() }
  /* c8 ignore stop */

  override async onConnect (): Promise<void> {
    this.send({ type: 'tasks', payload: this.store.list(this.project.project) })
  }

  async onAddTask (msg: Static<typeof AddTask>): Promise<void> {
    const task = this.store.add(this.project.project, msg.payload.title, this.state.user)
    await this.broadcast(this.project.room, { type: 'taskAdded', payload: task })
  }

  async onCompleteTask (msg: Static<typeof CompleteTask>): Promise<void> {
    const task = this.store.complete(this.project.project, msg.payload.id)
    if (task === undefined) throw new ClientError('NOT_FOUND', `no task ${msg.payload.id} in this project`)
    await this.broadcast(this.project.room, { type: 'taskCompleted', payload: task })
  }

  onListTasks (): void {
    this.send({ type: 'tasks', payload: this.store.list(this.project.project) })
  }
}

/** Counts messages per connection: a resource-tier hook, which wraps its nested resources' messages too. */
const countMessages: WebSocketHooks = {
  afterMessage: (ctx) => {
    const state = ctx.state as { messages?: number }
    state.messages = (state.messages ?? 0) + 1
  }
}

/** `/api/v1/projects/:projectId`: membership of a project's room; parent of Tasks. */
export class Project extends WebSocketResource<{ projectId: string }, ConnectionState> {
  static subroutes = [subroute('tasks', Tasks, { name: 'project.tasks' })]
  static hooks = countMessages
  static schema = message('stats')

  get room (): string {
    return `project:${this.params.projectId}`
  }

  override async onConnect (): Promise<void> {
    await this.join(this.room)
    await this.broadcast(this.room, { type: 'memberJoined', payload: { user: this.state.user } }, { excludeSelf: true })
  }

  override getChildContext (): ProjectContext {
    return { project: this.params.projectId, room: this.room }
  }

  onStats (): void {
    this.send({ type: 'stats', payload: { messages: (this.state as { messages?: number }).messages ?? 0 } })
  }
}
