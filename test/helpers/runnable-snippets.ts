import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { fencedBlocks } from './markdown-snippets.js'

/*
 * Runs a Markdown block as the module it is: the block right after a
 * `<!-- tested: NAME -->` line is written out with the package's public names
 * pointed at this repository's entry points, and imported.
 */

const ENTRY_POINTS: Record<string, string> = {
  'fastify-pachinko': 'lib/index.js',
  'fastify-pachinko/testing': 'lib/testing/index.js',
  'fastify-pachinko/client': 'lib/client/index.js'
}

/** The code of the block marked `<!-- tested: name -->` in `file` (relative to the repository). */
export function markedBlock (repo: string, file: string, name: string): string {
  const text = readFileSync(join(repo, file), 'utf8')
  const marker = text.split(/\r?\n/).findIndex((line) => line.trim() === `<!-- tested: ${name} -->`)
  if (marker === -1) throw new Error(`${file} has no <!-- tested: ${name} --> block`)
  const block = fencedBlocks(file, text).find((candidate) => candidate.line === marker + 3)
  if (block === undefined) throw new Error(`${file}: no code block right after <!-- tested: ${name} -->`)
  return block.code
}

/** Imports the marked block as a module; the file is removed when `t` ends. */
export async function importMarkedBlock<T> (t: { after (fn: () => unknown): unknown }, repo: string, file: string, name: string): Promise<T> {
  // under the repository (it resolves node_modules and is ESM there), in tap's ignored output folder
  const dir = join(repo, '.tap', `docs-run-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name}.ts`)
  const code = markedBlock(repo, file, name).replace(/from '(fastify-pachinko(?:\/testing|\/client)?)'/g, (_, specifier: string) => {
    const target = relative(dir, join(repo, ENTRY_POINTS[specifier])).split('\\').join('/')
    return `from '${target.startsWith('.') ? target : `./${target}`}'`
  })
  writeFileSync(path, code)
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return await import(pathToFileURL(path).href) as T
}
