import { CloseCode, isValidCloseCode } from '../connection/close-codes.js'
import type { SyncMarkers } from '../history/sync-markers.js'
import type { BackendContext, DeliveryOptions, Target } from './backend.js'
import { ALL } from './cluster-channels.js'
import type { ClusterRequests } from './cluster-requests.js'
import { unseal, type EnvelopeHeader } from './envelope.js'

/** What a cluster node's inbound messages act on. */
export interface ReceiveHost {
  readonly context: BackendContext
  readonly markers: SyncMarkers
  readonly requests: ClusterRequests
  deliverLocally (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> | undefined
  disconnectLocalUser (user: string, code: number, reason: string): number
}

/**
 * Routes one message from the transport: a room, user or all-node broadcast
 * to this node's members, or a node-channel operation (a send, a close, a
 * request or its answer). Other nodes' malformed messages are logged and dropped.
 */
export function receiveClusterMessage (host: ReceiveHost, channel: string, payload: Buffer): void {
  const { context } = host
  let message
  try {
    message = unseal(payload)
  } catch (err) {
    context.log.warn({ err, channel }, 'ignored a malformed cluster message')
    return
  }
  const { header, frame } = message
  if (header.op === 'sync') return host.markers.arrived(header.q)
  if (header.n === context.nodeId) return
  const exclude = header.x === undefined ? undefined : new Set(header.x)
  let delivered: Promise<void> | undefined
  if (channel.startsWith('room:')) {
    delivered = host.deliverLocally({ kind: 'room', room: channel.slice(5) }, frame, { exclude, offset: header.o })
  } else if (channel.startsWith('user:')) {
    if (header.op === 'close') host.disconnectLocalUser(channel.slice(5), ...closeOf(context, header))
    else delivered = host.deliverLocally({ kind: 'user', user: channel.slice(5) }, frame, { exclude })
  } else if (channel === ALL) {
    delivered = host.deliverLocally({ kind: 'all' }, frame, { exclude })
  } else {
    delivered = onNodeMessage(host, header, frame)
  }
  delivered?.catch((err: unknown) => context.log.debug({ err, channel }, 'cross-node delivery failed'))
}

function onNodeMessage (host: ReceiveHost, header: EnvelopeHeader, frame: Buffer): Promise<void> | undefined {
  if (header.op === 'answer') return host.requests.answered(header, frame)
  const target = host.context.local.get(header.id as string)
  if (header.op === 'request') return host.requests.serve(target, header, frame)
  if (target === undefined) return undefined
  if (header.op === 'close') {
    target.close(...closeOf(host.context, header))
    return undefined
  }
  return host.context.deliverOne(target, frame, {})
}

/** A close op's code and reason; an invalid code (from an older node) is logged and becomes 1011 rather than a throw here. */
function closeOf (context: BackendContext, header: EnvelopeHeader): [number, string] {
  const reason = typeof header.r === 'string' ? header.r : ''
  if (isValidCloseCode(header.c)) return [header.c, reason]
  context.log.warn({ code: header.c, from: header.n }, 'a node asked to close with an invalid close code; closing with 1011 instead')
  return [CloseCode.INTERNAL_ERROR, reason]
}
