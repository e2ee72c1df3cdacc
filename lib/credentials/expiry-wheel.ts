/**
 * When credentials expire, for every connection of a node: one timer, armed
 * for the earliest slot, however many connections there are. Deadlines are
 * rounded up to `resolutionMs`, so connections expiring in the same slot are
 * handled by one wake-up; a connection is never handled before its deadline.
 */
export class ExpiryWheel<T> {
  private readonly slots = new Map<number, Set<T>>()
  private readonly slotOf = new Map<T, number>()
  private timer: NodeJS.Timeout | undefined
  private armedFor = Infinity
  private closed = false

  constructor (private readonly resolutionMs: number, private readonly due: (item: T) => void) {}

  /** How many items wait for their deadline. */
  get size (): number {
    return this.slotOf.size
  }

  /** Schedules `item` for `at` (epoch ms), replacing its previous deadline; undefined cancels it. */
  schedule (item: T, at: number | undefined): void {
    this.cancel(item)
    if (at === undefined || this.closed) return
    const slot = Math.ceil(at / this.resolutionMs)
    let items = this.slots.get(slot)
    if (items === undefined) {
      items = new Set()
      this.slots.set(slot, items)
    }
    items.add(item)
    this.slotOf.set(item, slot)
    if (slot < this.armedFor) this.arm(slot)
  }

  cancel (item: T): void {
    const slot = this.slotOf.get(item)
    if (slot === undefined) return
    this.slotOf.delete(item)
    const items = this.slots.get(slot) as Set<T>
    items.delete(item)
    if (items.size === 0) this.slots.delete(slot)
  }

  /** Stops the timer and forgets every deadline (the app is closing). */
  close (): void {
    this.closed = true
    clearTimeout(this.timer)
    this.slots.clear()
    this.slotOf.clear()
  }

  private arm (slot: number): void {
    clearTimeout(this.timer)
    this.armedFor = slot
    this.timer = setTimeout(this.tick, Math.max(0, slot * this.resolutionMs - Date.now()))
    this.timer.unref()
  }

  private readonly tick = (): void => {
    this.armedFor = Infinity
    const now = Date.now()
    for (const [slot, items] of [...this.slots]) {
      if (slot * this.resolutionMs > now) continue
      this.slots.delete(slot)
      for (const item of items) {
        this.slotOf.delete(item)
        this.due(item)
      }
    }
    // `due` may have scheduled again: arm for whatever is earliest now
    let next = Infinity
    for (const slot of this.slots.keys()) if (slot < next) next = slot
    if (next !== Infinity) this.arm(next)
  }
}
