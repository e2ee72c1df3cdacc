import type { Connection, ConnectionSettings } from './connection.js'
import { ERR_CONNECTION_CLOSED, ERR_SEND_DROPPED, ERR_SEND_TIMEOUT } from '../errors.js'
import { kTransport, kWrite } from '../symbols.js'

/*
 * Local delivery of one encoded frame: the loop every broadcast ends in. The
 * common case (no recipient over its high-water mark) allocates nothing per
 * recipient and returns no promise.
 */

/**
 * Writes `frame` to every recipient not in `exclude`. Recipients over the
 * high-water mark get the policy; with `'wait'` they are awaited (up to
 * `timeoutMs`) and the returned promise settles when all have drained or
 * failed: one failure rejects with that error, several with an AggregateError.
 */
export function deliver (
  recipients: Iterable<Connection>,
  frame: Buffer,
  exclude: ReadonlySet<string> | undefined,
  settings: ConnectionSettings,
  timeoutMs = settings.sendTimeoutMs
): Promise<void> | undefined {
  const waiting = settings.policy === 'wait'
  let slow: Connection[] | undefined
  for (const connection of recipients) {
    if (exclude !== undefined && exclude.has(connection.id)) continue
    if (waiting && connection.isOpen && connection[kTransport].writableLength > settings.highWaterMark) {
      (slow ??= []).push(connection)
    } else {
      connection[kWrite](frame, false)
    }
  }
  if (slow === undefined) return undefined
  return settleAll(slow.map((connection) => writeWhenDrained(connection, frame, settings, timeoutMs)))
}

/** Writes one frame to one connection, rejecting when it cannot be written. */
export async function deliverOne (connection: Connection, frame: Buffer, settings: ConnectionSettings, timeoutMs = settings.sendTimeoutMs): Promise<void> {
  if (!connection.isOpen) throw new ERR_CONNECTION_CLOSED(connection.id)
  if (settings.policy === 'wait' && connection[kTransport].writableLength > settings.highWaterMark) {
    return await writeWhenDrained(connection, frame, settings, timeoutMs)
  }
  const buffered = connection[kTransport].writableLength
  if (!connection[kWrite](frame, false)) throw new ERR_SEND_DROPPED(connection.id, buffered)
}

function writeWhenDrained (connection: Connection, frame: Buffer, settings: ConnectionSettings, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connection[kTransport]
    const done = (error?: Error): void => {
      clearTimeout(timer)
      socket.removeListener('drain', onDrain)
      socket.removeListener('close', onClose)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onDrain = (): void => {
      connection[kWrite](frame, false)
      done()
    }
    // a recipient that leaves while we wait is not a failure: there is no one to deliver to
    const onClose = (): void => done()
    const timer = setTimeout(() => {
      settings.metrics.messagesDropped++
      done(new ERR_SEND_TIMEOUT(connection.id, timeoutMs))
    }, timeoutMs)
    socket.on('drain', onDrain)
    socket.once('close', onClose)
  })
}

/** Waits for every promise; rethrows a single failure as is and several as one AggregateError. */
export async function settleAll (work: Array<Promise<void> | undefined>): Promise<void> {
  const results = await Promise.allSettled(work)
  const errors: unknown[] = []
  for (const result of results) if (result.status === 'rejected') errors.push(result.reason)
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} recipients failed: ${errors.map((error) => (error as Error).message).join('; ')}`)
}
