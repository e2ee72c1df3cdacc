import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

/*
 * `node dist/bench/profile.js FILE.cpuprofile [--top N] [--filter TEXT]`:
 * the top self-time frames of a V8 CPU profile (as written by `npm run bench
 * -- --cpu-prof`), as file:function and % of the busy (non-idle) time. With
 * --filter, only frames whose file contains TEXT are listed (e.g. `/lib/`),
 * still as % of all busy time, plus their total.
 */

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const IDLE = new Set(['(idle)', '(root)'])

export function selfTimes (profile: Profile): { busyUs: number, frames: Array<{ frame: string, us: number }> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const us = new Map<string, number>()
  let busyUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]) as ProfileNode
    const dt = profile.timeDeltas[i] ?? 0
    const { functionName, url, lineNumber } = node.callFrame
    if (IDLE.has(functionName)) continue
    busyUs += dt
    const file = url === '' ? '' : shorten(url)
    const frame = file === '' ? functionName : `${file}:${functionName === '' ? `(anonymous:${lineNumber + 1})` : functionName}`
    us.set(frame, (us.get(frame) ?? 0) + dt)
  }
  const frames = [...us.entries()].map(([frame, t]) => ({ frame, us: t })).sort((a, b) => b.us - a.us)
  return { busyUs, frames }
}

/** dist/lib/x.js → lib/x.ts; node_modules paths from the package name on. */
function shorten (url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const dist = path.match(/\/dist\/((?:lib|bench|example)\/.*)\.js$/)
  if (dist !== null) return `${dist[1]}.ts`
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+\/.*)$/)
  if (pkg !== null) return pkg[1]
  return path.startsWith('node:') ? path : basename(path)
}

function main (argv: string[]): void {
  // piped into `head`: stop quietly when the reader goes away
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); else throw err })
  const file = argv.find((a) => !a.startsWith('--'))
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/profile.js FILE.cpuprofile [--top N] [--filter TEXT]\n')
    process.exitCode = 2
    return
  }
  const option = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
  const top = Number(option('--top') ?? 25)
  const filter = option('--filter')
  const { busyUs, frames } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile)
  const shown = filter === undefined ? frames : frames.filter((f) => f.frame.startsWith(filter))
  const pct = (us: number): string => `${(100 * us / busyUs).toFixed(1).padStart(5)}%`
  process.stdout.write(`${file}: ${(busyUs / 1000).toFixed(0)} ms busy${filter === undefined ? '' : `; frames matching "${filter}": ${pct(shown.reduce((n, f) => n + f.us, 0)).trim()} of it`}\n`)
  for (const f of shown.slice(0, top)) process.stdout.write(`${pct(f.us)}  ${f.frame}\n`)
}

main(process.argv.slice(2))
