import type { FastifyBaseLogger } from 'fastify'
import type { TSchema } from 'typebox'
import { ERR_OUTGOING_INVALID, ERR_REPLY_INVALID, ERR_SCHEMA_DUPLICATE_TAG, ERR_SCHEMA_NO_DISCRIMINATOR } from '../errors.js'
import { compileMessageSchema, discriminatorLiteral, unionMembers, type MessageValidator } from '../messages/schema.js'
import { ERROR_TAG, REPLY_TAG } from './wire.js'

/*
 * What a resource sends: `static emits`, read once per class, and the
 * `validateOutgoing` check of every message a resource sends and every reply
 * a handler returns. Off, the check costs one property read per send.
 */

/** What a mismatch does: nothing (`false`), a warn line (`'warn'`), or a coded throw (`'throw'`). */
export type OutgoingMode = false | 'warn' | 'throw'

/** The declared outgoing messages of a class: tag → compiled strict validator, and the schemas for AsyncAPI. */
export interface EmitsContract {
  readonly className: string
  readonly schemas: ReadonlyMap<string, TSchema>
  readonly validators: ReadonlyMap<string, MessageValidator>
  /** Tags already reported at warn level: each is reported once, then at debug, so a hot path cannot flood the log. */
  readonly warned: Set<string>
}

const contracts = new WeakMap<object, { discriminator: string, contract: EmitsContract | undefined }>()

/**
 * The `static emits` of a resource class, checked and compiled on first use
 * (undefined when it declares none). Throws the declaration errors: a member
 * without the discriminator literal, a tag listed twice.
 */
export function emitsOf (cls: object, discriminator: string): EmitsContract | undefined {
  const cached = contracts.get(cls)
  if (cached !== undefined && cached.discriminator === discriminator) return cached.contract
  const className = (cls as { name: string }).name
  const declared = (cls as { emits?: TSchema }).emits
  let contract: EmitsContract | undefined
  if (declared !== undefined) {
    const schemas = new Map<string, TSchema>()
    const validators = new Map<string, MessageValidator>()
    for (const member of unionMembers(declared)) {
      const tag = discriminatorLiteral(member, discriminator)
      if (tag === undefined) throw new ERR_SCHEMA_NO_DISCRIMINATOR(className, 'static emits', discriminator)
      if (schemas.has(tag)) throw new ERR_SCHEMA_DUPLICATE_TAG(className, tag)
      schemas.set(tag, member)
      validators.set(tag, compileMessageSchema(member, true))
    }
    contract = { className, schemas, validators, warned: new Set() }
  }
  contracts.set(cls, { discriminator, contract })
  return contract
}

/** Checks a message a resource is about to send against its class's `static emits`. */
export function checkOutgoing (cls: object, mode: OutgoingMode, discriminator: string, message: unknown, log: () => FastifyBaseLogger): void {
  if (mode === false) return
  const contract = emitsOf(cls, discriminator)
  if (contract === undefined) return
  const tag = message !== null && typeof message === 'object' ? (message as Record<string, unknown>)[discriminator] : undefined
  // error and reply frames are the library's own, never part of a declaration
  if (tag === ERROR_TAG || tag === REPLY_TAG) return
  const validator = typeof tag === 'string' ? contract.validators.get(tag) : undefined
  if (validator === undefined) {
    return mismatch(contract, mode, String(tag), `the tag is not declared in static emits (${[...contract.schemas.keys()].join(', ')})`, log)
  }
  if (!validator.check(message)) return mismatch(contract, mode, tag as string, describe(validator, message), log)
}

/** Checks a handler's resolved value against the reply schema of its `@handlesMessage(tag, schema, { reply })`. */
export function checkReply (
  validator: MessageValidator | undefined, mode: OutgoingMode, className: string, tag: string, value: unknown, log: () => FastifyBaseLogger
): void {
  if (mode === false || validator === undefined || validator.check(value)) return
  if (mode === 'throw') throw new ERR_REPLY_INVALID(className, tag, describe(validator, value))
  log().warn({ tag, issues: validator.issues(value) }, 'reply does not match its declared schema')
}

function mismatch (contract: EmitsContract, mode: OutgoingMode, tag: string, detail: string, log: () => FastifyBaseLogger): void {
  if (mode === 'throw') throw new ERR_OUTGOING_INVALID(contract.className, tag, detail)
  const first = !contract.warned.has(tag)
  if (first) contract.warned.add(tag)
  const line = { class: contract.className, tag, detail }
  if (first) log().warn(line, 'outgoing message does not match static emits (further mismatches of this tag are logged at debug)')
  else log().debug(line, 'outgoing message does not match static emits')
}

function describe (validator: MessageValidator, value: unknown): string {
  return validator.issues(value).map((issue) => `${issue.path === '' ? '/' : issue.path}: ${issue.message}`).join('; ')
}
