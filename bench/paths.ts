import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: the nearest directory above this file with a package.json (works from bench/ and dist/bench/). */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the repository root (no package.json above bench/)')
    dir = parent
  }
  return dir
})()

/** Where reports are written. */
export const resultsDir = join(repoRoot, 'bench', 'results')

/** The compiled entry points of the child processes, next to this file. */
export const serverMain = fileURLToPath(new URL('./server-main.js', import.meta.url))
export const loadMain = fileURLToPath(new URL('./load/main.js', import.meta.url))

/** True once the library has a Redis backend (lib/backends/redis.ts) and it has been compiled next to the bench. */
export function redisBackendAvailable (): boolean {
  return existsSync(join(repoRoot, 'lib', 'backends', 'redis.ts')) &&
    existsSync(fileURLToPath(new URL('../lib/backends/redis.js', import.meta.url)))
}
