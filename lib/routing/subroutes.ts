import { ERR_OPTION_INVALID } from '../errors.js'

/** A nested resource: a path under its parent's, bound to a resource class. */
export interface Subroute {
  readonly path: string
  readonly resource: new (...args: never[]) => object
  readonly args: readonly unknown[]
  readonly name: string | undefined
}

/**
 * Declares a nested resource for a parent's `static subroutes`: a connection to
 * `<parent path>/<path>` creates the parent, then this resource, and its
 * messages go to this resource inside the parent's hooks.
 * @example static subroutes = [subroute('tasks/:taskId', TaskResource, { name: 'project.task' })]
 */
export function subroute<C extends new (...args: never[]) => object> (path: string, resource: C, options: { args?: unknown[], name?: string } = {}): Subroute {
  if (typeof path !== 'string' || path.length === 0) throw new ERR_OPTION_INVALID('subroute path', 'must be a non-empty string')
  return { path: path.replace(/^\/+/, ''), resource, args: options.args ?? [], name: options.name }
}

/** The subroutes a class declares (`static subroutes`), checked. */
export function subroutesOf (cls: unknown): Subroute[] {
  const declared = (cls as { subroutes?: unknown }).subroutes
  if (declared === undefined) return []
  if (!Array.isArray(declared)) throw new ERR_OPTION_INVALID(`${(cls as { name: string }).name}.subroutes`, 'must be an array of subroute(path, Resource) entries')
  return declared as Subroute[]
}

/** `/projects/:id` + `tasks` → `/projects/:id/tasks`. */
export function joinPath (base: string, child: string): string {
  return `${base.replace(/\/+$/, '')}/${child}`
}

/**
 * The params of one level of a nested route, read by position from the request
 * path: the parent keeps its own values even when a child reuses a param name.
 */
export function paramsByPosition (pattern: string, url: string): Record<string, string> {
  const patternParts = pattern.split('/')
  const pathParts = url.split('?')[0].split('/')
  const params: Record<string, string> = {}
  for (let i = 0; i < patternParts.length && i < pathParts.length; i++) {
    const match = /^:([A-Za-z0-9_]+)(\([^)]*\))?\??$/.exec(patternParts[i])
    if (match === null) continue
    // Fastify's router has already refused a malformed escape with HTTP 400
    params[match[1]] = decodeURIComponent(pathParts[i])
  }
  return params
}
