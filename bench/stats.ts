/** Latency samples in a growable Float64Array: cheap to record, sorted once at the end. */
export class Samples {
  private data = new Float64Array(1 << 16)
  private n = 0

  get count (): number {
    return this.n
  }

  add (value: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = value
  }

  /** p50, p99 and max; NaN when empty. */
  summary (): { p50: number, p99: number, max: number } {
    const sorted = this.data.subarray(0, this.n).sort()
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: this.n === 0 ? NaN : sorted[this.n - 1] }
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  return sorted[rank]
}

/** Median with min and max of the finite values; undefined when there are none. */
export interface Spread { median: number, min: number, max: number, n: number }

export function spread (values: Array<number | undefined>): Spread | undefined {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return undefined
  const mid = finite.length >> 1
  const median = finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2
  return { median, min: finite[0], max: finite[finite.length - 1], n: finite.length }
}
