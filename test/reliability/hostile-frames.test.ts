import 'reflect-metadata'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { deepStrictEqual, ok } from 'node:assert/strict'
import t, { type Test } from 'tap'
import { Type, type Static, type TObject } from 'typebox'
import { Value } from 'typebox/value'
import { WebSocketResource, handlesMessage, message } from '../../lib/index.js'
import { connect, type ErrorFrame, type Frame, type TestConnection } from '../../lib/testing/index.js'
import { build, until } from '../helpers/build.js'
import { pascal, poisoned, prototypeKeys, settledHeap, watchProcess } from './fixtures/helpers.js'

/*
 * Property-based hostile input: whatever bytes a client sends, the server
 * answers with a dispatch, one documented error frame, or one documented close
 * code — predicted here by a model of README's "Errors sent to clients" table —
 * and never throws, never pollutes a prototype, never stops serving others,
 * and keeps nothing once the connections are gone.
 */

const MAX_PAYLOAD = 64 * 1024 // small enough to be cheap, large enough for 10,000 levels of nesting
const RUNS = { binary: 100, text: 250, json: 300, tagged: 300, mutated: 400, nested: 40, boundary: 80, poison: 250 }
const ANSWER_TIMEOUT = 10_000 // a safety net: answers take well under a millisecond

const Say = message('say', Type.Object({ text: Type.String({ maxLength: 50 }), n: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }))
const Move = message('move', Type.Object({ x: Type.Number(), y: Type.Number(), tags: Type.Array(Type.String(), { maxItems: 3 }) }, { additionalProperties: false }))
const Ping = message('ping')

/** Every message a validated handler received, and whether an independent check finds it valid. */
const dispatched: Array<{ tag: string, valid: boolean }> = []
/** Every resource made, to check that none outlives its connection. */
const made: Array<WeakRef<object>> = []

class Target extends WebSocketResource {
  static schema = Type.Union([Say, Ping])
  static convention = 'any' as const

  constructor () {
    super()
    made.push(new WeakRef(this))
  }

  override async onConnect () {
    if ('watch' in (this.request.query as object)) await this.join('room')
  }

  @handlesMessage('say')
  say (msg: Static<typeof Say>) { this.accept('say', Say, msg) }

  @handlesMessage('move', Move)
  move (msg: Static<typeof Move>) { this.accept('move', Move, msg) }

  onPing (msg: Static<typeof Ping>) { this.accept('ping', Ping, msg) }

  onEcho (msg: { payload?: unknown }) { this.send({ type: 'echo', payload: msg.payload }) }

  onBoom () { throw new Error('secret internal detail') }

  private accept (tag: string, schema: TObject, msg: unknown) {
    dispatched.push({ tag, valid: strictlyValid(schema, msg) })
    this.send({ type: 'ok', payload: tag })
  }
}

/** Valid under strict rules, checked independently of the library: TypeBox's Value.Check plus no undeclared top-level field. */
function strictlyValid (schema: TObject, msg: unknown): boolean {
  return Value.Check(schema, msg) && Object.keys(msg as object).every((key) => Object.hasOwn(schema.properties, key))
}

// ---- the model: README's table, written independently of lib/ ----

/** Decorated tags, and `on<Tag>` methods of tags the static schema declares: README, exactly that spelling. */
const EXACT = new Map<string, TObject>([['say', Say], ['move', Move], ['ping', Ping]])
/** `on<PascalTag>` handlers without a schema (`static convention = 'any'`), by PascalTag; README: `new-chat-message` / `new_chat_message` → `onNewChatMessage`. */
const CONVENTION = new Map<string, string>([['Echo', 'echo'], ['Boom', 'boom']])
const SCHEMAS = new Map<string, TObject>([['say', Say], ['move', Move], ['ping', Ping]])
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** The answers README allows for a frame (one, except where V8's stack depth or a BOM leaves a choice). */
function expectedFor (frame: Buffer, binary: boolean): string[] {
  if (frame.length > MAX_PAYLOAD) return ['close:1009']
  if (binary) return ['error:UNSUPPORTED_DATA']
  let text: string
  try {
    text = strictUtf8.decode(frame) // drops one leading BOM
  } catch {
    return ['close:1007']
  }
  const answers = expectedForText(text)
  // RFC 8259 §8.1 lets a parser ignore a leading BOM or refuse the text; README does not say which
  return frame.subarray(0, 3).equals(BOM) ? [...answers, 'error:BAD_JSON'] : answers
}

function expectedForText (text: string): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return ['error:BAD_JSON']
  }
  if (poisoned(parsed)) return ['error:BAD_JSON']
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return ['error:BAD_MESSAGE']
  const tag = (parsed as { type?: unknown }).type
  if (typeof tag !== 'string') return ['error:BAD_MESSAGE']
  const handler = EXACT.has(tag) ? tag : CONVENTION.get(pascal(tag))
  if (handler === undefined) return ['error:UNKNOWN_TYPE']
  const schema = SCHEMAS.get(handler)
  if (schema !== undefined) return [strictlyValid(schema, parsed) ? 'reply:ok' : 'error:VALIDATION']
  if (handler === 'boom') return ['error:INTERNAL']
  // echoing a very deep payload overflows JSON.stringify's stack: the handler throws, the client gets INTERNAL
  return depthOf((parsed as { payload?: unknown }).payload) <= 1000 ? ['reply:echo'] : ['reply:echo', 'error:INTERNAL']
}

function depthOf (root: unknown): number {
  let depth = 0
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length > 0) {
    const [node, level] = stack.pop() as [unknown, number]
    if (node === null || typeof node !== 'object') continue
    depth = Math.max(depth, level)
    for (const value of Object.values(node)) stack.push([value, level + 1])
  }
  return depth
}

// ---- the attacker ----

interface Answer { label: string, frame: Frame | undefined }

/** The attacking connection: one frame in, one answer out; reconnects after a close. */
class Probe {
  frames = 0
  closes = 0
  private current!: { conn: TestConnection, code: number }

  constructor (private readonly app: FastifyInstance) {}

  async open (): Promise<void> {
    const state = { conn: await connect(this.app, '/target', { timeout: ANSWER_TIMEOUT }), code: 0 }
    void state.conn.closed.then(({ code }) => { state.code = code })
    this.current = state
  }

  async hit (frame: Buffer, binary: boolean): Promise<Answer> {
    const state = this.current
    this.frames++
    state.conn.sendRaw(frame, { binary })
    const reply = await state.conn.receive().catch(() => undefined) // rejects on a close (or, failing, on the timeout)
    if (reply !== undefined) return { label: reply.type === 'error' ? `error:${reply.error?.code}` : `reply:${reply.type}`, frame: reply }
    await new Promise((resolve) => setImmediate(resolve))
    this.closes++
    await this.open()
    return { label: `close:${state.code}`, frame: undefined }
  }

  async close (): Promise<void> {
    await this.current.conn.close()
  }
}

/** Checks one frame's answer against the model; an unknown tag must be echoed, cut to 100 characters. */
async function check (probe: Probe, seen: Map<string, number>, frame: Buffer, binary: boolean): Promise<void> {
  const allowed = expectedFor(frame, binary)
  const answer = await probe.hit(frame, binary)
  seen.set(answer.label, (seen.get(answer.label) ?? 0) + 1)
  ok(allowed.includes(answer.label), `answered ${answer.label}, README allows ${allowed.join(' or ')} for ${describe(frame, binary)}`)
  if (answer.label === 'error:UNKNOWN_TYPE') {
    const tag = String(JSON.parse(strictUtf8.decode(frame)).type)
    deepStrictEqual((answer.frame as ErrorFrame).error.tag, tag.length > 100 ? tag.slice(0, 100) + '...' : tag)
  }
}

function describe (frame: Buffer, binary: boolean): string {
  return `${binary ? 'binary' : 'text'} frame of ${frame.length} bytes: ${JSON.stringify(frame.subarray(0, 200).toString('latin1'))}`
}

// ---- generators ----

const jsonText = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

const tagArb = fc.oneof(
  fc.constantFrom('say', 'move', 'ping', 'Ping', 'echo', 'on-echo', '_echo', 'ECHO', 'boom', 'boom-', 'Say', 'error', 'constructor', '__proto__', 'toString'),
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.jsonValue({ maxDepth: 2 })
)

const validMessage = fc.oneof(
  fc.record({ type: fc.constant('say'), payload: fc.record({ text: fc.string({ unit: 'binary', maxLength: 55 }), n: fc.nat() }, { requiredKeys: ['text'] }) }),
  fc.record({ type: fc.constant('move'), payload: fc.record({ x: fc.double(), y: fc.integer(), tags: fc.array(fc.string(), { maxLength: 4 }) }) }),
  fc.constant({ type: 'ping' })
)

/** One edit of a message: remove or overwrite (or add) a key of one of its objects. */
const editArb = fc.record({ at: fc.nat(), remove: fc.boolean(), key: fc.constantFrom('type', 'payload', 'text', 'n', 'x', 'tags', 'extra', '__proto__'), value: fc.jsonValue({ maxDepth: 2 }) })
type Edit = { at: number, remove: boolean, key: string, value: unknown }

function mutate (source: object, edits: Edit[]): object {
  const copy = structuredClone(source)
  for (const edit of edits) {
    const objects = objectsIn(copy)
    const node = objects[edit.at % objects.length] as Record<string, unknown>
    const keys = Object.keys(node)
    const key = [...keys, edit.key][edit.at % (keys.length + 1)]
    // defineProperty: even `__proto__` becomes an own key, as JSON.parse would make it
    if (edit.remove) delete node[key]
    else Object.defineProperty(node, key, { value: edit.value, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

function objectsIn (root: object): object[] {
  const found: object[] = []
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object') continue
    if (!Array.isArray(node)) found.push(node)
    for (const value of Object.values(node)) stack.push(value)
  }
  return found
}

/** `depth` levels of arrays and objects (by `shape`), inside a message with `tag`, or bare. */
function nested (tag: string | undefined, shape: boolean[]): Buffer {
  const open = shape.map((isArray) => isArray ? '[' : '{"a":').join('')
  const close = shape.map((isArray) => isArray ? ']' : '}').reverse().join('')
  const body = open + '1' + close
  return Buffer.from(tag === undefined ? body : `{"type":${JSON.stringify(tag)},"payload":${body}}`)
}

/** A key spelled with any mix of literal characters and \u00XX escapes (hex in either case). */
function spelled (key: string, escapes: number[]): string {
  return [...key].map((ch, i) => {
    const hex = ch.charCodeAt(0).toString(16).padStart(4, '0')
    return [ch, `\\u${hex}`, `\\u${hex.toUpperCase()}`][escapes[i % escapes.length] % 3]
  }).join('')
}

/** Raw JSON (JSON.stringify would drop `__proto__`) with a poison member at level `at` of `depth` levels. */
function poisonText (depth: number, at: number, arrays: boolean[], escapes: number[], constructorForm: boolean): Buffer {
  const member = constructorForm
    ? `"${spelled('constructor', escapes)}":{"${spelled('prototype', [...escapes.slice(1), escapes[0]])}":{"polluted":true}}`
    : `"${spelled('__proto__', escapes)}":{"polluted":true}`
  let inner = '1'
  for (let level = depth; level >= 1; level--) {
    const isArray = arrays[level % arrays.length]
    const here = level === at
    inner = isArray ? `[${here ? `{${member}},` : ''}${inner}]` : `{${here ? `${member},` : ''}"k":${inner}}`
  }
  return Buffer.from(`{${at === 0 ? `${member},` : ''}"type":"echo","payload":${inner}}`)
}

/** A text frame of exactly `size` bytes: an echo message whose string is made of `unit` (1–4 bytes each), topped up with 'x'. */
function sized (size: number, unit: string): Buffer {
  const head = '{"type":"echo","payload":"'
  const room = size - head.length - 2
  const units = Math.floor(room / Buffer.byteLength(unit))
  const text = head + unit.repeat(units) + 'x'.repeat(room - units * Buffer.byteLength(unit)) + '"}'
  return Buffer.from(text)
}

// ---- the test ----

t.test('hostile frames: every frame gets a documented answer, nothing leaks or crashes, others carry on', async (t) => {
  const faults = watchProcess(t)
  const prototypesBefore = prototypeKeys()
  const app = await build(t, { maxPayload: MAX_PAYLOAD })
  app.addWebSocketRoute('/target', Target)
  const bystander = await connect(app, '/target', { query: { watch: 1 } })
  const probe = new Probe(app)
  await probe.open()
  const heapBefore = await settledHeap()
  const started = Date.now()
  let ticks = 0

  /** Runs one property, then checks what must hold after every batch. */
  async function batch (t: Test, name: string, property: (seen: Map<string, number>) => fc.IAsyncProperty<any>, numRuns: number, examples: unknown[][], mustSee: string[]): Promise<void> {
    await t.test(name, async (t) => {
      const seen = new Map<string, number>()
      await fc.assert(property(seen), { numRuns, examples: examples as never })
      t.comment(`${numRuns + examples.length} frames: ${[...seen].map(([label, n]) => `${label} ×${n}`).join(', ')}`)
      for (const label of mustSee) t.ok(seen.has(label), `the inputs included an answer of ${label}`)
      t.same(faults, [], 'no uncaught exception or unhandled rejection')
      t.same(prototypeKeys(), prototypesBefore, 'no built-in prototype gained or lost a key')
      t.equal(({} as Record<string, unknown>).polluted, undefined, '({}).polluted is undefined')
      t.ok(dispatched.every((d) => d.valid), 'every message a validated handler received is valid')
      await app.ws.broadcastToRoom('room', { type: 'tick', payload: ++ticks })
      t.equal((await bystander.expect('tick')).payload, ticks, 'the bystander in the same room still gets broadcasts')
    })
  }

  await batch(t, 'random bytes as binary frames get UNSUPPORTED_DATA', (seen) =>
    fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => { await check(probe, seen, Buffer.from(bytes), true) }),
  RUNS.binary, [[new Uint8Array(0)]], ['error:UNSUPPORTED_DATA'])

  await batch(t, 'random bytes as text frames: BAD_JSON, BAD_MESSAGE or close 1007 for invalid UTF-8', (seen) =>
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 512 }), fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s))), async (bytes) => {
      await check(probe, seen, Buffer.from(bytes), false)
    }),
  RUNS.text, [
    [Buffer.from([0x7b, 0xff, 0xfe, 0x7d])], // invalid UTF-8
    [Buffer.from([0xed, 0xa0, 0x80])], // an encoded surrogate: invalid UTF-8
    [Buffer.from([0xc0, 0xaf])], // an overlong encoding: invalid UTF-8
    [Buffer.from('\uFEFF{"type":"ping"}')], // a BOM, then a valid message
    [Buffer.from('{"type":"ping"}')],
    [Buffer.from('')],
    [Buffer.from('{"type":')]
  ], ['close:1007', 'error:BAD_JSON', 'reply:ok'])

  await batch(t, 'random JSON values get BAD_MESSAGE, UNKNOWN_TYPE or a dispatch as the model says', (seen) =>
    fc.asyncProperty(fc.jsonValue(), async (value) => { await check(probe, seen, jsonText(value), false) }),
  RUNS.json, [[null], [42], ['say'], [[{ type: 'say' }]], [{}], [{ type: 7 }], [{ type: 'x'.repeat(150) }], [{ type: 'echo', payload: { constructor: { name: 'x' } } }]],
  ['error:BAD_MESSAGE', 'error:UNKNOWN_TYPE', 'reply:echo'])

  await batch(t, 'random tags with random payloads: UNKNOWN_TYPE, VALIDATION, INTERNAL or a dispatch', (seen) =>
    fc.asyncProperty(fc.record({ type: tagArb, payload: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ['type'] }), async (value) => {
      await check(probe, seen, jsonText(value), false)
    }),
  RUNS.tagged, [[{ type: 'teleport' }], [{ type: 'boom' }], [{ type: 'Ping' }], [{ type: '_echo', payload: 1 }], [{ type: 'say', payload: { text: 'hi' } }]],
  ['error:UNKNOWN_TYPE', 'error:VALIDATION', 'error:INTERNAL', 'reply:ok', 'reply:echo'])

  await batch(t, 'valid tags with mutated payloads: dispatched exactly when valid, VALIDATION otherwise', (seen) =>
    fc.asyncProperty(validMessage, fc.array(editArb, { maxLength: 3 }), async (valid, edits) => {
      await check(probe, seen, jsonText(mutate(valid, edits)), false)
    }),
  RUNS.mutated, [
    [{ type: 'say', payload: { text: 'hi' } }, []],
    [{ type: 'say', payload: { text: 'hi' } }, [{ at: 0, remove: true, key: 'extra', value: null }]], // drops `type`
    [{ type: 'move', payload: { x: 1, y: 2, tags: ['a'] } }, [{ at: 2, remove: false, key: 'extra', value: 1 }]], // adds `extra`
    [{ type: 'say', payload: { text: 'hi' } }, [{ at: 2, remove: false, key: '__proto__', value: { polluted: true } }]] // an own `__proto__`
  ], ['reply:ok', 'error:VALIDATION', 'error:BAD_MESSAGE', 'error:BAD_JSON'])

  await batch(t, 'nesting up to 10,000 levels of arrays and objects, tagged or bare', (seen) =>
    fc.asyncProperty(fc.constantFrom(undefined, 'echo', 'say', 'move', 'nope'), fc.array(fc.boolean(), { minLength: 1, maxLength: 10_000 }), async (tag, shape) => {
      await check(probe, seen, nested(tag, shape), false)
    }),
  RUNS.nested, [
    [undefined, new Array(10_000).fill(true)], [undefined, new Array(10_000).fill(false)],
    ['echo', new Array(10_000).fill(true)], ['echo', new Array(10_000).fill(false)], ['echo', [true, false]],
    ['say', new Array(10_000).fill(false)], ['move', new Array(10_000).fill(true)], ['nope', new Array(10_000).fill(false)]
  ], ['error:BAD_MESSAGE', 'error:INTERNAL', 'reply:echo', 'error:VALIDATION', 'error:UNKNOWN_TYPE'])

  await batch(t, `frames just under, at and just over maxPayload (${MAX_PAYLOAD} bytes)`, (seen) =>
    fc.asyncProperty(fc.integer({ min: -64, max: 64 }), fc.constantFrom('x', 'é', '€', '😀'), fc.boolean(), async (delta, unit, binary) => {
      const frame = binary ? Buffer.alloc(MAX_PAYLOAD + delta, 0xff) : sized(MAX_PAYLOAD + delta, unit)
      await check(probe, seen, frame, binary)
    }),
  RUNS.boundary, [[0, '😀', false], [1, 'x', false], [0, 'x', true], [1, 'x', true], [-1, '€', false]],
  ['reply:echo', 'close:1009', 'error:UNSUPPORTED_DATA'])

  await batch(t, '__proto__ and constructor.prototype keys at every depth, escaped or not, get BAD_JSON', (seen) =>
    fc.asyncProperty(
      fc.integer({ min: 0, max: 30 }).chain((depth) => fc.tuple(fc.constant(depth), fc.integer({ min: 0, max: depth }))),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      async ([depth, at], arrays, escapes, constructorForm) => {
        const frame = poisonText(depth, at, arrays, escapes, constructorForm)
        deepStrictEqual(expectedFor(frame, false), ['error:BAD_JSON'], 'the generator made a poisoned frame')
        await check(probe, seen, frame, false)
      }),
  RUNS.poison, [[[0, 0], [false], [0], false], [[2, 2], [true], [1, 2], true], [[3, 1], [false, true], [2], true]],
  ['error:BAD_JSON'])

  const seconds = (Date.now() - started) / 1000
  t.comment(`${probe.frames} hostile frames, ${probe.closes} closes (reconnected each time), in ${seconds.toFixed(1)} s`)

  await probe.close()
  await bystander.close()
  await until(() => app.ws.size === 0, 5000, 'every connection to be released')
  t.same(await app.ws.roomsByPrefix(''), [], 'no room is left')
  t.equal(app.ws.snapshot().rooms, 0)
  const heapAfter = await settledHeap()
  const alive = made.filter((ref) => ref.deref() !== undefined).length
  t.equal(alive, 0, `all ${made.length} resources were garbage-collected`)
  t.ok(heapAfter - heapBefore < 32 * 1024 * 1024, `heap back near its baseline (${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB over it after ${probe.frames} frames)`)
  t.same(faults, [], 'no uncaught exception or unhandled rejection at all')
})
