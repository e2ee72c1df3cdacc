import { CONTENDERS } from '../contenders/index.js'
import { SATURATED } from '../measure.js'
import { presenceWarmupClients } from '../scenarios.js'
import { kib, med, num, pct, ratio } from './format.js'
import { PEERS, type Cell, type ScenarioSummary, type Summary } from './summary.js'

/*
 * The report as Markdown: results (one table), pachinko ÷ peers, targets,
 * then how it was run and what the figures mean. The same text is printed to
 * stdout at the end of `npm run bench`.
 */

/** Other processes' CPU (share of a core) over a window above which a run is called noisy in the notes. */
const NOISY = 0.15

const peerLabel = (name: string): string => CONTENDERS.find((c) => c.name === name)?.label ?? name

/** What each pachinko feature costs, as a ratio to plain pachinko in the same run. */
export function featuresTable (summary: Summary): string {
  const rows = ['| feature | scenario | cost ÷ plain pachinko, or the baseline the row names (median, min–max) | extra RSS per connection |', '|---|---|---|---|']
  for (const f of summary.features ?? []) {
    const extra = f.extraBytes === undefined ? '—' : med(f.extraBytes, kib)
    rows.push(`| ${f.feature} | ${f.scenario} | ${med(f.cost, ratio)} | ${extra} |`)
  }
  return rows.length === 2 ? '' : rows.join('\n')
}

export function resultsTable (summary: Summary): string {
  const rows = ['| scenario | contender | rate (median, min–max) | latency p50 / p99 ms | server CPU per unit (median, min–max) | server CPU / load-gen CPU | notes |', '|---|---|---|---|---|---|---|']
  for (const s of summary.scenarios) {
    for (const c of s.cells) rows.push(row(s, c))
    for (const na of s.notApplicable) rows.push(`| (${s.letter}) ${s.id} | ${peerLabel(na.contender)} | n/a | | | | ${na.reason} |`)
  }
  return rows.join('\n')
}

function row (s: ScenarioSummary, c: Cell): string {
  const name = `(${s.letter}) ${s.id}`
  const notes = notesFor(s, c)
  if (s.kind === 'memory') {
    return `| ${name} | ${c.label} | — | — | RSS ${med(c.rssPerConn, kib)}/conn; heap+external ${med(c.heapPerConn, kib)}/conn | — | ${notes} |`
  }
  const unitRate = s.unit === 'msg' ? 'msgs/s' : s.unit === 'delivery' ? 'deliveries/s' : s.unit === 'join' ? 'joins/s' : 'conns/s'
  const latency = c.p50Ms === undefined ? '—' : `${num(c.p50Ms.median)} / ${num((c.p99Ms as { median: number }).median)}`
  const floor = c.saturatedRuns > 0 ? ' ≥' : ''
  return `| ${name} | ${c.label} |${floor} ${med(c.rate)} ${unitRate} | ${latency} | ${med(c.serverUsPerUnit)} µs/${s.unit} | ${med(c.serverCpu, pct)} / ${med(c.loadgenCpu, pct)} | ${notes} |`
}

function notesFor (s: ScenarioSummary, c: Cell): string {
  const notes: string[] = []
  if (c.okRuns < c.runs) notes.push(`${c.runs - c.okRuns}/${c.runs} runs failed`)
  if (c.saturatedRuns > 0) notes.push(`load generator saturated in ${c.saturatedRuns}/${c.okRuns} runs: rate is a floor`)
  if (c.otherCpu !== undefined && c.otherCpu.max >= NOISY) notes.push(`other processes used up to ${pct(c.otherCpu.max)} of a core during a window`)
  if (s.id === 'echo-invalid' && c.checks.invalidSent !== undefined) notes.push(`VALIDATION error frames ${num(c.checks.errorFrames ?? 0)}/${num(c.checks.invalidSent)} invalid`)
  if (s.id === 'presence-burst' && c.framesPerUnit !== undefined) notes.push(`${med(c.framesPerUnit)} frames written per client`)
  for (const p of c.problems.slice(0, 3)) notes.push(p.replace(/\|/g, '/'))
  return notes.join('; ')
}

export function ratiosTable (summary: Summary): string {
  const rows = [`| scenario | figure | ${PEERS.map((p) => `÷ ${peerLabel(p)}`).join(' | ')} |`, `|---|---|${PEERS.map(() => '---').join('|')}|`]
  for (const s of summary.scenarios) {
    if (s.ratios.length === 0) continue
    const get = (peer: string, which: 'cost' | 'rate'): string => med(s.ratios.find((r) => r.versus === peer)?.[which], ratio)
    const cost = s.kind === 'memory' ? 'RSS per connection (lower is better)' : `server µs/${s.unit} (lower is better)`
    rows.push(`| (${s.letter}) ${s.id} | ${cost} | ${PEERS.map((p) => get(p, 'cost')).join(' | ')} |`)
    if (s.kind === 'throughput') rows.push(`| (${s.letter}) ${s.id} | rate (higher is better) | ${PEERS.map((p) => get(p, 'rate')).join(' | ')} |`)
  }
  return rows.join('\n')
}

/** The ratios whose peer is not one of PEERS (presence batched ÷ written by hand). */
export function comparisonsTable (summary: Summary): string {
  const rows = ['| scenario | ratio | server µs per unit (lower is better) | rate (higher is better) |', '|---|---|---|---|']
  for (const c of summary.comparisons ?? []) {
    const s = summary.scenarios.find((x) => x.id === c.scenario) as ScenarioSummary
    rows.push(`| (${s.letter}) ${s.id} | ${peerLabel(c.subject)} ÷ ${peerLabel(c.versus)} | ${med(c.cost, ratio)} | ${med(c.rate, ratio)} |`)
  }
  return rows.length === 2 ? '' : rows.join('\n')
}

function comparisons (summary: Summary): string {
  const table = comparisonsTable(summary)
  return table === '' ? '' : `\nWhere the peer is another way of doing the same on pachinko (the same pair-by-pair ratios):\n\n${table}\n`
}

export function targetsTable (summary: Summary): string {
  const rows = ['| target | measured (median, min–max) | status | note |', '|---|---|---|---|']
  for (const t of summary.targets) {
    const measured = t.versus === undefined ? med(t.measured, kib) : med(t.measured, ratio)
    const status = t.status === 'pass' ? '✅ pass' : t.status === 'miss' ? '❌ miss' : 'n/a'
    rows.push(`| ${t.text} | ${measured} | ${status} | ${t.note} |`)
  }
  return rows.join('\n')
}

export function markdown (summary: Summary): string {
  const m = summary.meta
  const c = summary.config
  return `# fastify-pachinko benchmarks

${m.date} · Node ${m.node} · ${m.cpus} × ${m.cpu} · commit ${m.commit} · ${c.quick ? '**quick mode** (smoke numbers, not for comparison)' : 'full run'} · ${c.repeats} repeat(s) per contender · took ${m.duration}

Each contender runs in its own process on loopback, driven by a load generator in another process;
both share this machine's cores. **Compare the ratios and the server CPU per unit, not the absolute rates.**

## Results

${resultsTable(summary)}

A rate marked ≥ was measured while the load generator used ≥ ${pct(SATURATED)} of a core: the server could go faster.

## fastify-pachinko ÷ peers

Computed pair-by-pair (pachinko's run *i* ÷ the peer's run *i*, same process layout, minutes apart), then the median and min–max over repeats.

${ratiosTable(summary)}
${comparisons(summary)}
## Targets

${targetsTable(summary)}

## What pachinko's features cost

Each feature variant ÷ plain pachinko (which runs with \`validateOutgoing: false\`), same scenario and repeat; request/reply is pachinko's (g) ÷ its own (a); the presence rows of (j) are ÷ the hub's own join without presence (4c), since plain pachinko has no topics to join.

${featuresTable(summary)}

## How it was run

- (a) echo: ${c.echoConnections} connections × ${c.echoInflight} requests in flight, every request validated; (b) the same with every ${c.invalidEvery}th request invalid, each of which must be answered by a \`VALIDATION\` error frame.
- (c) fan-out: ${c.fanoutMembers} connections in one room, one of them broadcasting with ${c.fanoutInflight} broadcasts in flight; latency is from \`sentAt\` to arrival (\`performance.timeOrigin + performance.now()\`).
- (d) memory: server RSS (after \`global.gc()\`) with ${c.memoryConnections} idle joined connections minus RSS after a warm-up, ÷ ${c.memoryConnections}.
- (e) two nodes: ${c.twoNodeMembers} connections split over two server processes sharing Redis, same fan-out; CPU summed over both nodes (Redis's own CPU not counted).
- (f) setup: ${c.setupConcurrency} loops of connect → join → joined → close.
- (j) presence burst: ${c.presenceClients} connected clients send \`phx_join\` to one hub topic in the same turn; a join is done at its reply (and, with presence, its \`presence_state\`), the burst once every join is and the first client has seen all ${c.presenceClients} keys. Warm-up: ${presenceWarmupClients(c.presenceClients)} other clients do the same burst on another topic first. Server CPU over the burst ÷ ${c.presenceClients} joins; latency is from the burst's start to each join being done.
- Throughput windows: ${c.warmupMs} ms warm-up, then ${c.windowMs} ms measured. Server CPU is \`process.cpuUsage()\` of the server process(es) over the window, ÷ work done.
- "Other processes" in the notes: CPU the rest of the machine used during a window (\`/proc/stat\` minus server and load generator); such runs shared the cores with something else.
- Noise: before each run the bench waited (up to 15 s, ${m.waitedForQuiet ?? '0 s'} in all) for other processes to use under ${c.noiseLimit}% of a core; a run that failed, or whose window they used more in, was run again up to ${c.retries} more times (at most a quarter of each scenario's runs), keeping the quietest attempt; ${summary.runs.filter((r) => (r.attempts ?? 1) > 1).length} of ${summary.runs.length} runs were retried.
- See bench/README.md for what each figure means and the caveats.
`
}
