import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'

/*
 * The package as a new user gets it: packed from a fresh checkout (no dist/),
 * installed into an empty project of its own, type-checked there and run.
 */

const run = promisify(execFile)
const repo = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
// the child processes are not part of this test's coverage, and npm must not see this run's lifecycle
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) =>
  !/^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP.*|_TAPJS.*|npm_lifecycle_.*|npm_package_.*)$/.test(key)))
// packing builds the library and installing unpacks a project: a minute on a busy machine
t.setTimeout(240_000)
const child = { env, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 }
const work = mkdtempSync(join(tmpdir(), 'pachinko-pack-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

interface PackResult { filename: string, files: Array<{ path: string }> }

/** A checkout of the working tree without build output, sharing the repo's node_modules (read-only use). */
async function freshCheckout (): Promise<string> {
  const checkout = join(work, 'checkout')
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, maxBuffer: 16 * 1024 * 1024 })
  for (const file of stdout.split('\0')) {
    if (file === '' || !existsSync(join(repo, file))) continue
    mkdirSync(dirname(join(checkout, file)), { recursive: true })
    cpSync(join(repo, file), join(checkout, file))
  }
  symlinkSync(join(repo, 'node_modules'), join(checkout, 'node_modules'), 'dir')
  return checkout
}

const packed = (async () => {
  const checkout = await freshCheckout()
  // a real pack (prepack included), not --dry-run: the consumer below installs the very tarball listed here
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { ...child, cwd: checkout })
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('['))) as PackResult[]
  return { checkout, tarball: join(work, result.filename), files: result.files.map((f) => f.path) }
})()

t.test('npm pack in a fresh checkout builds and ships the code, and nothing but the package', async (t) => {
  const { files } = await packed
  for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts', 'lib/index.ts']) {
    t.ok(files.includes(file), `ships ${file}`)
  }
  const stray = files.filter((file) => !/^(dist\/lib\/|lib\/)/.test(file) && !['package.json', 'README.md', 'LICENSE'].includes(file))
  t.same(stray, [], 'no tests, type tests, bench, examples or config')
  t.same(files.filter((file) => /(^|\/)(test|bench|example|types)\//.test(file)), [], 'not even built ones')
  for (const target of Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap((e) => typeof e === 'string' ? [e] : Object.values(e))) {
    t.ok(files.includes(posix.normalize(target)), `ships the export target ${target}`)
  }
})

t.test('every source map in the tarball points at sources the tarball holds', async (t) => {
  const { checkout, files } = await packed
  const maps = files.filter((file) => file.endsWith('.map'))
  t.ok(maps.length > 10, `${maps.length} maps`)
  const missing = maps.flatMap((map) => (JSON.parse(readFileSync(join(checkout, map), 'utf8')) as { sources: string[] }).sources
    .map((source) => posix.join(posix.dirname(map), source))
    .filter((source) => !files.includes(source)))
  t.same(missing, [])
})

// what a new user writes: no reflect-metadata import, decorators and constructor injection in their own module
const APP = `
import Fastify from 'fastify'
import pachinko, { WebSocketResource, handlesMessage, injectable, message, redisBackend } from 'fastify-pachinko'
import { connect } from 'fastify-pachinko/testing'
import { createRequire } from 'node:module'
import { Type, type Static } from 'typebox'

const Echo = message('echo', { text: Type.String({ maxLength: 100 }) })

@injectable()
class Greeter {
  greet (text: string): string { return 'echo: ' + text }
}

@injectable()
class EchoRoom extends WebSocketResource {
  static schema = Type.Union([Echo])
  constructor (private readonly greeter: Greeter) { super() }

  @handlesMessage('echo')
  async echo (msg: Static<typeof Echo>) {
    this.send({ type: 'echoed', payload: { text: this.greeter.greet(msg.payload.text), socketOpen: this.connection.socket.readyState === 1 } })
  }
}

const app = Fastify()
await app.register(pachinko)
app.ws.container.register(Greeter)
app.addWebSocketRoute('/ws', EchoRoom)
const client = await connect(app, '/ws')
client.send({ type: 'echo', payload: { text: 'hi' } })
const echoed = await client.expect('echoed')
await client.close()
await app.close()

let redis: { code?: string, message?: string } = {}
const withRedis = Fastify()
try {
  await withRedis.register(pachinko, { backend: redisBackend({ url: 'redis://127.0.0.1:1' }) })
} catch (err) {
  redis = { code: (err as { code?: string }).code, message: (err as Error).message }
}
await withRedis.close().catch(() => {})

const version = (createRequire(import.meta.url)('fastify-pachinko/package.json') as { version: string }).version
process.stdout.write(JSON.stringify({ echoed: echoed.payload, redis, version }))
`

const COMPILER_OPTIONS = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  types: ['node'],
  outDir: 'out'
}

/** Every installed copy of the packages named, anywhere in the tree (a missing optional peer is listed without a version). */
function versionsOf (tree: { dependencies?: Record<string, { version?: string, dependencies?: unknown }> }, names: string[], found: string[] = []): string[] {
  for (const [name, dep] of Object.entries(tree.dependencies ?? {})) {
    if (names.includes(name) && dep.version !== undefined) found.push(`${name}@${dep.version}`)
    versionsOf(dep as Parameters<typeof versionsOf>[0], names, found)
  }
  return found
}

t.test('a new project on Node 20 types installs the tarball, type-checks against it and runs an app', async (t) => {
  const { tarball } = await packed
  const project = join(work, 'consumer')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: { 'fastify-pachinko': `file:${tarball}`, fastify: pkg.devDependencies.fastify, typebox: pkg.dependencies.typebox },
    devDependencies: { '@types/node': '^20.0.0' }
  }))
  // from npm's cache, which the repo's own install filled; the registry only for what it lacks
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { ...child, cwd: project })

  const { stdout: tree } = await run('npm', ['ls', '--all', '--json'], { ...child, cwd: project })
  const found = versionsOf(JSON.parse(tree), ['@types/node', '@types/ws', 'ioredis'])
  t.ok(found.length > 0 && found.every((v) => v.startsWith('@types/node@20.')), `only the project's own @types/node 20 (${found.join(', ')})`)

  // the user's build, strict, with skipLibCheck off for the app and every declaration the package ships
  // (not for the whole program: that spends most of a minute inside typebox's own declarations, which are not ours)
  writeFileSync(join(project, 'app.ts'), APP)
  const config = ts.parseJsonConfigFileContent({ compilerOptions: { ...COMPILER_OPTIONS, skipLibCheck: false }, include: ['app.ts'] }, ts.sys, project)
  const program = ts.createProgram(config.fileNames, config.options)
  const ours = program.getSourceFiles().filter((file) => file.fileName.includes('/node_modules/fastify-pachinko/') || file.fileName.endsWith('/app.ts'))
  t.ok(ours.length > 20, `${ours.length} files checked`)
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
    // emitting one file checks only that one (emitting them all would check every declaration)
    ...program.emit(ours.find((file) => file.fileName.endsWith('/app.ts'))).diagnostics
  ]
  t.same(diagnostics.map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`), [], 'no type errors, without @types/ws or ioredis')

  const { stdout } = await run(process.execPath, [join(project, 'out', 'app.js')], { ...child, cwd: project })
  const result = JSON.parse(stdout)
  t.same(result.echoed, { text: 'echo: hi', socketOpen: true }, 'a route, a handler and constructor injection work without importing reflect-metadata')
  t.equal(result.redis.code, 'FST_PACHINKO_BACKEND_DEPENDENCY_MISSING', 'redisBackend without ioredis installed is a coded error')
  t.match(result.redis.message, /npm install ioredis/)
  t.equal(result.version, pkg.version, 'fastify-pachinko/package.json is exported')
})
