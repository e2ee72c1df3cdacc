import { Type, type TLiteral, type TObject, type TProperties, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { ERR_MESSAGE_INVALID_TAG, ERR_OPTION_INVALID } from '../errors.js'
import { issueCollector } from './validation-issues.js'
import type { ValidationIssue } from './wire-errors.js'

/** The field that carries a message's tag unless the plugin or route says otherwise. */
export const DEFAULT_DISCRIMINATOR = 'type'

type PayloadSchema<P> = P extends { '~kind': string } ? P : P extends TProperties ? TObject<P> : never

/** The schema `message(tag, payload)` builds: `{ type: tag, payload }` (or the discriminator you name instead of `type`). */
export type TMessage<Tag extends string, Payload extends TSchema, D extends string = 'type'> = TObject<{ [K in D]: TLiteral<Tag> } & { payload: Payload }>

/** The schema `message(tag)` builds for a message without payload. */
export type TEmptyMessage<Tag extends string, D extends string = 'type'> = TObject<{ [K in D]: TLiteral<Tag> }>

/** Options of `message()` and `messages()`. */
export interface MessageOptions<D extends string> {
  /**
   * The field that carries the tag; use the same as the plugin's or route's `discriminator`.
   * @default 'type'
   */
  discriminator: D
}

/** `message` bound to one discriminator: what `messages({ discriminator })` returns. */
export interface MessageFactory<D extends string> {
  <Tag extends string> (tag: Tag): TEmptyMessage<Tag, D>
  <Tag extends string, P extends TSchema | TProperties> (tag: Tag, payload: P): TMessage<Tag, PayloadSchema<P>, D>
}

/**
 * Builds a message schema `{ type: Literal(tag), payload }`. `payload` is a TypeBox
 * schema or the properties of an object schema; without it the message is just
 * its tag (under strict validation, any other field is then refused). With a
 * route or plugin `discriminator` other than `type`, pass it here (or build
 * every schema with `messages({ discriminator })`).
 * @example const SendMessage = message('sendMessage', { text: Type.String({ maxLength: 2000 }) })
 */
export function message<Tag extends string> (tag: Tag): TEmptyMessage<Tag>
export function message<Tag extends string, P extends TSchema | TProperties> (tag: Tag, payload: P): TMessage<Tag, PayloadSchema<P>>
export function message<Tag extends string, D extends string> (tag: Tag, payload: undefined, options: MessageOptions<D>): TEmptyMessage<Tag, D>
export function message<Tag extends string, P extends TSchema | TProperties, D extends string> (tag: Tag, payload: P, options: MessageOptions<D>): TMessage<Tag, PayloadSchema<P>, D>
export function message (tag: string, payload?: TSchema | TProperties, options?: MessageOptions<string>): TSchema {
  const discriminator = options === undefined ? DEFAULT_DISCRIMINATOR : checkDiscriminator(options)
  if (typeof tag !== 'string' || tag.length === 0) throw new ERR_MESSAGE_INVALID_TAG('message(tag)', describe(tag))
  const literal = { [discriminator]: Type.Literal(tag) }
  if (payload === undefined) return Type.Object(literal)
  if (payload === null || typeof payload !== 'object') throw new ERR_OPTION_INVALID('message(tag, payload)', `payload must be a TypeBox schema or an object of properties, got ${describe(payload)}`)
  const payloadSchema = isSchema(payload) ? payload : Type.Object(payload as TProperties)
  return Type.Object({ ...literal, payload: payloadSchema })
}

/**
 * `message()` for a discriminator other than `type`, so every schema of a route agrees with it.
 * @example const message = messages({ discriminator: 'kind' }); const Say = message('say', { text: Type.String() })
 */
export function messages<D extends string> (options: MessageOptions<D>): MessageFactory<D> {
  checkDiscriminator(options)
  return ((tag: string, payload?: TSchema | TProperties) => message(tag, payload as TSchema, options)) as MessageFactory<D>
}

function checkDiscriminator (options: MessageOptions<string>): string {
  const discriminator = (options as Partial<MessageOptions<string>> | null)?.discriminator
  if (typeof discriminator !== 'string' || discriminator.length === 0 || discriminator === 'payload') {
    throw new ERR_OPTION_INVALID('discriminator', `must be a non-empty string other than "payload", got ${describe(discriminator)}`)
  }
  return discriminator
}

function describe (value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value
}

function isSchema (value: object): value is TSchema {
  return Object.prototype.hasOwnProperty.call(value, '~kind') || 'type' in value || 'anyOf' in value ||
    'allOf' in value || 'oneOf' in value || '$ref' in value || 'const' in value || 'enum' in value
}

/** The literal string a message schema pins its discriminator to, or undefined when it pins none. */
export function discriminatorLiteral (schema: unknown, discriminator: string): string | undefined {
  if (schema === null || typeof schema !== 'object') return undefined
  const properties = (schema as { properties?: Record<string, unknown> }).properties
  if (properties === undefined || !Object.prototype.hasOwnProperty.call(properties, discriminator)) return undefined
  const field = properties[discriminator] as { const?: unknown, enum?: unknown[] } | undefined
  if (typeof field?.const === 'string') return field.const
  if (Array.isArray(field?.enum) && field.enum.length === 1 && typeof field.enum[0] === 'string') return field.enum[0]
  return undefined
}

/** The message schemas a `static schema` declares: the members of a union, or the schema itself. */
export function unionMembers (schema: TSchema): TSchema[] {
  const s = schema as { anyOf?: TSchema[], oneOf?: TSchema[] }
  return s.anyOf ?? s.oneOf ?? [schema]
}

/** A compiled message check: `check` is the hot path, `issues` runs only on failure. */
export interface MessageValidator {
  check (value: unknown): boolean
  issues (value: unknown): ValidationIssue[]
}

const compiled = new WeakMap<TSchema, Record<string, MessageValidator | undefined>>()

/**
 * Compiles a message schema once per (schema, strictness, allowed field) and
 * caches it. `allow` names a top-level field strict validation lets through
 * without declaring it: the reply field of request/reply.
 */
export function compileMessageSchema (schema: TSchema, strict: boolean, allow?: string): MessageValidator {
  let entry = compiled.get(schema)
  if (entry === undefined) {
    entry = {}
    compiled.set(schema, entry)
  }
  const key = strict ? (allow === undefined ? 'strict' : `strict:${allow}`) : 'loose'
  const existing = entry[key]
  if (existing !== undefined) return existing
  const final = strict ? strictSchema(schema, allow) : schema
  const validator = Compile(final)
  const result: MessageValidator = {
    check: (value) => validator.Check(value),
    issues: issueCollector(final, validator)
  }
  entry[key] = result
  return result
}

/**
 * A copy of `schema` in which every object refuses properties it does not
 * declare (unless it says otherwise), and every `allOf` refuses properties none
 * of its members declare.
 */
export function strictSchema (schema: TSchema, allow?: string): TSchema {
  const out = strictify(schema, false, new Map()) as Record<string, unknown>
  if (allow === undefined) return out as TSchema
  // a message schema has top-level properties: its discriminator literal is one of them
  const properties = out.properties as Record<string, unknown>
  if (Object.prototype.hasOwnProperty.call(properties, allow)) return out as TSchema
  return { ...out, properties: { ...properties, [allow]: {} } } as TSchema
}

function strictify (node: unknown, underAllOf: boolean, seen: Map<object, unknown>): unknown {
  if (node === null || typeof node !== 'object') return node
  const cached = seen.get(node)
  if (cached !== undefined) return cached
  if (Array.isArray(node)) {
    const out: unknown[] = []
    seen.set(node, out)
    for (const item of node) out.push(strictify(item, underAllOf, seen))
    return out
  }
  const source = node as Record<string, unknown>
  const out: Record<string, unknown> = {}
  seen.set(node, out)
  for (const key of Object.keys(source)) {
    const value = source[key]
    if (key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions') {
      const map: Record<string, unknown> = {}
      for (const name of Object.keys(value as object)) map[name] = strictify((value as Record<string, unknown>)[name], false, seen)
      out[key] = map
    } else if (key === 'allOf') {
      out[key] = (value as unknown[]).map((member) => strictify(member, true, seen))
    } else if (key === 'anyOf' || key === 'oneOf') {
      // a union directly inside an allOf is part of the intersection too
      out[key] = strictify(value, underAllOf, seen)
    } else if (key === 'items' || key === 'prefixItems' || key === 'additionalProperties' || key === 'additionalItems' || key === 'not') {
      out[key] = strictify(value, false, seen)
    } else {
      out[key] = value
    }
  }
  if (Array.isArray(source.allOf) && source.unevaluatedProperties === undefined && !underAllOf) {
    out.unevaluatedProperties = false
  } else if (isObjectSchema(source) && source.additionalProperties === undefined && !underAllOf) {
    out.additionalProperties = false
  }
  return out
}

function isObjectSchema (schema: Record<string, unknown>): boolean {
  return schema.type === 'object' || (schema.type === undefined && schema.properties !== undefined)
}
