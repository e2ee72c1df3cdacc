import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { startServer, type ServerChild } from './children.js'
import { repoRoot, resultsDir } from './paths.js'
import { spread, type Spread } from './stats.js'

/*
 * The change feed's cost, `node dist/bench/change-feed.js [--quick]`: server
 * CPU per HTTP write with the feed off (same route, no feed in its scope), on
 * without subscribers, and on with N subscribers of `all` (the fan-out). The
 * server runs in its own process (bench/contenders/change-feed-*.ts, through
 * server-main); this process is the load: a closed loop of keep-alive POSTs
 * and the subscribers, which count every event they get.
 */

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    window: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    subscribers: { type: 'string' }
  }
})
const quick = args.quick === true
const repeats = Number(args.repeats ?? (quick ? 1 : 3))
const windowMs = Number(args.window ?? (quick ? 1000 : 4000))
const warmupMs = quick ? 300 : 1000
const concurrency = Number(args.concurrency)
const fanout = Number(args.subscribers ?? (quick ? 100 : 1000))

interface Variant { name: string, module: string, subscribers: number }
const VARIANTS: Variant[] = [
  { name: 'feed off', module: 'change-feed-off', subscribers: 0 },
  { name: 'feed on, no subscriber', module: 'change-feed-on', subscribers: 0 },
  { name: `feed on, ${fanout / 10} subscribers`, module: 'change-feed-on', subscribers: fanout / 10 },
  { name: `feed on, ${fanout} subscribers`, module: 'change-feed-on', subscribers: fanout }
]

interface Run { variant: string, writes: number, deliveries: number, cpuUs: number, ms: number, usPerWrite: number }

const body = JSON.stringify({ name: 'widget', price: 9.5 })

async function post (agent: Agent, port: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/items', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function subscribe (url: string, count: number, onEvent: () => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = []
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, async () => await new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`${url}?ack=1`)
      socket.once('error', reject)
      socket.once('message', () => {
        socket.on('message', onEvent)
        resolve(socket)
      })
    }))
    sockets.push(...await Promise.all(batch))
  }
  return sockets
}

async function runOnce (variant: Variant): Promise<Run> {
  const server: ServerChild = await startServer(variant.module, {})
  const port = Number(new URL(server.url.ws).port)
  let deliveries = 0
  const sockets = await subscribe(server.url.ws, variant.subscribers, () => { deliveries++ })
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  let measuring = false
  let writes = 0
  const state = { stop: false }
  const worker = async (): Promise<void> => {
    while (!state.stop) {
      const status = await post(agent, port)
      if (status !== 201) throw new Error(`POST /api/items answered ${status}`)
      if (measuring) writes++
    }
  }
  const workers = Array.from({ length: concurrency }, worker)
  await new Promise((resolve) => setTimeout(resolve, warmupMs))
  const before = await server.cpu()
  const deliveredBefore = deliveries
  measuring = true
  await new Promise((resolve) => setTimeout(resolve, windowMs))
  measuring = false
  const after = await server.cpu()
  const delivered = deliveries - deliveredBefore
  state.stop = true
  await Promise.all(workers)
  agent.destroy()
  for (const socket of sockets) socket.terminate()
  await server.stop(true)
  const cpuUs = after.cpuUs - before.cpuUs
  return { variant: variant.name, writes, deliveries: delivered, cpuUs, ms: after.at - before.at, usPerWrite: cpuUs / writes }
}

const loadBefore = loadavg()[0]
const runs: Run[] = []
for (let r = 0; r < repeats; r++) {
  // the order rotates each repeat, so no variant always runs first on a warming machine
  const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length])
  for (const variant of order) {
    const run = await runOnce(variant)
    runs.push(run)
    process.stderr.write(`${run.variant}: ${(run.writes / run.ms * 1000).toFixed(0)} writes/s, ${run.usPerWrite.toFixed(1)} µs/write, ${run.deliveries} deliveries\n`)
  }
}

const byVariant = (name: string): Run[] => runs.filter((run) => run.variant === name)
const fmt = (s: Spread | undefined, digits = 1): string => s === undefined ? 'n/a' : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
const [off, on0, onSome, onMany] = VARIANTS.map((v) => byVariant(v.name))
const pairwise = (a: Run[], b: Run[], f: (x: Run, y: Run) => number): Spread | undefined => spread(a.map((x, i) => f(x, b[i])))
const perDelivery = (many: Run[], subscribers: number): Spread | undefined => pairwise(many, on0, (x, y) => (x.usPerWrite - y.usPerWrite) / subscribers)

const rows = VARIANTS.map((v) => {
  const list = byVariant(v.name)
  const rate = spread(list.map((run) => run.writes / run.ms * 1000))
  const delivered = spread(list.map((run) => run.deliveries / run.ms * 1000))
  return `| ${v.name} | ${fmt(rate, 0)} | ${fmt(spread(list.map((run) => run.usPerWrite)))} | ${v.subscribers === 0 ? '—' : fmt(delivered, 0)} |`
})
let commit = 'unknown'
try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).toString().trim() } catch {}
const report = `# Change feed: cost per HTTP write and fan-out

${new Date().toISOString()} · Node ${process.version} · commit ${commit} · ${repeats} repeat(s) × ${windowMs} ms windows · ${concurrency} keep-alive POSTs in flight · load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}${quick ? ' · **quick run**' : ''}

\`POST /api/items\` (a response schema, \`config.model: 'item'\`) in its own process; the load and the
subscribers (plain \`ws\`, topic \`all\`) in another. Server CPU per write is the server process's CPU over the
window ÷ the writes completed in it. Compare the ratios, not the absolute rates (a shared 2-core machine).

| variant | writes/s | server µs per write | deliveries/s |
|---|---|---|---|
${rows.join('\n')}

| figure | median (min–max) |
|---|---|
| feed on, no subscriber ÷ feed off (µs per write) | ${fmt(pairwise(on0, off, (x, y) => x.usPerWrite / y.usPerWrite), 2)} |
| fan-out: extra server µs per delivery, ${fanout / 10} subscribers | ${fmt(perDelivery(onSome, fanout / 10), 2)} |
| fan-out: extra server µs per delivery, ${fanout} subscribers | ${fmt(perDelivery(onMany, fanout), 2)} |
`
process.stdout.write(report)
if (!quick) {
  writeFileSync(join(resultsDir, 'change-feed.md'), report)
  writeFileSync(join(resultsDir, 'change-feed.json'), JSON.stringify({ commit, repeats, windowMs, concurrency, fanout, runs }, null, 2) + '\n')
}
