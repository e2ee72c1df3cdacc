import { existsSync, readdirSync, readFileSync } from 'node:fs'

/*
 * The browser's copy of fastify-pachinko/client: the built ES modules of
 * lib/client, read once at startup and served at /client/<file>.js. From the
 * build (dist/example/chat) they sit at ../../lib/client; when this module
 * runs from its TypeScript source (the tests), the build is at
 * ../../dist/lib/client (`npm run build` makes it; `npm test` builds first).
 */
const CANDIDATES = ['../../lib/client/', '../../dist/lib/client/']

/** The client's modules by file name, e.g. `index.js`; empty when there is no build. */
export function readClientFiles (candidates = CANDIDATES): ReadonlyMap<string, string> {
  const files = new Map<string, string>()
  const dir = candidates.map((path) => new URL(path, import.meta.url)).find((url) => existsSync(new URL('index.js', url)))
  if (dir === undefined) return files
  for (const name of readdirSync(dir)) {
    // without the source-map comment: the maps point at TypeScript sources the server does not serve
    if (name.endsWith('.js')) files.set(name, readFileSync(new URL(name, dir), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'))
  }
  return files
}
