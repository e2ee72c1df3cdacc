import t from 'tap'
import { Type } from 'typebox'
import { message, messages } from '../lib/index.js'
import { compileMessageSchema, discriminatorLiteral, strictSchema, unionMembers } from '../lib/messages/schema.js'

t.test('message() builds { type: literal, payload } schemas', async (t) => {
  const withProps = message('say', { text: Type.String() })
  t.same(JSON.parse(JSON.stringify(withProps)), {
    type: 'object',
    required: ['type', 'payload'],
    properties: { type: { type: 'string', const: 'say' }, payload: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }
  })
  const withSchema = message('count', Type.Number())
  t.same(JSON.parse(JSON.stringify(withSchema)).properties.payload, { type: 'number' })
  const bare = message('ping')
  t.same(JSON.parse(JSON.stringify(bare)), { type: 'object', required: ['type'], properties: { type: { type: 'string', const: 'ping' } } })
})

t.test('finds the discriminator literal of a schema', async (t) => {
  t.equal(discriminatorLiteral(message('a'), 'type'), 'a')
  t.equal(discriminatorLiteral({ properties: { kind: { enum: ['b'] } } }, 'kind'), 'b')
  t.equal(discriminatorLiteral({ properties: { kind: { enum: ['b', 'c'] } } }, 'kind'), undefined)
  t.equal(discriminatorLiteral(message('a'), 'kind'), undefined)
  t.equal(discriminatorLiteral(null, 'type'), undefined)
  t.equal(discriminatorLiteral({}, 'type'), undefined)
  t.equal(discriminatorLiteral({ properties: { type: { const: 1 } } }, 'type'), undefined)
})

t.test('lists union members', async (t) => {
  const a = message('a')
  const b = message('b')
  t.same(unionMembers(Type.Union([a, b])), [a, b])
  t.same(unionMembers({ oneOf: [a] } as never), [a])
  t.same(unionMembers(a), [a])
})

t.test('strict mode refuses unknown properties at every depth, and respects explicit choices', async (t) => {
  const schema = Type.Object({
    type: Type.Literal('x'),
    list: Type.Array(Type.Object({ id: Type.Number() })),
    open: Type.Object({ a: Type.Number() }, { additionalProperties: true }),
    either: Type.Union([Type.Object({ k: Type.Literal(1) }), Type.Object({ k: Type.Literal(2), v: Type.String() })]),
    both: Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]),
    map: Type.Record(Type.String(), Type.Object({ n: Type.Number() }))
  })
  const strict = compileMessageSchema(schema, true)
  const loose = compileMessageSchema(schema, false)
  const good = { type: 'x', list: [{ id: 1 }], open: { a: 1, z: 2 }, either: { k: 2, v: 's' }, both: { a: 'a', b: 'b' }, map: { q: { n: 1 } } }
  t.ok(strict.check(good))
  t.notOk(strict.check({ ...good, extra: 1 }), 'top level')
  t.notOk(strict.check({ ...good, list: [{ id: 1, x: 1 }] }), 'array items')
  t.notOk(strict.check({ ...good, either: { k: 1, v: 's' } }), 'union members')
  t.notOk(strict.check({ ...good, both: { a: 'a', b: 'b', c: 'c' } }), 'intersections')
  t.notOk(strict.check({ ...good, map: { q: { n: 1, m: 2 } } }), 'record values')
  t.ok(loose.check({ ...good, extra: 1, list: [{ id: 1, x: 1 }] }))
  t.equal(compileMessageSchema(schema, true), strict, 'compiled once')
  const cyclic = Type.Cyclic({ Node: Type.Object({ v: Type.Number(), next: Type.Union([Type.Ref('Node'), Type.Null()]) }) }, 'Node')
  const node = compileMessageSchema(cyclic, true)
  t.ok(node.check({ v: 1, next: { v: 2, next: null } }))
  t.notOk(node.check({ v: 1, next: { v: 2, next: null, w: 3 } }), 'through $ref')
  const shared = Type.Object({ n: Type.Number() })
  t.ok(strictSchema(Type.Object({ a: shared, b: shared })), 'shared subschemas are fine')
})

t.test('reports issues as JSON pointers, unknown properties by name, ten at most', async (t) => {
  const schema = message('x', Type.Object({ a: Type.String(), b: Type.Number() }))
  const v = compileMessageSchema(schema, true)
  t.same(v.issues({ type: 'x', payload: { a: 1, b: 'no', 'we/ird~': 1 } }), [
    { path: '/payload/we~1ird~0', message: 'unknown property' },
    { path: '/payload/a', message: 'must be string' },
    { path: '/payload/b', message: 'must be number' }
  ])
  const wide = Type.Object(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, Type.String()])))
  const issues = compileMessageSchema(wide, true).issues(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i])))
  t.ok(issues.length > 0 && issues.length <= 10, `${issues.length} issues`)
})

t.test('strict mode keeps unions inside intersections working', async (t) => {
  const schema = Type.Intersect([
    Type.Object({ type: Type.Literal('x') }),
    Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Number() })])
  ])
  const strict = compileMessageSchema(schema, true)
  t.ok(strict.check({ type: 'x', a: 'y' }))
  t.ok(strict.check({ type: 'x', b: 1 }))
  t.notOk(strict.check({ type: 'x', a: 'y', z: 1 }))
})

t.test('message() and messages() build schemas for another discriminator', async (t) => {
  const say = message('say', { text: Type.String() }, { discriminator: 'kind' })
  t.same(JSON.parse(JSON.stringify(say)).properties.kind, { type: 'string', const: 'say' })
  t.same(JSON.parse(JSON.stringify(say)).required, ['kind', 'payload'])
  t.same(JSON.parse(JSON.stringify(message('ping', undefined, { discriminator: 'op' }))), { type: 'object', required: ['op'], properties: { op: { type: 'string', const: 'ping' } } })
  const kind = messages({ discriminator: 'kind' })
  t.equal(discriminatorLiteral(kind('a'), 'kind'), 'a')
  t.equal(discriminatorLiteral(kind('b', { n: Type.Number() }), 'kind'), 'b')
  for (const bad of ['', 'payload', 5, null, undefined]) {
    t.throws(() => messages({ discriminator: bad as string }), { code: 'FST_PACHINKO_OPTION_INVALID' }, String(bad))
    t.throws(() => message('a', undefined, { discriminator: bad as string }), { code: 'FST_PACHINKO_OPTION_INVALID' }, String(bad))
  }
  t.throws(() => messages(null as never), { code: 'FST_PACHINKO_OPTION_INVALID' })
})
