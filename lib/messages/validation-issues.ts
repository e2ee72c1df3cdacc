import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import type { ValidationIssue } from './wire-errors.js'

/*
 * What is wrong with a message its compiled check refused. TypeBox's Errors()
 * walks the whole schema with its interpreter, building path patterns as it
 * goes: for a small message that costs more than ten valid ones, and invalid
 * frames are what a flood is made of. So issues are located with compiled
 * checks instead: an object node checks its own keywords (type, required,
 * unknown properties) with a shallow compiled schema and each property with
 * that property's compiled schema, and descends only into what failed; Errors()
 * runs only on the failing leaves. The issues are TypeBox's, in its order,
 * except that TypeBox stops after `maxErrors` (8) errors counting an unknown
 * property twice, where this reports up to 10 issues.
 */

const MAX_ISSUES = 10

interface TypeBoxError { keyword: string, instancePath: string, message: string, params: Record<string, unknown> }
interface Compiled { Check (value: unknown): boolean, Errors (value: unknown): TypeBoxError[] }

/** An object schema node as the locator walks it: only these keywords (annotations aside). */
const OBJECT_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'title', 'description', 'default', 'examples'])

const ANNOTATIONS = ['title', 'description', 'default', 'examples']
/** Keywords that constrain only values of their type: a value of another type fails on `type` alone. */
const TYPED_KEYWORDS: Record<string, readonly string[]> = {
  string: ['minLength', 'maxLength', 'pattern', 'format'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  boolean: [],
  null: []
}

/** A leaf whose errors for a value of the wrong type depend on nothing but that type (so they can be remembered). */
function isTypedLeaf (schema: Record<string, unknown>): boolean {
  const own = typeof schema.type === 'string' ? TYPED_KEYWORDS[schema.type] : undefined
  if (own === undefined) return false
  for (const key of Object.keys(schema)) if (key !== 'type' && !own.includes(key) && !ANNOTATIONS.includes(key)) return false
  return true
}

/** The JSON type of a value, as a typed leaf sees it. */
function jsonType (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** Whether a value of JSON type `actual` is of the schema's `type`. */
function typeMatches (expected: string, actual: string): boolean {
  return expected === actual || (expected === 'number' && actual === 'integer')
}

/** One schema node, its parts compiled on first use. */
class IssueNode {
  private compiled: Compiled | undefined
  /** The object's `type` and `required` alone. */
  private shallow: Compiled | undefined
  /** Each property: its name, its JSON-pointer segment, its node. */
  private children: Array<[name: string, segment: string, node: IssueNode]> | undefined
  /** For a typed leaf: its errors for a value of each wrong type, computed once (a flood of wrong-typed values costs a lookup). */
  private byType: Map<string, TypeBoxError[]> | undefined
  private readonly typedLeaf: boolean
  private readonly plainObject: boolean

  constructor (private readonly schema: Record<string, unknown>) {
    this.typedLeaf = isTypedLeaf(schema)
    this.plainObject = isPlainObjectNode(schema)
  }

  /** Appends the TypeBox errors of `value` (known to fail this node) with paths under `path`. */
  collect (value: unknown, path: string, out: TypeBoxError[]): void {
    if (!this.plainObject || value === null || typeof value !== 'object' || Array.isArray(value)) {
      return append(this.leafErrors(value), path, out)
    }
    const properties = this.schema.properties as Record<string, Record<string, unknown>>
    if (this.children === undefined) {
      // the object's own keywords but its properties and unknown ones, which are looked at one by one below
      this.shallow = Compile({ type: 'object', required: this.schema.required ?? [] } as unknown as TSchema) as unknown as Compiled
      this.children = Object.keys(properties).map((name) => [name, `/${escapePointer(name)}`, new IssueNode(properties[name])])
    }
    // TypeBox's order: required, then unknown properties, then each property in schema order
    const shallow = this.shallow as Compiled
    if (!shallow.Check(value)) append(shallow.Errors(value), path, out)
    const object = value as Record<string, unknown>
    if (this.schema.additionalProperties === false) {
      let unknown: string[] | undefined
      for (const name in object) if (!Object.prototype.hasOwnProperty.call(properties, name)) (unknown ??= []).push(name)
      if (unknown !== undefined) out.push({ keyword: 'additionalProperties', instancePath: path, message: 'must not have additional properties', params: { additionalProperties: unknown } })
    }
    for (const [name, segment, child] of this.children) {
      if (!Object.prototype.hasOwnProperty.call(object, name)) continue
      const field = object[name]
      if (!child.check(field)) child.collect(field, path + segment, out)
    }
  }

  private leafErrors (value: unknown): TypeBoxError[] {
    this.compiled ??= Compile(this.schema as TSchema) as unknown as Compiled
    const actual = this.typedLeaf ? jsonType(value) : undefined
    if (actual === undefined || typeMatches(this.schema.type as string, actual)) return this.compiled.Errors(value)
    const byType = this.byType ??= new Map()
    let errors = byType.get(actual)
    if (errors === undefined) {
      errors = this.compiled.Errors(value)
      byType.set(actual, errors)
    }
    return errors
  }

  private check (value: unknown): boolean {
    this.compiled ??= Compile(this.schema as TSchema) as unknown as Compiled
    return this.compiled.Check(value)
  }
}

function append (errors: TypeBoxError[], path: string, out: TypeBoxError[]): void {
  for (const error of errors) out.push(path === '' ? error : { ...error, instancePath: path + error.instancePath })
}

function isPlainObjectNode (schema: Record<string, unknown>): boolean {
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null) return false
  if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') return false
  for (const key of Object.keys(schema)) if (!OBJECT_KEYWORDS.has(key)) return false
  return true
}

/** True when a schema refers to definitions (`$ref`, `$id`, `$defs`): its parts cannot be compiled on their own. */
function refersToDefinitions (node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false
  for (const key of Object.keys(node)) {
    if (key === '$ref' || key === '$id' || key === '$defs' || key === 'definitions' || key === '$dynamicRef') return true
    if (refersToDefinitions((node as Record<string, unknown>)[key])) return true
  }
  return false
}

/**
 * The issue collector for a compiled schema: `schema` is what `whole` was
 * compiled from. Schemas with definitions use TypeBox's Errors() on the whole.
 */
export function issueCollector (schema: TSchema, whole: Compiled): (value: unknown) => ValidationIssue[] {
  if (refersToDefinitions(schema)) return (value) => toIssues(whole.Errors(value))
  const root = new IssueNode(schema as unknown as Record<string, unknown>)
  return (value) => {
    const errors: TypeBoxError[] = []
    root.collect(value, '', errors)
    return toIssues(errors)
  }
}

function toIssues (errors: TypeBoxError[]): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  for (const error of errors) {
    // TypeBox reports an unknown property twice: once as `additionalProperties`
    // on the object and once as the `false` schema it met at the property.
    if (error.keyword === 'boolean') continue
    const extra = error.params.additionalProperties ?? error.params.unevaluatedProperties
    if (Array.isArray(extra)) {
      for (const name of extra) issues.push({ path: `${error.instancePath}/${escapePointer(String(name))}`, message: 'unknown property' })
    } else {
      issues.push({ path: error.instancePath, message: error.message })
    }
  }
  return issues.slice(0, MAX_ISSUES)
}

function escapePointer (segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1')
}
