import { ERR_OPTION_INVALID } from '../errors.js'
import { parseFrame, type ProtoAction } from './json-frame.js'
import { nameOf, type HandlerEntry, type DispatchTable } from './dispatch-table.js'
import { outgoingModeOf, type UnhandledFrame, type WebSocketResource } from '../resources/resource.js'
import { EventContext, type HookChain } from '../hooks/hook-chain.js'
import { ClientError, WireErrorCode } from './wire-errors.js'
import { checkReply } from '../contract/outgoing.js'
import { answer } from '../contract/requests.js'
import { ERROR_TAG, MAX_REF_LENGTH, REPLY_TAG, isRef, type Ref } from '../contract/wire.js'

/*
 * One frame, start to finish: parse → tag → lookup → validate → handler. Never
 * throws: every failure ends in the resource's onUnhandled / onValidationError
 * / onError, and a failure of those is logged. Returns a promise only when
 * something asynchronous is still running, so the session knows to hold the
 * connection's next frame back.
 */

/** How frames of a route are read. */
export interface FrameConfig {
  readonly discriminator: string
  /** What to do with `__proto__` / `constructor.prototype` keys: Fastify's `onProtoPoisoning` values. */
  readonly protoAction: ProtoAction
  /** The field that carries a request's correlation id (request/reply). */
  readonly replyField: string
}

const MAX_ECHOED_TAG = 100

/** Dispatches one received frame to `resource` (the deepest resource of the connection). */
export function dispatchFrame (
  resource: WebSocketResource,
  table: DispatchTable,
  data: Buffer,
  isBinary: boolean,
  config: FrameConfig,
  hooks: HookChain | undefined
): Promise<unknown> | undefined {
  let message: Record<string, unknown> | undefined
  try {
    if (isBinary) return settle(resource, resource.onUnhandled(data, unhandled(WireErrorCode.UNSUPPORTED_DATA, 'binary frames are not accepted; send JSON text')), undefined)
    const text = data.toString()
    let parsed: unknown
    try {
      parsed = parseFrame(text, config.protoAction)
    } catch (err) {
      const reason = (err as Error).message === 'Object contains forbidden prototype property' ? 'frame contains a forbidden prototype property' : 'frame is not valid JSON'
      return settle(resource, resource.onUnhandled(text, unhandled(WireErrorCode.BAD_JSON, reason)), undefined)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return settle(resource, resource.onUnhandled(text, unhandled(WireErrorCode.BAD_MESSAGE, 'a message must be a JSON object', undefined, parsed)), undefined)
    }
    message = parsed as Record<string, unknown>
    const tag = message[config.discriminator]
    const ref = message[config.replyField]
    const hasRef = ref !== undefined && ref !== null
    if (hasRef && !isRef(ref)) {
      const reason = `"${config.replyField}" must be a string of 1 to ${MAX_REF_LENGTH} characters or a finite number`
      return settle(resource, resource.onUnhandled(text, unhandled(WireErrorCode.BAD_MESSAGE, reason, undefined, message)), message)
    }
    if (typeof tag !== 'string') {
      return settle(resource, resource.onUnhandled(text, unhandled(WireErrorCode.BAD_MESSAGE, `a message needs a string "${config.discriminator}" field`, undefined, message)), message)
    }
    if (hasRef && (tag === REPLY_TAG || tag === ERROR_TAG)) {
      // a client's answer to a server request the session's fast path did not take: late, unknown or made up
      if (!answer(resource.connection, message)) resource.log.debug({ tag, ref }, 'answer to no pending request; dropped')
      return undefined
    }
    const entry = table.lookup(tag)
    if (entry === undefined) {
      const shown = tag.length > MAX_ECHOED_TAG ? tag.slice(0, MAX_ECHOED_TAG) + '...' : tag
      return settle(resource, resource.onUnhandled(text, unhandled(WireErrorCode.UNKNOWN_TYPE, `no handler for "${shown}"`, shown, message)), message)
    }
    if (hooks !== undefined && (hooks.has('beforeMessage') || hooks.has('afterMessage'))) {
      return settle(resource, invokeWithHooks(resource, table, entry, message, config, hooks, hasRef ? ref : undefined), message)
    }
    if (hasRef) return settle(resource, invokeReplying(resource, table, entry, message, ref, config), message)
    return settle(resource, invoke(resource, entry, message), message)
  } catch (err) {
    return failed(resource, err, message)
  }
}

/** Validates and calls the handler; what the interceptor wraps. */
export function invoke (resource: WebSocketResource, entry: HandlerEntry, message: Record<string, unknown>): unknown {
  const validator = entry.validator
  if (validator !== undefined && !validator.check(message)) {
    return resource.onValidationError(validator.issues(message), message, entry.tag)
  }
  return entry.fn.call(resource, message)
}

/** Validates and calls the handler of a message that carries a ref; its resolved value goes back as a reply frame. */
function invokeReplying (resource: WebSocketResource, table: DispatchTable, entry: HandlerEntry, message: Record<string, unknown>, ref: Ref, config: FrameConfig): unknown {
  const validator = entry.validator
  if (validator !== undefined && !validator.check(message)) {
    return resource.onValidationError(validator.issues(message), message, entry.tag)
  }
  const result = entry.fn.call(resource, message)
  if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
    return (result as Promise<unknown>).then((value) => reply(resource, table, entry, ref, value, config))
  }
  reply(resource, table, entry, ref, result, config)
  return undefined
}

function reply (resource: WebSocketResource, table: DispatchTable, entry: HandlerEntry, ref: Ref, value: unknown, config: FrameConfig): void {
  checkReply(entry.replyValidator, outgoingModeOf(resource), nameOf(resource.constructor), entry.tag, value, () => resource.log)
  resource.connection.send({ [config.discriminator]: REPLY_TAG, [config.replyField]: ref, payload: value })
}

/**
 * The message path when hooks apply: beforeMessage hooks (which may drop or
 * replace the message), validation and the handler, then afterMessage hooks,
 * which always run and see what failed. A failure then goes to onError.
 */
async function invokeWithHooks (
  resource: WebSocketResource,
  table: DispatchTable,
  entry: HandlerEntry,
  message: Record<string, unknown>,
  config: FrameConfig,
  hooks: HookChain,
  ref: Ref | undefined
): Promise<void> {
  const context = new EventContext('beforeMessage', resource, resource.log)
  context.message = message
  context.tag = entry.tag
  try {
    await hooks.before('beforeMessage', context)
    if (!context.dropped) {
      const current = context.message === message ? entry : redispatch(table, context.message, config)
      const replaced = context.message as Record<string, unknown>
      await (ref === undefined ? invoke(resource, current, replaced) : invokeReplying(resource, table, current, replaced, ref, config))
    }
  } catch (err) {
    context.error = err
  }
  const after = new EventContext('afterMessage', resource, resource.log)
  Object.assign(after, { message: context.message, tag: context.tag, error: context.error, dropped: context.dropped })
  await hooks.after('afterMessage', after)
  if (context.error !== undefined) throw context.error
}

/** The handler for a message a beforeMessage hook replaced, found again by its tag. */
function redispatch (table: DispatchTable, replaced: unknown, config: FrameConfig): HandlerEntry {
  if (replaced === null || typeof replaced !== 'object') throw new ERR_OPTION_INVALID('ctx.message', 'a beforeMessage hook must replace the message with an object')
  const tag = (replaced as Record<string, unknown>)[config.discriminator]
  const found = typeof tag === 'string' ? table.lookup(tag) : undefined
  if (found === undefined) throw new ClientError(WireErrorCode.UNKNOWN_TYPE, `no handler for "${String(tag).slice(0, MAX_ECHOED_TAG)}"`)
  return found
}

function unhandled (code: UnhandledFrame['code'], message: string, tag?: string, parsed?: unknown): UnhandledFrame {
  return { code, message, tag, parsed }
}

function settle (resource: WebSocketResource, result: unknown, message: Record<string, unknown> | undefined): Promise<unknown> | undefined {
  if (result === null || typeof result !== 'object' || typeof (result as Promise<unknown>).then !== 'function') return undefined
  return (result as Promise<unknown>).then(undefined, (err: unknown) => failed(resource, err, message))
}

function failed (resource: WebSocketResource, error: unknown, message: Record<string, unknown> | undefined): Promise<unknown> | undefined {
  try {
    const result = resource.onError(error, message)
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then(undefined, (err: unknown) => onErrorFailed(resource, err, error))
    }
  } catch (err) {
    onErrorFailed(resource, err, error)
  }
  return undefined
}

function onErrorFailed (resource: WebSocketResource, error: unknown, original: unknown): void {
  try {
    resource.log.error({ err: error, handlerError: original instanceof Error ? original.message : String(original) }, 'onError failed')
  /* c8 ignore next 3 */
  } catch {
    // a logger that throws leaves nothing else to report with; the connection carries on
  }
}
