import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/*
 * A disk cache in front of ts-node for the test processes. Every test file
 * and every forked fixture is its own process, and ts-node transpiles each
 * TypeScript file it loads again in each of them: about four seconds of CPU
 * per process for the library alone. This `load` hook keys ts-node's output
 * (JavaScript with its inline source map, so coverage still maps to the .ts
 * lines) by the file's bytes and the compiler's settings, and serves it from
 * node_modules/.cache on the next load. Resolution stays ts-node's.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cacheDir = join(root, 'node_modules', '.cache', 'pachinko-tests')
const TS_EXTENSION = /\.[cm]?ts$/
const rootUrl = pathToFileURL(root + '/').href
const nodeModulesUrl = pathToFileURL(join(root, 'node_modules') + '/').href
const exists = new Map()
const BARE = /^(?:node:|@?[a-z0-9])/i

function fileExists (url) {
  let known = exists.get(url)
  if (known === undefined) exists.set(url, known = existsSync(fileURLToPath(url)))
  return known
}

export async function resolve (specifier, context, nextResolve) {
  const parent = context.parentURL
  // tap's mocks (t.mockImport) put a query on their modules' URLs and resolve their imports themselves
  if (parent === undefined || !parent.startsWith('file:') || parent.includes('?')) return await nextResolve(specifier, context)
  const own = parent.startsWith(rootUrl) && !parent.startsWith(nodeModulesUrl) && (specifier.startsWith('./') || specifier.startsWith('../'))
  if (!own) return await cachedResolve(specifier, context, nextResolve)
  const url = new URL(specifier, parent).href
  if (url.startsWith(nodeModulesUrl) || url.includes('?') || url.includes('#')) return await nextResolve(specifier, context)
  if (url.endsWith('.js') && !fileExists(url)) {
    const ts = url.slice(0, -3) + '.ts'
    if (fileExists(ts)) return { url: ts, format: 'module', shortCircuit: true }
  }
  if (url.endsWith('.ts') && fileExists(url)) return { url, format: 'module', shortCircuit: true }
  return await nextResolve(specifier, context)
}

const salt = createHash('sha256')
for (const file of ['tsconfig.json', 'package-lock.json', 'node_modules/typescript/package.json', 'node_modules/@isaacs/ts-node-temp-fork-for-pr-2009/package.json']) {
  salt.update(readFileSync(join(root, file)))
}
salt.update(String(process.env.TS_NODE_TRANSPILE_ONLY))
salt.update(readFileSync(fileURLToPath(import.meta.url)))
const saltDigest = salt.digest()

mkdirSync(cacheDir, { recursive: true })

/**
 * A package, a builtin, or a file of a package: resolved as ts-node and Node
 * resolved it before, while package-lock.json is the same. A project file's
 * bare imports all share one node_modules, so their parent is not part of the key.
 */
async function cachedResolve (specifier, context, nextResolve) {
  const parent = context.parentURL.startsWith(nodeModulesUrl) || !BARE.test(specifier) ? context.parentURL : ''
  const entry = join(cacheDir, 'resolve-' + createHash('sha256').update(saltDigest).update(specifier).update(parent).update(String(context.conditions)).digest('hex'))
  try {
    const [url, format] = readFileSync(entry, 'utf8').split('\n')
    return { url, format: format === '' ? undefined : format, shortCircuit: true }
  } catch {}
  const result = await nextResolve(specifier, context)
  writeEntry(entry, `${result.url}\n${result.format ?? ''}`)
  return result
}

function writeEntry (entry, text) {
  // written whole then renamed, so a parallel process never reads half an entry
  const partial = `${entry}.${process.pid}.tmp`
  writeFileSync(partial, text)
  renameSync(partial, entry)
}

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || url.includes('?')) return await nextLoad(url, context)
  if (url.startsWith(nodeModulesUrl)) return await packageLoad(url, context, nextLoad)
  if (!TS_EXTENSION.test(url)) return await nextLoad(url, context)
  const source = readFileSync(fileURLToPath(url))
  const key = createHash('sha256').update(saltDigest).update(url).update(source).digest('hex')
  const entry = join(cacheDir, key)
  try {
    const cached = readFileSync(entry, 'utf8')
    const newline = cached.indexOf('\n')
    return { format: cached.slice(0, newline), source: cached.slice(newline + 1), shortCircuit: true }
  } catch {}
  const result = await nextLoad(url, context)
  if (result.source !== undefined && result.source !== null && (result.format === 'module' || result.format === 'commonjs')) {
    writeEntry(entry, `${result.format}\n${String(result.source)}`)
  }
  return result
}

/** A package's file: its format as found before; an ES module's source read here, CommonJS left to Node's own loader. */
async function packageLoad (url, context, nextLoad) {
  const entry = join(cacheDir, 'format-' + createHash('sha256').update(saltDigest).update(url).digest('hex'))
  let format
  try {
    format = readFileSync(entry, 'utf8')
  } catch {}
  if (format === 'commonjs') return { format, source: null, shortCircuit: true }
  if (format === 'module') return { format, source: readFileSync(fileURLToPath(url)), shortCircuit: true }
  const result = await nextLoad(url, context)
  const plain = (result.format === 'commonjs' && (result.source === null || result.source === undefined)) || result.format === 'module'
  if (plain) writeEntry(entry, result.format)
  return result
}
