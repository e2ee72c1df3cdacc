import { Type, type Static } from 'typebox'
import { ClientError, WebSocketResource, handlesMessage, injectable, message, subroute, type WebSocketHooks } from '../../lib/index.js'
import { ProjectStore, type Task } from './store.js'

const AddTask = message('addTask', { title: Type.String({ minLength: 1, maxLength: 200 }) })
const CompleteTask = message('completeTask', { id: Type.Integer({ minimum: 1 }) })
const ListTasks = message('listTasks')

const TaskSchema = Type.Object({ id: Type.Integer(), title: Type.String(), done: Type.Boolean(), by: Type.String() })
const MemberJoined = message('memberJoined', { user: Type.String() })
const Digest = message('digest', { open: Type.Integer(), done: Type.Integer() })
/** What Tasks sends (its parent's broadcasts to the room reach it too). */
const TasksEmits = Type.Union([
  message('tasks', Type.Array(TaskSchema)), message('taskAdded', TaskSchema), message('taskCompleted', TaskSchema), MemberJoined, Digest
])
/** What Project sends. */
const ProjectEmits = Type.Union([MemberJoined, message('stats', { messages: Type.Integer() }), Digest])

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
export class Tasks extends WebSocketResource<{ projectId: string }, ConnectionState, typeof TasksEmits> {
  static schema = Type.Union([AddTask, CompleteTask, ListTasks])
  static emits = TasksEmits

  constructor (private readonly project: ProjectContext, private readonly store: ProjectStore) { super() }
  /* c8 ignore stop */

  override async onConnect (): Promise<void> {
    this.send({ type: 'tasks', payload: this.store.list(this.project.project) })
  }

  /* c8 ignore start -- TypeScript's __decorate helper has branches that map onto the decorated method's line */
  // a request (a message with a ref) gets the new task back as its reply
  @handlesMessage('addTask', AddTask, { reply: TaskSchema })
  async addTask (msg: Static<typeof AddTask>): Promise<Task> {
    /* c8 ignore stop */
    const task = this.store.add(this.project.project, msg.payload.title, this.state.user)
    await this.broadcast(this.project.room, { type: 'taskAdded', payload: task })
    return task
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
export class Project extends WebSocketResource<{ projectId: string }, ConnectionState, typeof ProjectEmits> {
  static emits = ProjectEmits
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
