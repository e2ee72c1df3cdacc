/** Who waits for a node to have no connection left (graceful shutdown): `app.ws.whenEmpty()`. */
export class EmptyWaiters {
  private readonly waiters = new Set<() => void>()

  /** Resolves true once `isEmpty()` holds after a `notify()`, or with `isEmpty()` after `timeoutMs`. */
  async wait (isEmpty: () => boolean, timeoutMs: number): Promise<boolean> {
    if (isEmpty()) return true
    return await new Promise((resolve) => {
      const done = (empty: boolean): void => {
        clearTimeout(timer)
        this.waiters.delete(onEmpty)
        resolve(empty)
      }
      const onEmpty = (): void => done(true)
      const timer = setTimeout(() => done(isEmpty()), timeoutMs)
      this.waiters.add(onEmpty)
    })
  }

  /** Wakes every waiter: the node just became empty. */
  notify (): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}
