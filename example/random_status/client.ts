import WebSocket from 'ws'
import { statusUrl } from './config.js'

/*
 * The seed's client.py: `node dist/example/random_status/client.js [status…]`
 * connects to STATUS_URL (ws://127.0.0.1:3003/ws), prints every message it
 * receives as one JSON line, sends the words after the script as the new
 * status, and on Ctrl-C (SIGINT) closes with 1000 and exits 0.
 */
const url = statusUrl(process.env)
const text = process.argv.slice(2).join(' ').trim()
const socket = new WebSocket(url)
let closing = false

socket.on('open', () => {
  process.stderr.write(`connected to ${url}; Ctrl-C to quit\n`)
  if (text !== '') socket.send(JSON.stringify({ type: 'status', payload: { text } }))
})
socket.on('message', (data) => process.stdout.write(`${data.toString()}\n`))
socket.on('error', (err) => process.stderr.write(`${err.message}\n`))
socket.on('close', (code, reason) => {
  if (!closing) process.stderr.write(`connection closed by the server (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})\n`)
  process.exit(closing ? 0 : 1)
})

process.once('SIGINT', () => {
  closing = true
  if (socket.readyState === WebSocket.CONNECTING) socket.terminate()
  else socket.close(1000, 'client quit')
})
