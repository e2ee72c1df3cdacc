import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { WebSocket } from 'ws'

/*
 * Presence join burst: N clients join one topic whose channel tracks each of
 * them, as fast as they can; the burst ends when every client has its
 * `presence_state` and the first one has seen all N in its diffs. Reported:
 * the server's CPU time and the frames it wrote, with presence diffs batched
 * every 100 ms (the default), flushed on every turn of the event loop
 * (intervalMs 0), and the peer: presence written by hand on the same hub,
 * one diff per join to everyone and a state per joiner (`hand`).
 *   node dist/bench/presence/run.js [--clients 2000] [--modes 100,0,hand]
 */

interface Stats { cpuUs: number, framesOut: number, connections: number }

function arg (name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : process.argv[at + 1]
}

async function ask (child: ChildProcess): Promise<Stats> {
  child.send('stats')
  const [stats] = await once(child, 'message') as [Stats]
  return stats
}

async function burst (clients: number, mode: string): Promise<{ cpuMs: number, framesOut: number, framesIn: number, wallMs: number }> {
  const child = fork(new URL('./server.js', import.meta.url), { env: { ...process.env, PRESENCE_MODE: mode } })
  const [{ port }] = await once(child, 'message') as [{ port: number }]
  const url = `ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0`
  const sockets: WebSocket[] = []
  for (let i = 0; i < clients; i++) {
    const ws = new WebSocket(url)
    sockets.push(ws)
    await once(ws, 'open')
  }
  let framesIn = 0
  let states = 0
  const seen = new Set<string>()
  let done!: () => void
  const finished = new Promise<void>((resolve) => { done = resolve })
  const check = (): void => { if (states === clients && seen.size === clients) done() }
  sockets.forEach((ws, i) => {
    ws.on('message', (data: Buffer) => {
      framesIn++
      // only the first client decodes the diffs; the others just count
      const text = data.toString()
      if (text.includes('"presence_state"')) {
        states++
        if (i === 0) for (const key of Object.keys(JSON.parse(text)[4])) seen.add(key)
      } else if (i === 0 && text.includes('"presence_diff"')) {
        for (const key of Object.keys(JSON.parse(text)[4].joins)) seen.add(key)
      }
      check()
    })
  })
  const before = await ask(child)
  const began = performance.now()
  sockets.forEach((ws, i) => ws.send(JSON.stringify(['1', '1', 'lobby:one', 'phx_join', { user: `u${i}` }])))
  await finished
  const wallMs = performance.now() - began
  const after = await ask(child)
  for (const ws of sockets) ws.terminate()
  child.send('close')
  await once(child, 'exit')
  return { cpuMs: (after.cpuUs - before.cpuUs) / 1000, framesOut: after.framesOut - before.framesOut, framesIn, wallMs }
}

const clients = Number(arg('clients', '2000'))
const modes = arg('modes', '100,0,hand').split(',')
const rows: string[] = []
for (const mode of modes) {
  const result = await burst(clients, mode)
  process.stderr.write(`${mode}: ${JSON.stringify(result)}\n`)
  rows.push(`| ${mode === 'hand' ? 'hand-written, one diff per join' : `presence, intervalMs ${mode}`} | ${clients} | ${result.cpuMs.toFixed(0)} | ${(result.cpuMs * 1000 / clients).toFixed(0)} | ${result.framesOut} | ${(result.framesOut / clients).toFixed(1)} | ${result.wallMs.toFixed(0)} |`)
}
process.stdout.write(`| server | clients | server CPU ms | µs per join | frames sent | frames per client | wall ms |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`)
