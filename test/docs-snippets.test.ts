import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { checkSnippets } from './helpers/check-snippets.js'
import { anchorsOf, fencedBlocks, headingAnchor, markdownFiles, relativeLinks, typeScriptSnippets, type Snippet } from './helpers/markdown-snippets.js'

/*
 * Every ```ts block of README.md and docs/ compiles as its own module against
 * the package's public entry points, so the docs cannot drift from the API.
 */

const repo = fileURLToPath(new URL('..', import.meta.url))
t.setTimeout(90_000)

t.test('fenced blocks are found with the Markdown line they start on', async (t) => {
  const text = [
    '# title', // 1
    '```ts', // 2
    'const a = 1', // 3
    '```', // 4
    '- a list item:', // 5
    '', // 6
    '  ```sh', // 7
    '  npm test', // 8
    '  ```', // 9
    '````ts', // 10
    '```', // 11: inside a four-backtick fence
    '````' // 12
  ].join('\n')
  t.same(fencedBlocks('x.md', text), [
    { file: 'x.md', line: 3, lang: 'ts', code: 'const a = 1' },
    { file: 'x.md', line: 8, lang: 'sh', code: 'npm test' },
    { file: 'x.md', line: 11, lang: 'ts', code: '```' }
  ])
})

t.test('every TypeScript block of README.md and docs/ compiles', async (t) => {
  // made-up blocks ride in the same program (one compilation), to prove a failure is seen and located
  const probes: Snippet[] = [
    { file: 'probe/x.md', line: 10, lang: 'ts', code: "import { addWebSocketRoute } from 'fastify-pachinko'\nconst n: number = 'one'" },
    { file: 'probe/x.md', line: 20, lang: 'ts', code: "import { WebSocketResource } from 'fastify-pachinko'\nexport class A extends WebSocketResource {}" },
    // the same name in two blocks: each is its own module; top-level await is allowed
    { file: 'probe/y.md', line: 5, lang: 'ts', code: "import { WebSocketResource } from 'fastify-pachinko'\nexport class A extends WebSocketResource {}\nawait Promise.resolve()" }
  ]
  const snippets = typeScriptSnippets(repo)
  t.ok(snippets.length > 20, `${snippets.length} blocks found`)
  const failures = checkSnippets(repo, [...probes, ...snippets])
  const probed = failures.filter((failure) => probes.includes(failure.snippet))
  t.same(probed.map((failure) => failure.text.replace(/ TS\d+ .*/s, '')), ['probe/x.md:10:10', 'probe/x.md:11:7'], 'a failing block is reported at its file and line')
  t.match(probed[0]?.text, /has no exported member named 'addWebSocketRoute'/)
  t.same(failures.filter((failure) => !probes.includes(failure.snippet)).map((failure) => failure.text), [], 'no block of the docs fails to compile')
})

// pages other helpers are writing while this guide is: linked from the index, allowed to be missing until they land
const PENDING = new Set<string>()

t.test('every relative link of README.md and docs/ leads to a file, and to a heading there', async (t) => {
  t.equal(headingAnchor('The typed client: `fastify-pachinko/client`'), 'the-typed-client-fastify-pachinkoclient')
  t.same(relativeLinks('[a](b.md#c) `[x](y)` [web](https://x.org)\n```md\n[no](z.md)\n```\n[d](../e.md)'), [{ line: 1, target: 'b.md#c' }, { line: 5, target: '../e.md' }])
  const broken: string[] = []
  for (const path of markdownFiles(repo)) {
    const file = relative(repo, path)
    for (const { line, target } of relativeLinks(readFileSync(path, 'utf8'))) {
      const [where, anchor] = target.split('#')
      const destination = where === '' ? path : join(dirname(path), where)
      const name = relative(repo, destination)
      if (!existsSync(destination)) {
        if (!PENDING.has(name)) broken.push(`${file}:${line} ${target}: no such file`)
        continue
      }
      if (anchor !== undefined && destination.endsWith('.md') && statSync(destination).isFile() && !anchorsOf(readFileSync(destination, 'utf8')).has(anchor)) {
        broken.push(`${file}:${line} ${target}: no heading #${anchor} in ${name}`)
      }
    }
  }
  t.same(broken, [], 'no broken link')
})
