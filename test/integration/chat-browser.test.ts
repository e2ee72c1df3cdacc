import { existsSync } from 'node:fs'
import t from 'tap'
import { buildChatApp } from '../../example/chat/app.js'

/*
 * The chat page in a real browser: two tabs (two Chromium pages) join a room,
 * see each other arrive, type and chat. Chromium comes from Debian
 * (`apt-get install -y chromium`, which .ci/run does); playwright-core drives
 * it and never downloads a browser of its own.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

t.test('two browser tabs chat through the example page', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') t.fail(`Chromium is required in CI but is not at ${CHROMIUM}`)
    else t.plan(0, `skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)
    return
  }
  const { chromium } = await import('playwright-core')
  const app = await buildChatApp()
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
  })
  t.teardown(() => browser.close())

  const open = async (name: string) => {
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${port}/`)
    await page.fill('#name', name)
    await page.fill('#room', 'lobby')
    await page.click('#join button')
    await page.waitForSelector('#text:not([disabled])')
    return page
  }
  const ann = await open('ann')
  await ann.waitForSelector('text=You are the first one here.')
  const bob = await open('bob')
  await bob.waitForSelector('text=Here: ann.')
  await ann.waitForSelector('text=bob joined')

  await bob.type('#text', 'hel')
  await ann.waitForSelector('#typing:has-text("bob is typing")')
  await bob.fill('#text', 'hello from a real browser')
  await bob.click('#sendButton')
  await ann.waitForSelector('text=hello from a real browser')
  await bob.waitForSelector('text=hello from a real browser')
  await ann.waitForSelector('#typing:text-is("")')
  t.match(await ann.textContent('#log'), /bob: hello from a real browser/)

  await bob.close()
  await ann.waitForSelector('text=bob left')
  t.match(await ann.textContent('#status'), /#lobby as ann/)
})
