import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { StartOptions } from './contender.js'

/** Listens on loopback (port 0 unless told) and resolves with the port. */
export async function listen (server: Server, options: StartOptions): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

/** Closes an HTTP server whose upgraded sockets are already gone. */
export async function closeServer (server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()))
}
