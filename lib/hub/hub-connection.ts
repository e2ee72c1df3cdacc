import { Connection, type ConnectionSettings } from '../connection/connection.js'
import type { WebSocketLike } from '../connection/websocket-like.js'
import { kWrite, kWriteOwn } from '../symbols.js'
import { transcodeBroadcast, type HubVersion } from './codec.js'
import { isWrapped, unwrap } from './history/history-frame.js'

const OPEN_BRACKET = 0x5b

/*
 * Fan-out hands every recipient the same encoded Buffer. Hub broadcasts are
 * V2 arrays; a V1 subscriber needs the object form, made once per frame per
 * node (every recipient of one broadcast is written to in one loop, so one
 * remembered frame is enough). Frames of the resource protocol (`app.ws`
 * broadcasts to all or to users, `sendTo`) mean nothing to a Phoenix client
 * and would make it throw: they are not written to hub sockets.
 */
let lastV2: Buffer | undefined
let lastV1: Buffer | undefined

let lastWrapped: Buffer | undefined
let lastUnwrapped: Buffer | undefined

/** A wrapped broadcast of a topic with history, unwrapped once per frame per node. */
function unwrapped (frame: Buffer): Buffer | undefined {
  if (frame !== lastWrapped) {
    lastWrapped = frame
    lastUnwrapped = unwrap(frame)
  }
  return lastUnwrapped
}

function asV1 (frame: Buffer): Buffer | undefined {
  if (frame !== lastV2) {
    lastV2 = frame
    lastV1 = transcodeBroadcast(frame)
  }
  return lastV1
}

/** A hub socket's connection: writes broadcasts in its protocol version and only hub frames. */
export class HubConnection extends Connection {
  constructor (id: string, socket: WebSocketLike, settings: ConnectionSettings, readonly version: HubVersion) {
    super(id, socket, settings)
  }

  override [kWrite] (data: string | Buffer, binary: boolean): boolean {
    if (typeof data === 'string') return super[kWrite](data, binary)
    if (data[0] !== OPEN_BRACKET) {
      const inner = isWrapped(data) ? unwrapped(data) : undefined
      if (inner === undefined) return false
      data = inner
    }
    if (this.version === 2) return super[kWrite](data, binary)
    const v1 = asV1(data)
    return v1 === undefined ? false : super[kWrite](v1, binary)
  }

  /** Writes a frame the hub encoded for this socket's version. */
  [kWriteOwn] (frame: string): boolean {
    return super[kWrite](frame, false)
  }
}
