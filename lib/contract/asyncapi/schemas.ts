/*
 * TypeBox schemas as the JSON Schema draft-07 an AsyncAPI document carries.
 * TypeBox's output is JSON Schema already; what needs rewriting is local
 * definitions: `Type.Cyclic` (and any `$defs`) refer to a definition by a
 * bare name (`$ref: 'Node'`), which a document-wide resolver reads as a
 * relative URI. Each definition moves to `components.schemas` under a name
 * unique in the document, and its references point there.
 */

type Json = Record<string, unknown>

/** The `components.schemas` of one document, filled as payloads are converted. */
export class SchemaComponents {
  readonly schemas: Record<string, Json> = {}
  /** The same definition (name and content) met again, in another payload, reuses its component. */
  private readonly seen = new Map<string, string>()

  /** A deep copy of `schema` with every local definition hoisted into components. */
  convert (schema: unknown): Json {
    // a JSON round trip keeps exactly what JSON Schema has: TypeBox's `~kind` markers are not enumerable
    const copy = JSON.parse(JSON.stringify(schema)) as unknown
    return this.rewrite(copy, new Map()) as Json
  }

  private rewrite (node: unknown, scope: ReadonlyMap<string, string>): unknown {
    if (Array.isArray(node)) return node.map((item) => this.rewrite(item, scope))
    if (node === null || typeof node !== 'object') return node
    const source = node as Json
    let inner = scope
    const defs = (source.$defs ?? source.definitions) as Record<string, unknown> | undefined
    if (defs !== null && typeof defs === 'object') {
      const names = new Map(scope)
      const fresh: string[] = []
      for (const local of Object.keys(defs)) {
        const key = `${local}\0${JSON.stringify(defs[local])}`
        let name = this.seen.get(key)
        if (name === undefined) {
          name = this.allocate(local)
          this.seen.set(key, name)
          fresh.push(local)
        }
        names.set(local, name)
      }
      inner = names
      for (const local of fresh) this.schemas[names.get(local) as string] = this.rewrite(defs[local], inner) as Json
    }
    const out: Json = {}
    for (const key of Object.keys(source)) {
      if (key === '$defs' || key === 'definitions' || key === '$id') continue
      const value = source[key]
      out[key] = key === '$ref' && typeof value === 'string' ? reference(value, inner) : this.rewrite(value, inner)
    }
    return out
  }

  /** A component name for a definition: its own name when free, else with a counter. */
  private allocate (local: string): string {
    const base = local.replace(/[^A-Za-z0-9._-]/g, '_')
    let name = base
    for (let n = 2; Object.prototype.hasOwnProperty.call(this.schemas, name); n++) name = `${base}_${n}`
    // reserve it before converting the body, which may refer to itself
    this.schemas[name] = {}
    return name
  }
}

function reference (ref: string, scope: ReadonlyMap<string, string>): string {
  const local = ref.startsWith('#/$defs/') ? ref.slice(8) : ref.startsWith('#/definitions/') ? ref.slice(14) : ref
  const name = scope.get(local)
  return name === undefined ? ref : `#/components/schemas/${name}`
}
