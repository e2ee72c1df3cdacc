/*
 * A Fastify route path as an AsyncAPI channel address: `:room` becomes
 * `{room}`, with a `parameters` entry each; `:id(^\d+)` keeps its pattern in
 * the description, `:id?` says it may be empty, `*` becomes `{wildcard}`.
 */

/** An AsyncAPI 3 parameter object. */
export interface AddressParameter {
  description?: string
  enum?: string[]
}

const PARAM = /:([A-Za-z0-9_]+)(\(([^)]*)\))?(\?)?/g

/** The address and its parameters; `params` is the route's `schema.params`, whose `enum`s are carried over. */
export function toAddress (path: string, params?: unknown): { address: string, parameters: Record<string, AddressParameter> } {
  const parameters: Record<string, AddressParameter> = {}
  const declared = ((params as { properties?: Record<string, { enum?: unknown, description?: unknown }> } | undefined)?.properties) ?? {}
  const escaped = path.split('::')
  const address = escaped.map((part) => part
    .replace(PARAM, (_match, name: string, _group: string | undefined, pattern: string | undefined, optional: string | undefined) => {
      const notes = ['A path parameter']
      if (pattern !== undefined) notes.push(`matching ${pattern}`)
      if (optional !== undefined) notes.push('(optional: may be empty)')
      const own = Object.prototype.hasOwnProperty.call(declared, name) ? declared[name] : undefined
      const entry: AddressParameter = { description: typeof own?.description === 'string' ? own.description : notes.join(' ') + '.' }
      if (Array.isArray(own?.enum) && own.enum.every((v) => typeof v === 'string')) entry.enum = own.enum as string[]
      parameters[name] = entry
      return `{${name}}`
    })
    .replace(/\*$/, () => {
      parameters.wildcard = { description: 'The rest of the path (Fastify wildcard).' }
      return '{wildcard}'
    })).join(':')
  return { address, parameters }
}
