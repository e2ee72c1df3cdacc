import { CONTENDERS } from '../contenders/index.js'
import type { Spread } from '../stats.js'
import type { Summary } from './summary.js'

/*
 * A hand-written horizontal bar chart of pachinko's cost ratios (server CPU
 * per unit, or RSS per connection, ÷ each peer's): one bar per scenario and
 * peer, whiskers for min–max, a dashed line at parity and a red tick where a
 * target applies. Left of the line pachinko is cheaper.
 */

interface Bar { label: string, value: Spread, target?: number }

const ROW = 22
const LEFT = 230
const WIDTH = 860
const PLOT = WIDTH - LEFT - 90
const TOP = 56

const COLORS: Record<string, string> = { 'ws-fast': '#4c78a8', 'fastify-ws': '#f58518', socketio: '#54a24b' }

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function svg (summary: Summary): string {
  const bars: Array<Bar & { color: string }> = []
  for (const s of summary.scenarios) {
    for (const r of s.ratios) {
      if (r.cost === undefined) continue
      const target = summary.targets.find((t) => t.scenario === s.id && t.versus === r.versus)?.limit
      // "1b ws-fast": the contender's number and CLI name keep labels short
      const peer = `${CONTENDERS.find((c) => c.name === r.versus)?.label.split(' ')[0] ?? ''} ${r.versus}`.trim()
      bars.push({ label: `(${s.letter}) ${s.id} ÷ ${peer}`, value: r.cost, target, color: COLORS[r.versus] ?? '#888' })
    }
  }
  const short = (name: string): string => CONTENDERS.find((c) => c.name === name)?.label.split(' ')[0] as string
  for (const c of summary.comparisons ?? []) {
    const letter = summary.scenarios.find((x) => x.id === c.scenario)?.letter as string
    bars.push({ label: `(${letter}) ${c.scenario}: ${short(c.subject)} ÷ ${short(c.versus)}`, value: c.cost as Spread, color: '#b279a2' })
  }
  const max = Math.max(2, ...bars.map((b) => Math.ceil(b.value.max * 2 + 0.2) / 2))
  // clamped: a quick run's noisy memory delta can even be negative
  const x = (v: number): number => Math.round((LEFT + (Math.min(Math.max(v, 0), max) / max) * PLOT) * 10) / 10
  const height = TOP + bars.length * ROW + 40
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    '<text x="12" y="20" font-size="15" font-weight="600">fastify-pachinko ÷ peers — server CPU per unit (RSS per connection for memory)</text>',
    `<text x="12" y="38" fill="#555">${escape(`${summary.meta.date} · median of pair-by-pair ratios, whiskers min–max · below 1× pachinko is cheaper · red tick: target`)}</text>`
  ]
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    out.push(`<line x1="${x(v)}" y1="${TOP - 6}" x2="${x(v)}" y2="${TOP + bars.length * ROW}" stroke="${v === 1 ? '#333' : '#e5e5e5'}"${v === 1 ? ' stroke-dasharray="4 3"' : ''}/>`)
    out.push(`<text x="${x(v)}" y="${TOP + bars.length * ROW + 16}" text-anchor="middle" fill="#555">${v.toFixed(1)}×</text>`)
  }
  bars.forEach((bar, i) => {
    const y = TOP + i * ROW
    const mid = y + ROW / 2
    out.push(`<text x="${LEFT - 8}" y="${mid + 4}" text-anchor="end">${escape(bar.label)}</text>`)
    out.push(`<rect x="${LEFT}" y="${y + 4}" width="${Math.max(1, Math.round((x(bar.value.median) - LEFT) * 10) / 10)}" height="${ROW - 8}" fill="${bar.color}"/>`)
    if (bar.value.min !== bar.value.max) {
      out.push(`<line x1="${x(bar.value.min)}" y1="${mid}" x2="${x(bar.value.max)}" y2="${mid}" stroke="#222"/>`)
      for (const v of [bar.value.min, bar.value.max]) out.push(`<line x1="${x(v)}" y1="${mid - 4}" x2="${x(v)}" y2="${mid + 4}" stroke="#222"/>`)
    }
    if (bar.target !== undefined) out.push(`<line x1="${x(bar.target)}" y1="${y + 1}" x2="${x(bar.target)}" y2="${y + ROW - 1}" stroke="#d62728" stroke-width="2"/>`)
    out.push(`<text x="${x(Math.max(bar.value.max, bar.value.median)) + 6}" y="${mid + 4}">${bar.value.median.toFixed(2)}×</text>`)
  })
  if (bars.length === 0) out.push(`<text x="12" y="${TOP + 14}">no ratios in this run (pachinko or every peer missing)</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}
