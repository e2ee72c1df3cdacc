import { readFileSync } from 'node:fs'
import t from 'tap'
import { errors } from '../lib/index.js'

t.test('documents every error code in the README\'s Errors table', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('\n## Errors')
  const table = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const documented = new Set([...table.matchAll(/^\| `(FST_PACHINKO_[A-Z_]+)` \|/gm)].map((m) => m[1]))
  const codes = Object.values(errors).map((E) => new (E as new (...a: string[]) => { code: string })('x', 'y', 'z', 'w').code)
  t.ok(codes.length > 10)
  for (const code of codes) t.ok(documented.has(code), `${code} is in the README`)
  for (const code of documented) t.ok(codes.includes(code), `${code} in the README exists`)
})

t.test('names every code FST_PACHINKO_<AREA>_<WHAT> and formats its arguments', async (t) => {
  for (const [name, E] of Object.entries(errors)) {
    const error = new (E as new (...a: string[]) => Error & { code: string })('first', 'second', 'third', 'fourth')
    t.match(error.code, /^FST_PACHINKO_[A-Z]+(_[A-Z]+)*$/, name)
    t.notMatch(error.message, /%[sd]/, `${name} fills its placeholders`)
  }
})
