import 'reflect-metadata'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import t from 'tap'
import type WebSocket from 'ws'
import { inBatches, openClient } from './fixtures/helpers.js'

/*
 * app.close() while 400 clients are sending: each gets 1001, every
 * onDisconnect runs (after the messages still in flight), and the server's
 * process then exits by itself. The server runs in a child process
 * (fixtures/shutdown-server.ts); the clients run here, over TCP.
 */

const CLIENTS = 400
const IN_FLIGHT = 3 // messages each client keeps outstanding
const CLOSE_AFTER = 3 * CLIENTS // messages the server handles before it closes
const SAFETY_NET_MS = 90_000 // loading the TypeScript sources takes seconds; only a hang gets near this

t.test(`app.close() while ${CLIENTS} clients are sending: every client gets 1001, every onDisconnect runs, the process exits by itself`, async (t) => {
  const started = Date.now()
  const child = fork(new URL('./fixtures/shutdown-server.ts', import.meta.url), [String(CLIENTS), String(CLOSE_AFTER)], { execArgv: process.execArgv, silent: true, timeout: SAFETY_NET_MS, killSignal: 'SIGKILL' })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const { port } = JSON.parse((await lines.next()).value)

  const sockets: WebSocket[] = []
  const closes: Array<Promise<[number]>> = []
  await inBatches(CLIENTS, 100, async () => {
    const { socket } = await openClient(port, '/busy')
    closes.push(once(socket, 'close') as Promise<[number]>)
    sockets.push(socket)
  })
  const connected = (Date.now() - started) / 1000

  let sent = 0
  const work = (socket: WebSocket): void => {
    socket.send(JSON.stringify({ type: 'work', payload: sent++ }))
  }
  for (const socket of sockets) {
    socket.on('message', () => work(socket)) // each answer is followed by the next message, until the close
    for (let i = 0; i < IN_FLIGHT; i++) work(socket)
  }

  const codes = (await Promise.all(closes)).map(([code]) => code)
  const report = JSON.parse((await lines.next()).value)
  const [exitCode, signal] = await exited

  t.same(codes, new Array(CLIENTS).fill(1001), `all ${CLIENTS} clients got close code 1001`)
  t.equal(report.open, CLIENTS, `${CLIENTS} connections were open when close() started`)
  t.same(report.disconnectCodes, new Array(CLIENTS).fill(1001), 'onDisconnect ran for every one of them, with 1001, before close() resolved')
  t.equal(report.left, 0, 'no connection left after close()')
  t.ok(report.handledAtClose >= CLOSE_AFTER && sent > report.handledAtClose, `clients had sent ${sent} messages; ${report.handledAtClose} were handled when close() started, ${report.handled} by the end`)
  t.equal(signal, null, 'not killed by the safety net')
  t.equal(exitCode, 0, `the process exited by itself with code 0${stderr}`)
  t.comment(`${CLIENTS} clients connected in ${connected.toFixed(1)} s (child start included); ${((Date.now() - started) / 1000).toFixed(1)} s in all`)
})
