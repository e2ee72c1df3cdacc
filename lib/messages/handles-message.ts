import 'reflect-metadata'
import type { Static, TSchema } from 'typebox'
import { ERR_MESSAGE_INVALID_TAG } from '../errors.js'
import { HANDLERS_KEY } from '../metadata-keys.js'

/** Options of `@handlesMessage`. */
export interface HandlerOptions {
  /**
   * Refuse properties the schema does not declare.
   * @default true (or the route's `strict` option)
   */
  strict?: boolean
  /**
   * The schema of what the handler resolves to: the payload of the reply a
   * request (a message with a ref) gets. Documented in AsyncAPI and checked by
   * `validateOutgoing`; with a message schema, the method's return type must match it.
   */
  reply?: TSchema
}

/** What `@handlesMessage` writes, one per decorated method. */
export interface HandlerRecord {
  tag: string
  method: string | symbol
  schema: TSchema | undefined
  strict: boolean | undefined
  reply: TSchema | undefined
}

/**
 * A method decorator that checks the method accepts the schema's static type (and, with a reply schema, returns its type).
 * @typeParam T - the decorated method's type
 */
export type TypedHandlerDecorator<M, R = unknown> = <T extends (message: M) => R | Promise<R>> (
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<T>
) => void

/**
 * Binds a resource method to a message tag. With a schema (built by `message()`)
 * the message is validated before the call and the method's parameter must
 * accept `Static<typeof schema>`; without one, the schema comes from the class's
 * `static schema` union when it lists the tag.
 * @example
 * @handlesMessage('sendMessage', SendMessage)
 * async send (msg: Static<typeof SendMessage>) { … }
 */
export function handlesMessage<S extends TSchema, R extends TSchema> (tag: string, schema: S, options: HandlerOptions & { reply: R }): TypedHandlerDecorator<Static<S>, Static<R>>
export function handlesMessage<S extends TSchema> (tag: string, schema: S, options?: HandlerOptions): TypedHandlerDecorator<Static<S>>
export function handlesMessage (tag: string, options?: HandlerOptions): MethodDecorator
export function handlesMessage (tag: string, schemaOrOptions?: TSchema | HandlerOptions, maybeOptions?: HandlerOptions): MethodDecorator {
  if (typeof tag !== 'string' || tag.length === 0) throw new ERR_MESSAGE_INVALID_TAG('@handlesMessage(tag)', typeof tag === 'string' ? '""' : typeof tag)
  const isOptions = schemaOrOptions !== undefined && isHandlerOptions(schemaOrOptions)
  const schema = isOptions ? undefined : schemaOrOptions as TSchema | undefined
  const options = isOptions ? schemaOrOptions as HandlerOptions : maybeOptions
  return (target, key) => {
    const records: HandlerRecord[] = Reflect.getOwnMetadata(HANDLERS_KEY, target) ?? []
    records.push({ tag, method: key, schema, strict: options?.strict, reply: options?.reply })
    Reflect.defineMetadata(HANDLERS_KEY, records, target)
  }
}

function isHandlerOptions (value: object): boolean {
  if (Object.prototype.hasOwnProperty.call(value, '~kind')) return false
  return Object.keys(value).every((key) => key === 'strict' || key === 'reply')
}
