import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { buildChatApp } from '../../example/chat/app.js'
import { launchChromium, needChromium } from '../helpers/chromium.js'

/*
 * The chat page in a real browser, at desktop and at phone width: two people
 * (two Chromium pages) see each other in the user list, see each other
 * typing, chat, switch rooms, survive a server restart, and are told why a
 * join is refused. Screenshots go to .tap/screenshots/ (git-ignored; CI keeps
 * them as artifacts). Chromium comes from Debian (`apt-get install -y
 * chromium`, which .ci/run does); playwright-core never downloads one.
 */
const SHOTS = new URL('../../.tap/screenshots/', import.meta.url)

const viewports = [
  { name: 'desktop', width: 1280, height: 800, phone: false },
  { name: 'phone', width: 375, height: 740, phone: true }
]

async function launch (t: Test): Promise<Browser | undefined> {
  return needChromium(t) ? await launchChromium(t) : undefined
}

for (const viewport of viewports) {
  t.test(`two people chat on the page at ${viewport.name} width (${viewport.width} px)`, async (t) => {
    const browser = await launch(t)
    if (browser === undefined) return
    mkdirSync(SHOTS, { recursive: true })
    let app = await buildChatApp()
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const failures: string[] = []
    let restarting = false

    const open = async (name: string, room = 'lobby'): Promise<Page> => {
      const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, isMobile: viewport.phone, hasTouch: viewport.phone })
      const page = await context.newPage()
      page.on('pageerror', (err) => failures.push(`${name}: ${err.message}`))
      // while the server restarts, Fastify answers 503 to the page's room-list refresh: that one is expected
      page.on('response', (response) => { if (response.status() >= 400 && !(restarting && response.status() === 503)) failures.push(`${name}: ${response.status()} ${response.url()}`) })
      await page.goto(`http://127.0.0.1:${port}/`)
      if (viewport.phone) await page.click('#menu')
      await page.fill('#name', name)
      await page.fill('#room', room)
      await page.click('#join button')
      await page.waitForSelector('#text:not([disabled])')
      return page
    }
    /** The user list, read where a person would: at phone width it is behind the menu button. */
    const usersOf = async (page: Page): Promise<string> => {
      if (viewport.phone) await page.click('#menu')
      const text = (await page.locator('#users').innerText()).split('\n').join(', ')
      if (viewport.phone) await page.click('#menu')
      return text
    }
    const shot = async (page: Page, step: string) => await page.screenshot({ path: new URL(`chat-${viewport.name}-${step}.png`, SHOTS).pathname, animations: 'disabled' })

    const ann = await open('ann')
    await ann.waitForSelector('text=You are the first one here.')
    t.equal(await usersOf(ann), 'ann (you)')
    const bob = await open('bob')
    await bob.waitForSelector('text=Here: ann.')
    await ann.waitForSelector('text=bob joined')
    t.equal(await usersOf(ann), 'ann (you), bob', "ann's list has bob")
    t.equal(await usersOf(bob), 'ann, bob (you)', "bob's list has ann")
    if (viewport.phone) t.match(await ann.textContent('#menu'), /#lobby · 2 here/, 'the menu button says how many are here')

    await bob.type('#text', 'hel')
    await ann.waitForSelector('#typing:has-text("bob is typing…")')
    await shot(ann, 'typing')
    await bob.fill('#text', 'hello from a real browser')
    await bob.click('#sendButton')
    await ann.waitForSelector('.line.theirs:has-text("hello from a real browser")')
    await bob.waitForSelector('.line.mine:has-text("hello from a real browser")')
    await ann.waitForSelector('#typing:text-is("")')
    const said = await ann.locator('.line.theirs').last().innerText()
    t.match(said, /^\d\d:\d\d( [AP]M)?\s*bob\s*hello from a real browser$/, 'a timestamp, the sender, the text', { said })
    ann.fill('#text', 'hi bob').then(() => ann.click('#sendButton'), () => {})
    await bob.waitForSelector('.line.theirs:has-text("hi bob")')
    await shot(bob, 'chat')
    // a string, so the test's TypeScript needs no DOM types
    t.equal(await ann.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'nothing wider than the screen')

    // Join again, same name and room: nothing changes; no "bob left" for bob himself
    if (viewport.phone) await bob.click('#menu')
    await bob.click('#join button')
    t.equal(await bob.locator('text=bob left').count(), 0)

    // the room switcher: bob goes to #random from the list; ann sees him leave
    if (viewport.phone) await bob.click('#menu')
    await bob.click('#rooms button[data-room="random"]')
    await bob.waitForSelector('text=Welcome to #random, bob!')
    await ann.waitForSelector('text=bob left')
    t.equal(await usersOf(ann), 'ann (you)')
    t.equal(await bob.locator('text=left').count(), 0, 'bob was never told about himself leaving')
    if (viewport.phone) await bob.click('#menu')
    await bob.waitForSelector('#rooms button[data-room="lobby"]:has-text("1")')
    await shot(bob, 'rooms')
    await bob.click('#rooms button[data-room="lobby"]')
    await ann.waitForSelector('text=bob joined >> nth=1')

    // a server restart: both pages say so, reconnect by themselves, and the list comes back
    restarting = true
    await app.close()
    await ann.waitForSelector('#status[data-state="waiting"]')
    t.match(await ann.textContent('#status'), /reconnecting in \d+ s/)
    await ann.waitForSelector('text=connection lost (1001 server shutting down); reconnecting…')
    await shot(ann, 'reconnecting')
    app = await buildChatApp()
    await app.listen({ port, host: '127.0.0.1' })
    for (const page of [ann, bob]) {
      await page.waitForSelector('#status[data-state="open"]', { timeout: 15_000 })
      await page.waitForSelector('text=reconnected')
    }
    restarting = false
    t.equal(await usersOf(ann), 'ann (you), bob', 'the list is back after the restart')
    await bob.fill('#text', 'after the restart')
    await bob.click('#sendButton')
    await ann.waitForSelector('text=after the restart')

    // a refused join shows why, and does not retry
    const eve = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height } })
    await eve.goto(`http://127.0.0.1:${port}/`)
    if (viewport.phone) await eve.click('#menu')
    await eve.fill('#name', 'eve')
    await eve.fill('#room', 'r'.repeat(40))
    await eve.click('#join button')
    await eve.waitForSelector('#status[data-state="refused"]')
    t.match(await eve.textContent('#status'), /refused: the room name is longer than 32 characters/)
    await eve.waitForSelector('text=could not join')
    await shot(eve, 'refused')

    await bob.context().close()
    await ann.waitForSelector('text=bob left')
    t.same(failures, [], 'no page error and no failed request (favicon included)')
  })
}
