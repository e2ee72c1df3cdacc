import 'reflect-metadata'
import t from 'tap'
import { buildHubApp } from '../../example/hub/app.js'
import { connectHub, HubReplyError, UpgradeRefusedError } from '../../lib/testing/index.js'
import { launchChromium, needChromium } from '../helpers/chromium.js'

async function refusal (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => undefined, (err: unknown) => err instanceof HubReplyError ? err.response : err)
}

t.test('the hub chat: rooms as topics, typing to the others, direct messages through user inboxes', async (t) => {
  const app = await buildHubApp()
  t.teardown(() => app.close())
  await t.rejects(connectHub(app, '/socket', { params: { user: 'not a name!' } }), UpgradeRefusedError)
  const ann = await connectHub(app, '/socket', { params: { user: 'ann' }, t })
  const bob = await connectHub(app, '/socket', { params: { user: 'bob' }, t })
  const annLobby = await ann.join('room:lobby')
  t.same(annLobby.response, { room: 'lobby', user: 'ann' })
  const bobLobby = await bob.join('room:lobby')
  t.same(await annLobby.expect('user_joined'), { user: 'bob' })
  t.match(await annLobby.push('new_msg', { text: 'hi bob' }), { user: 'ann', text: 'hi bob' })
  t.match(await bobLobby.expect('new_msg'), { user: 'ann', text: 'hi bob' })
  await bobLobby.push('typing', { typing: true })
  t.same(await annLobby.expect('typing'), { user: 'bob', typing: true })
  t.match(await refusal(annLobby.push('new_msg', { text: '' })), { reason: 'validation' })
  t.match(await refusal(ann.join('room:bad name')), { reason: 'room names are letters, digits, _ . - (at most 32)', code: 'BAD_ROOM' })

  const annInbox = await ann.join('user:ann')
  const bobInbox = await bob.join('user:bob')
  t.same(await refusal(ann.join('user:bob')), { reason: 'this is someone else\'s inbox', code: 'FORBIDDEN' })
  t.match(await annInbox.push('dm', { to: 'bob', text: 'psst' }), { from: 'ann', to: 'bob', text: 'psst' })
  t.match(await bobInbox.expect('dm'), { from: 'ann', text: 'psst' })
  t.match(await refusal(annInbox.push('dm', { to: 'b b', text: 'x' })), { code: 'BAD_USER' })
  await bobLobby.leave()
  t.same(await annLobby.expect('user_left'), { user: 'bob' })
})

t.test('the hub chat in Chromium, with the official client served from node_modules', async (t) => {
  if (!needChromium(t)) return
  const app = await buildHubApp()
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const browser = await launchChromium(t)
  const failures: string[] = []
  const open = async (user: string) => {
    const page = await browser.newPage()
    page.on('pageerror', (err) => failures.push(err.message))
    await page.goto(`http://127.0.0.1:${port}/?user=${user}&room=lobby`)
    await page.waitForSelector('#status:text-is("open")')
    await page.waitForSelector(`#log li:text-is("Welcome to #lobby, ${user}!")`)
    return page
  }
  const ann = await open('ann')
  const bob = await open('bob')
  await ann.waitForSelector('#log li:text-is("bob joined")')
  await ann.waitForSelector('#online:text-is("ann, bob")')
  await bob.waitForSelector('#online:text-is("ann, bob")')
  await bob.fill('#text', 'hello')
  await ann.waitForSelector('#typing:text-is("bob typing…")')
  await bob.press('#text', 'Enter')
  await ann.waitForSelector('#log li:text-is("bob: hello")')
  await ann.waitForFunction("document.getElementById('typing').textContent === ''")
  await ann.fill('#dm-to', 'bob')
  await ann.fill('#dm-text', 'psst')
  await ann.press('#dm-text', 'Enter')
  await bob.waitForSelector('#log li.dm:text-is("ann → you: psst")')
  await ann.waitForSelector('#log li.dm:text-is("you → bob: psst")')
  await bob.close()
  await ann.waitForSelector('#log li:text-is("bob left")')
  await ann.waitForSelector('#online:text-is("ann")')
  t.same(failures, [], 'no page errors')
})
