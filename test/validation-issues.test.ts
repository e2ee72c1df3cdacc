import t from 'tap'
import { Type, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { message } from '../lib/index.js'
import { compileMessageSchema, strictSchema } from '../lib/messages/schema.js'

/*
 * The issues of a refused message are located with compiled checks, walking
 * only into what failed. They must be exactly what TypeBox's Errors() on the
 * whole schema reports (after the library's mapping: unknown properties one
 * issue each, at most 10), in the same order, for every shape of schema.
 */

interface RawError { keyword: string, instancePath: string, message: string, params: Record<string, unknown> }

/** TypeBox stops after this many errors (`maxErrors`), counting an unknown property twice. */
const TYPEBOX_MAX_ERRORS = 8

/** The reference: TypeBox's Errors() over the whole compiled schema, mapped as the library maps it; undefined when TypeBox stopped early. */
function reference (schema: TSchema, strict: boolean, allow: string | undefined, value: unknown) {
  const final = strict ? strictSchema(schema, allow) : schema
  const issues: Array<{ path: string, message: string }> = []
  const errors = Compile(final).Errors(value) as unknown as RawError[]
  if (errors.length >= TYPEBOX_MAX_ERRORS) return undefined
  for (const error of errors) {
    if (error.keyword === 'boolean') continue
    const extra = error.params.additionalProperties ?? error.params.unevaluatedProperties
    if (Array.isArray(extra)) for (const name of extra) issues.push({ path: `${error.instancePath}/${String(name).replace(/~/g, '~0').replace(/\//g, '~1')}`, message: 'unknown property' })
    else issues.push({ path: error.instancePath, message: error.message })
  }
  return issues.slice(0, 10)
}

const Node = Type.Cyclic({ Node: Type.Object({ name: Type.String(), children: Type.Array(Type.Ref('Node')) }) }, 'Node')

const schemas: Record<string, TSchema> = {
  echo: message('echo', { seq: Type.Integer(), text: Type.String({ maxLength: 4 }) }),
  nested: message('nested', {
    user: Type.Object({ id: Type.Integer({ minimum: 1 }), tags: Type.Array(Type.String(), { maxItems: 2 }), 'odd/key~': Type.Optional(Type.Boolean()) }),
    items: Type.Array(Type.Object({ n: Type.Number(), label: Type.Optional(Type.String()) })),
    choice: Type.Union([Type.Literal('a'), Type.Object({ b: Type.Integer() })])
  }),
  described: message('described', Type.Object({ a: Type.Integer() }, { description: 'annotations do not change the walk', title: 'A' })),
  open: message('open', Type.Object({ a: Type.Integer() }, { additionalProperties: true })),
  pattern: message('pattern', Type.Object({ a: Type.Integer() }, { minProperties: 2 })),
  record: message('record', { counts: Type.Record(Type.String(), Type.Integer()) }),
  intersect: message('intersect', { both: Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.String() })]) }),
  cyclic: message('cyclic', { tree: Node }),
  bare: message('bare'),
  optional: message('optional', { only: Type.Optional(Type.Integer()) }),
  leaves: message('leaves', { n: Type.Number({ minimum: 10 }), s: Type.String({ minLength: 2 }), b: Type.Boolean(), z: Type.Null(), i: Type.Integer({ maximum: 3 }) }),
  typed: message('typed', Type.Object({ a: Type.Integer() }, { additionalProperties: Type.String() }))
}

const values: unknown[] = [
  'not an object', null, 42, [], [1, 2],
  {},
  { type: 'other' },
  { type: 'echo', payload: { seq: 1.5, text: 123 } },
  { type: 'echo', payload: { seq: 'x', text: 'too long', extra: true, 'a/b~c': 1 } },
  { type: 'echo', payload: null },
  { type: 'echo', payload: [] },
  { type: 'echo', extra: 1 },
  { type: 'echo', ref: 7, payload: { seq: 1, text: 'ok' } },
  { type: 'nested', payload: { user: { id: 0, tags: ['a', 'b', 3], 'odd/key~': 'no', more: 1 }, items: [{ n: 'x', z: 1 }, 5, { label: 2 }], choice: { b: 'x' } } },
  { type: 'nested', payload: { user: null, items: 'x', choice: 'c' } },
  { type: 'nested', payload: { items: [] } },
  { type: 'described', payload: { a: 'x', b: 1 } },
  { type: 'open', payload: { a: 'x', b: 1 } },
  { type: 'pattern', payload: { a: 'x' } },
  { type: 'record', payload: { counts: { a: 1, b: 'x' } } },
  { type: 'intersect', payload: { both: { a: 'x', c: 1 } } },
  { type: 'cyclic', payload: { tree: { name: 1, children: [{ name: 'x', children: [{ children: 3 }] }] } } },
  { type: 'bare', payload: 1 },
  { type: 'optional', payload: { only: 'x', other: 1 } },
  { type: 'typed', payload: { a: 1, b: 2 } },
  { type: 'leaves', payload: { n: 5, s: null, b: [1], z: 1, i: 4 } },
  { type: 'leaves', payload: { n: 'x', s: 1.5, b: null, z: false, i: 2.5 } },
  { type: 'leaves', payload: { n: 5.5, s: 'a', b: 'yes', z: [], i: 'many' } },
  { type: 'leaves', payload: { n: [], s: 7, b: 0, z: 'null', i: null } },
]

for (const [name, schema] of Object.entries(schemas)) {
  t.test(`issues of "${name}" messages are TypeBox's own, in its order`, async (t) => {
    for (const [strict, allow] of [[true, undefined], [true, 'ref'], [false, undefined]] as const) {
      const validator = compileMessageSchema(schema, strict, allow)
      for (const value of values) {
        if (validator.check(value)) continue
        // twice: the parts are compiled on first use, and the second walk must agree with the first
        const first = validator.issues(value)
        t.same(validator.issues(value), first)
        const expected = reference(schema, strict, allow, value)
        const what = `${strict ? 'strict' : 'loose'}${allow === undefined ? '' : ` (allow ${allow})`}: ${JSON.stringify(value)}`
        if (expected === undefined) t.ok(first.length > 0 && first.length <= 10, `${what}: TypeBox stopped early; at least one issue, at most 10`)
        else t.strictSame(first, expected, what)
      }
    }
  })
}

t.test('where TypeBox stops after 8 errors, every unknown property counts once and 10 issues are reported', async (t) => {
  const extra = Object.fromEntries('abcdefghijk'.split('').map((name, i) => [name, i]))
  const value = { type: 'echo', ...extra, payload: { seq: 'x' } }
  t.same(reference(schemas.echo, true, undefined, value), undefined, 'TypeBox alone stops at the unknown properties (and reports none of them as such)')
  t.strictSame(compileMessageSchema(schemas.echo, true).issues(value), 'abcdefghij'.split('').map((name) => ({ path: `/${name}`, message: 'unknown property' })))
  const few = { type: 'echo', a: 1, payload: { seq: 'x' } }
  t.strictSame(compileMessageSchema(schemas.echo, true).issues(few), [
    { path: '/a', message: 'unknown property' },
    { path: '/payload', message: 'must have required properties text' },
    { path: '/payload/seq', message: 'must be integer' }
  ])
})

t.test('a refused message always has at least one issue', async (t) => {
  const validator = compileMessageSchema(schemas.nested, true)
  const refused = values.filter((value) => !validator.check(value))
  t.ok(refused.length > 10)
  t.ok(refused.every((value) => validator.issues(value).length > 0))
})
