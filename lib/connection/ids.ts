import { randomBytes } from 'node:crypto'

/*
 * Ids: a node id per manager, and connection ids `<nodeId>.<random>` so any
 * node can route to a connection's home without a lookup. 96 random bits per
 * connection: not guessable by a client that learns another's id shape.
 */

const POOL_SIZE = 4096
const ID_BYTES = 12
let pool = randomBytes(POOL_SIZE)
let offset = 0

function take (bytes: number): Buffer {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE)
    offset = 0
  }
  const slice = pool.subarray(offset, offset + bytes)
  offset += bytes
  return slice
}

/** A fresh node id. */
export function createNodeId (): string {
  return randomBytes(6).toString('base64url')
}

/** Base64url of ID_BYTES random bytes is this long. */
const ID_CHARS = 16
let lastNode = ''
let prefix = Buffer.alloc(0)

/** A fresh connection id for a node: one flat string (a template literal would keep three strings per connection alive). */
export function createConnectionId (nodeId: string): string {
  if (nodeId !== lastNode) {
    lastNode = nodeId
    prefix = Buffer.from(`${nodeId}.`, 'latin1')
  }
  const out = Buffer.allocUnsafe(prefix.length + ID_CHARS)
  prefix.copy(out)
  out.write(take(ID_BYTES).toString('base64url'), prefix.length, 'latin1')
  return out.toString('latin1')
}

/** The node a connection id was created on. */
export function nodeOf (connectionId: string): string {
  const dot = connectionId.indexOf('.')
  return dot === -1 ? '' : connectionId.slice(0, dot)
}
