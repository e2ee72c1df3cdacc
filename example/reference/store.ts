/** A task of a project. */
export interface Task {
  id: number
  title: string
  done: boolean
  by: string
}

/** The app's data: projects and their tasks, in memory (a database in a real app). Injected as a singleton. */
export class ProjectStore {
  private readonly tasks = new Map<string, Task[]>()
  private nextId = 1

  list (project: string): Task[] {
    return this.tasks.get(project) ?? []
  }

  add (project: string, title: string, by: string): Task {
    const task = { id: this.nextId++, title, done: false, by }
    this.tasks.set(project, [...this.list(project), task])
    return task
  }

  complete (project: string, id: number): Task | undefined {
    const task = this.list(project).find((t) => t.id === id)
    if (task !== undefined) task.done = true
    return task
  }

  counts (project: string): { open: number, done: number } {
    const tasks = this.list(project)
    const done = tasks.filter((t) => t.done).length
    return { open: tasks.length - done, done }
  }
}

/** Who may connect: token → user name (an identity provider in a real app). */
export const TOKENS: Readonly<Record<string, string>> = { 'token-ann': 'ann', 'token-bob': 'bob' }
