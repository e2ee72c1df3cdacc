import type { Spread } from '../stats.js'

/** A number with thousands separators and a sensible number of decimals. */
export function num (value: number): string {
  const abs = Math.abs(value)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** "median (min–max)", or "median" for a single run, or "—". */
export function med (s: Spread | undefined, f: (v: number) => string = num): string {
  if (s === undefined) return '—'
  return s.n === 1 || s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

export const pct = (v: number): string => `${Math.round(v * 100)}%`
export const kib = (v: number): string => `${num(v / 1024)} KiB`
export const ratio = (v: number): string => `${v.toFixed(2)}×`
