import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import type { Test } from 'tap'

/* Debian's Chromium for the browser tests, driven by playwright-core, which never downloads one. */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** True when Chromium is there; otherwise the test fails in CI and skips with one line elsewhere. */
export function needChromium (t: Test): boolean {
  if (existsSync(CHROMIUM)) return true
  if (process.env.CI === 'true') t.fail(`Chromium is required in CI but is not at ${CHROMIUM}`)
  else t.plan(0, `skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)
  return false
}

/** A headless Chromium, closed when the test ends. */
export async function launchChromium (t: Test): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
  })
  t.teardown(() => browser.close())
  return browser
}
