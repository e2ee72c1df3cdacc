import 'reflect-metadata'
import type { TSchema } from 'typebox'
import { HANDLERS_KEY } from '../metadata-keys.js'
import type { HandlerRecord } from './handles-message.js'
import {
  ERR_HANDLER_DUPLICATE_TAG, ERR_HANDLER_NOT_METHOD, ERR_OPTION_INVALID, ERR_SCHEMA_DUPLICATE_TAG,
  ERR_SCHEMA_NO_DISCRIMINATOR, ERR_SCHEMA_TAG_MISMATCH
} from '../errors.js'
import { compileMessageSchema, discriminatorLiteral, unionMembers, type MessageValidator } from './schema.js'

/** One bound handler: the method to call (resolved once, never bound per connection) and its validator. */
export interface HandlerEntry {
  readonly tag: string
  readonly fn: (this: unknown, message: unknown) => unknown
  readonly validator: MessageValidator | undefined
  /** The message schema (explicit or from `static schema`), if any. */
  readonly schema: TSchema | undefined
  /** The reply schema of `@handlesMessage(tag, schema, { reply })`, and its compiled strict check. */
  readonly reply: TSchema | undefined
  readonly replyValidator: MessageValidator | undefined
}

/** A resource class read once: tag → handler. */
export interface DispatchTable {
  /** How many messages of one connection may be handled at once (`static concurrency`, default 1). */
  readonly concurrency: number
  /** The tags the network can reach, each once (for logs and contracts). */
  readonly tags: readonly string[]
  /** One entry per bound handler, by its canonical tag (what the contract documents). */
  readonly entries: readonly HandlerEntry[]
  lookup (tag: string): HandlerEntry | undefined
}

/**
 * Which `on<PascalTag>` methods are handlers: `'schema'` (the default) binds
 * one only for a tag the class's `static schema` declares, so a helper such as
 * `onTimerTick` is never reachable from the network; `'any'` binds every
 * `on[A-Z]…` method, as the library did before.
 */
export type HandlerConvention = 'schema' | 'any'

/** Lifecycle methods are never reachable as message handlers, whatever the client sends. */
const LIFECYCLE = new Set(['onConnect', 'onDisconnect', 'onUnhandled', 'onError', 'onValidationError', 'onRefresh'])
const CONVENTION = /^on[A-Z]/

type ResourceClass = abstract new (...args: never[]) => object

const tables = new WeakMap<ResourceClass, Map<string, DispatchTable>>()

/**
 * The dispatch table of a resource class for a discriminator and default
 * strictness, built on first use and cached. Throws the declaration errors
 * (duplicate tag, schema without the discriminator literal).
 */
export function dispatchTableOf (cls: ResourceClass, discriminator: string, strict: boolean, stop: object, replyField: string): DispatchTable {
  let byConfig = tables.get(cls)
  if (byConfig === undefined) {
    byConfig = new Map()
    tables.set(cls, byConfig)
  }
  const key = `${discriminator}\0${strict}\0${replyField}`
  let table = byConfig.get(key)
  if (table === undefined) {
    table = buildTable(cls, discriminator, strict, stop, replyField)
    byConfig.set(key, table)
  }
  return table
}

function buildTable (cls: ResourceClass, discriminator: string, strict: boolean, stop: object, replyField: string): DispatchTable {
  const className = nameOf(cls)
  const prototype = cls.prototype as Record<string | symbol, unknown>
  const chain: object[] = []
  for (let p: object | null = prototype; p !== null && p !== stop && p !== Object.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p)

  const staticSchemas = readStaticSchema(cls, className, discriminator)
  const decorated = new Map<string, HandlerRecord>()
  for (const proto of chain) {
    const own = new Map<string, HandlerRecord>()
    for (const record of (Reflect.getOwnMetadata(HANDLERS_KEY, proto) ?? []) as HandlerRecord[]) {
      const clash = own.get(record.tag)
      if (clash !== undefined) throw new ERR_HANDLER_DUPLICATE_TAG(className, record.tag, String(clash.method), String(record.method))
      own.set(record.tag, record)
      decorated.set(record.tag, record)
    }
  }

  const exact = new Map<string, HandlerEntry>()
  const byPascal = new Map<string, HandlerEntry>()
  const decoratedMethods = new Set<string | symbol>()
  for (const record of decorated.values()) {
    const fn = prototype[record.method]
    if (typeof fn !== 'function') throw new ERR_HANDLER_NOT_METHOD(className, String(record.method))
    decoratedMethods.add(record.method)
    const schema = record.schema ?? staticSchemas.get(record.tag)
    if (record.schema !== undefined) checkExplicitSchema(record.schema, record.tag, className, discriminator)
    exact.set(record.tag, entry(record.tag, fn, schema, record.strict ?? strict, replyField, record.reply))
  }
  const entries = [...exact.values()]

  const anyName = readConvention(cls, className) === 'any'
  const seen = new Set<string>()
  for (const proto of chain) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name) || !CONVENTION.test(name) || LIFECYCLE.has(name) || decoratedMethods.has(name)) continue
      seen.add(name)
      const fn = prototype[name]
      if (typeof fn !== 'function') continue
      const pascal = name.slice(2)
      const canonical = [...staticSchemas.keys()].find((tag) => toPascal(tag) === pascal)
      if (canonical !== undefined) {
        // the schema pins the tag's spelling: that is the one tag this method answers
        if (!exact.has(canonical)) {
          const handler = entry(canonical, fn, staticSchemas.get(canonical), strict, replyField, undefined)
          exact.set(canonical, handler)
          entries.push(handler)
        }
        continue
      }
      if (!anyName) continue
      const handler = entry(pascal[0].toLowerCase() + pascal.slice(1), fn, undefined, strict, replyField, undefined)
      byPascal.set(pascal, handler)
      entries.push(handler)
      for (const spelling of spellings(pascal)) if (!exact.has(spelling)) exact.set(spelling, handler)
    }
  }

  return {
    concurrency: readConcurrency(cls, className),
    tags: entries.map((handler) => handler.tag),
    entries,
    lookup (tag) {
      const found = exact.get(tag)
      if (found !== undefined || byPascal.size === 0) return found
      const handler = byPascal.get(toPascal(tag))
      // a decorator that claims this tag's exact spelling has already won above
      return handler
    }
  }
}

/** A class's name for messages, even for an anonymous class. */
export function nameOf (cls: { name: string }): string {
  return cls.name === '' ? 'anonymous class' : cls.name
}

function entry (
  tag: string, fn: unknown, schema: TSchema | undefined, strict: boolean, replyField: string | undefined, reply: TSchema | undefined
): HandlerEntry {
  return {
    tag,
    fn: fn as HandlerEntry['fn'],
    validator: schema === undefined ? undefined : compileMessageSchema(schema, strict, replyField),
    schema,
    reply,
    replyValidator: reply === undefined ? undefined : compileMessageSchema(reply, true)
  }
}

function readStaticSchema (cls: ResourceClass, className: string, discriminator: string): Map<string, TSchema> {
  const schemas = new Map<string, TSchema>()
  const declared = (cls as unknown as { schema?: TSchema }).schema
  if (declared === undefined) return schemas
  for (const member of unionMembers(declared)) {
    const tag = discriminatorLiteral(member, discriminator)
    if (tag === undefined) throw new ERR_SCHEMA_NO_DISCRIMINATOR(className, 'static schema', discriminator)
    if (schemas.has(tag)) throw new ERR_SCHEMA_DUPLICATE_TAG(className, tag)
    schemas.set(tag, member)
  }
  return schemas
}

function readConvention (cls: ResourceClass, className: string): HandlerConvention {
  const declared = (cls as unknown as { convention?: unknown }).convention
  if (declared === undefined || declared === 'schema') return 'schema'
  if (declared === 'any') return 'any'
  throw new ERR_OPTION_INVALID(`${className}.convention`, `must be 'schema' or 'any', got ${String(declared)}`)
}

function readConcurrency (cls: ResourceClass, className: string): number {
  const declared = (cls as unknown as { concurrency?: unknown }).concurrency
  if (declared === undefined) return 1
  if (typeof declared !== 'number' || !(declared >= 1) || (!Number.isInteger(declared) && declared !== Infinity)) {
    throw new ERR_OPTION_INVALID(`${className}.concurrency`, 'must be a whole number of at least 1, or Infinity')
  }
  return declared
}

function checkExplicitSchema (schema: TSchema, tag: string, className: string, discriminator: string): void {
  const literal = discriminatorLiteral(schema, discriminator)
  if (literal === undefined) throw new ERR_SCHEMA_NO_DISCRIMINATOR(className, tag, discriminator)
  if (literal !== tag) throw new ERR_SCHEMA_TAG_MISMATCH(className, tag, literal)
}

/** `send-message`, `send_message`, `sendMessage` and `SendMessage` all name `onSendMessage`. */
export function toPascal (tag: string): string {
  let out = ''
  let upper = true
  for (let i = 0; i < tag.length; i++) {
    const ch = tag[i]
    if (ch === '-' || ch === '_' || ch === '.' || ch === ':' || ch === ' ') {
      upper = true
    } else {
      out += upper ? ch.toUpperCase() : ch
      upper = false
    }
  }
  return out
}

/** The spellings registered up front so the common ones never reach `toPascal`. */
function spellings (pascal: string): string[] {
  const words = pascal.split(/(?=[A-Z])/)
  const lower = words.map((word) => word.toLowerCase())
  return [pascal, pascal[0].toLowerCase() + pascal.slice(1), lower.join('-'), lower.join('_')]
}
