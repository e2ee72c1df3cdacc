import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import type { Page } from 'playwright-core'
import { buildChangesApp } from '../../example/changes/app.js'
import { launchChromium, needChromium } from '../helpers/chromium.js'

/*
 * The change-feed page in real Chromium: two tabs list the same records; a
 * write in one tab, or from outside (fetch, like curl), shows in both without
 * a reload. Chromium comes from Debian; playwright-core never downloads one.
 */

t.test('two tabs stay in sync: adds, renames and deletes from a tab or from curl show in both', async (t) => {
  if (!needChromium(t)) return
  const browser = await launchChromium(t)
  const app = await buildChangesApp({ dbFile: join(t.testdir(), 'changes.db') })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const failures: string[] = []
  await fetch(`${base}/api/authors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ada' }) })

  const open = async (name: string): Promise<Page> => {
    const page = await (await browser.newContext()).newPage()
    page.on('pageerror', (err) => failures.push(`${name}: ${err.message}`))
    page.on('response', (response) => { if (response.status() >= 400) failures.push(`${name}: ${response.status()} ${response.url()}`) })
    await page.goto(`${base}/`)
    await page.waitForSelector('#status.live')
    return page
  }
  const one = await open('one')
  const two = await open('two')
  const items = async (page: Page, model: string): Promise<string[]> => await page.$$eval(`li[data-model="${model}"] span`, (spans) => spans.map((s) => s.textContent ?? ''))
  const shows = async (page: Page, model: string, text: string): Promise<void> => {
    await page.waitForSelector(`li[data-model="${model}"] span:text-is("${text}")`)
  }

  t.same(await items(one, 'author'), ['Ada'], 'the list was read after subscribing')
  await one.fill('#add-author input[name="name"]', 'Grace')
  await one.click('#add-author button')
  await shows(two, 'author', 'Grace')
  await shows(one, 'author', 'Grace')

  await two.selectOption('#add-book select', { label: 'Grace' })
  await two.fill('#add-book input[name="title"]', 'Compilers')
  await two.click('#add-book button')
  await shows(one, 'book', 'Compilers — Grace')

  await fetch(`${base}/api/authors/1`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ada Lovelace' }) })
  await shows(one, 'author', 'Ada Lovelace')
  await shows(two, 'author', 'Ada Lovelace')

  await one.click('li[data-model="book"] button:text-is("Delete")')
  await two.waitForSelector('li[data-model="book"]', { state: 'detached' })
  await two.click('li[data-model="author"][data-id="2"] button:text-is("Rename")')
  await shows(one, 'author', 'Grace′')
  t.same(await items(two, 'author'), ['Ada Lovelace', 'Grace′'])
  t.match(await one.textContent('#log'), /PATCH author 2/)
  t.same(failures, [])
})
