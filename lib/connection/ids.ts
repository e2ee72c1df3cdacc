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

/** A fresh connection id for a node. */
export function createConnectionId (nodeId: string): string {
  return `${nodeId}.${take(ID_BYTES).toString('base64url')}`
}

/** The node a connection id was created on. */
export function nodeOf (connectionId: string): string {
  const dot = connectionId.indexOf('.')
  return dot === -1 ? '' : connectionId.slice(0, dot)
}
