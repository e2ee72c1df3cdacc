import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { AsyncApiOptions } from './document.js'

/*
 * `fastify-pachinko asyncapi <module>`: loads a module that builds an app,
 * lets its plugins load without starting it (no listen, no ready: workers do
 * not start), writes the app's AsyncAPI document, and closes the app.
 */

/** Where the command writes. */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

export const USAGE = `Usage: fastify-pachinko asyncapi <module> [options]

Writes the AsyncAPI 3.0 document of the app <module> builds, without starting it.
<module> exports the app, or a function that builds it (called without arguments):
its default export, the export named by --export, or its only function export.

Options:
  --export NAME     the export that builds the app
  --out FILE        write to FILE (.yaml or .yml for YAML) instead of stdout
  --yaml            YAML on stdout
  --title TEXT      info.title (default: the name in ./package.json)
  --version TEXT    info.version (default: the version in ./package.json)
  --server NAME=URL a server, e.g. --server local=ws://localhost:3000 (repeatable)`

interface Args { module: string, exportName?: string, out?: string, yaml: boolean, title?: string, version?: string, servers: string[] }

/** Runs the command; resolves with the exit code (0 done, 1 failed, 2 bad usage). */
export async function main (argv: string[], io: CliIo, cwd = process.cwd()): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv)
  } catch (err) {
    io.stderr(`${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  let app: FastifyInstance
  try {
    app = await loadApp(resolve(cwd, args.module), args.exportName)
  } catch (err) {
    io.stderr(`fastify-pachinko asyncapi: ${(err as Error).message}\n`)
    return 1
  }
  let code = 0
  try {
    await app.after()
    const document = app.ws.asyncapi(documentOptions(args, cwd))
    const yaml = args.yaml || /\.ya?ml$/.test(args.out ?? '')
    const text = yaml ? (await import('yaml')).stringify(document) : JSON.stringify(document, null, 2) + '\n'
    if (args.out === undefined) io.stdout(text)
    else writeFileSync(resolve(cwd, args.out), text)
  } catch (err) {
    io.stderr(`fastify-pachinko asyncapi: ${(err as Error).message}\n`)
    code = 1
  }
  await app.close()
  return code
}

function parseArgs (argv: string[]): Args {
  const [command, ...rest] = argv
  if (command !== 'asyncapi') throw new Error(command === undefined ? 'no command given' : `unknown command "${command}"`)
  const args: Partial<Args> & { servers: string[], yaml: boolean } = { servers: [], yaml: false }
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]
    const value = (): string => {
      const next = rest[++i]
      if (next === undefined) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--yaml') args.yaml = true
    else if (arg === '--export') args.exportName = value()
    else if (arg === '--out') args.out = value()
    else if (arg === '--title') args.title = value()
    else if (arg === '--version') args.version = value()
    else if (arg === '--server') args.servers.push(value())
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`)
    else if (args.module === undefined) args.module = arg
    else throw new Error(`unexpected argument "${arg}"`)
  }
  if (args.module === undefined) throw new Error('no module given')
  return args as Args
}

async function loadApp (file: string, exportName: string | undefined): Promise<FastifyInstance> {
  const exports = await import(pathToFileURL(file).href) as Record<string, unknown>
  const name = pick(exports, exportName)
  const candidate = exports[name]
  const app = typeof candidate === 'function' && !isApp(candidate) ? await (candidate as () => unknown)() : candidate
  if (!isApp(app)) throw new Error(`the export "${name}" of ${file} did not give a Fastify app with fastify-pachinko registered`)
  return app
}

/** The name of the export that is (or builds) the app. */
function pick (exports: Record<string, unknown>, exportName: string | undefined): string {
  if (exportName !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(exports, exportName)) throw new Error(`the module has no export named "${exportName}"`)
    return exportName
  }
  if (exports.default !== undefined) return 'default'
  const functions = Object.keys(exports).filter((name) => isApp(exports[name]) || isBuilder(exports[name]))
  if (functions.length !== 1) throw new Error(`the module has ${functions.length === 0 ? 'no' : 'several'} candidate exports (${functions.join(', ')}); name one with --export`)
  return functions[0]
}

/** A plain function, not a class: classes (resources, for one) are not app builders. */
function isBuilder (value: unknown): boolean {
  return typeof value === 'function' && !/^class[\s{]/.test(Function.prototype.toString.call(value))
}

function isApp (value: unknown): value is FastifyInstance {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as FastifyInstance).after === 'function' && typeof (value as { ws?: { asyncapi?: unknown } }).ws?.asyncapi === 'function'
}

function documentOptions (args: Args, cwd: string): AsyncApiOptions {
  let pkg: { name?: string, version?: string } = {}
  try {
    pkg = JSON.parse(readFileSync(resolve(cwd, 'package.json'), 'utf8')) as typeof pkg
  } catch {}
  const servers: NonNullable<AsyncApiOptions['servers']> = {}
  for (const entry of args.servers) {
    const match = /^([A-Za-z0-9._-]+)=(wss?):\/\/([^/]+)(\/.*)?$/.exec(entry)
    if (match === null) throw new Error(`--server ${entry}: expected NAME=ws://host[:port][/path]`)
    servers[match[1]] = { host: match[3], protocol: match[2], ...(match[4] === undefined ? {} : { pathname: match[4] }) }
  }
  return {
    info: { title: args.title ?? pkg.name ?? 'WebSocket API', version: args.version ?? pkg.version ?? '1.0.0' },
    ...(args.servers.length === 0 ? {} : { servers })
  }
}
