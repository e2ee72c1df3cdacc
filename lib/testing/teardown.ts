import { ERR_OPTION_INVALID } from '../errors.js'

/**
 * A test that can run cleanup when it ends: tap's `t` and node:test's
 * `TestContext` both have `after(fn)`.
 */
export interface TeardownContext {
  /** Runs `fn` when the test ends. */
  after (fn: () => unknown): unknown
}

/** Registers `fn` to run when the test `t` ends; a `t` without `after()` is refused at once. */
export function onTeardown (t: TeardownContext, fn: () => unknown, option = 't'): void {
  if (t === null || typeof t !== 'object' || typeof t.after !== 'function') {
    throw new ERR_OPTION_INVALID(option, "must be a test context with an after() method (tap's t, or node:test's TestContext)")
  }
  t.after(fn)
}
