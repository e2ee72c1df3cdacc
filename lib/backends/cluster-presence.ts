import type { FastifyBaseLogger } from 'fastify'
import type { ClusterTransport, NodeState, NodeStateUpdate } from './cluster-transport.js'

/** What a node needs republished after an outage: the channels it listens on and its whole state. */
export interface LocalView {
  channels (): string[]
  state (): NodeState
  size (): number
}

/**
 * One node's presence in the cluster: heartbeats, publishing its membership,
 * noticing the transport go and come back, and republishing everything
 * (subscriptions included) when what the cluster knows may be out of date.
 * Membership writes never fail their caller: a failure marks the state stale
 * and the next heartbeat or reconnect puts it right.
 */
export class NodePresence {
  private up = false
  private stale = false
  private timer: NodeJS.Timeout | undefined

  constructor (
    private readonly transport: ClusterTransport,
    private readonly name: string,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
    private readonly ttlMs: number,
    private readonly log: FastifyBaseLogger,
    private readonly local: LocalView
  ) {}

  /** True while the transport is usable (from start until it reports going down, and again once it is back). */
  get connected (): boolean {
    return this.up
  }

  /** Starts heartbeats once the transport is connected and the node announced. */
  start (): void {
    this.up = true
    this.timer = setInterval(() => { void this.beat() }, this.heartbeatMs)
    this.timer.unref()
  }

  /** Stops heartbeats and removes the node from the cluster (a clean leave); never rejects. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    if (this.up) await this.transport.removeNode(this.nodeId).catch(() => {})
  }

  /** Publishes part of this node's state. */
  async update (change: NodeStateUpdate): Promise<void> {
    await this.transport.updateNode(this.nodeId, change, this.ttlMs).catch((err: unknown) => this.lost('membership update', err))
  }

  /** Records that something the cluster should know did not reach it. */
  lost (what: string, err: unknown): void {
    this.stale = true
    if (this.up) this.log.warn({ err }, `cluster ${what} failed; this node's state will be republished`)
  }

  statusChanged (status: 'up' | 'down', error?: Error): void {
    if (status === 'down') {
      if (!this.up) return
      this.up = false
      this.log.warn({ err: error, at: this.transport.description }, `${this.name} backend connection lost; local delivery continues, cross-node operations fail until it is back`)
      return
    }
    if (this.up) return
    this.up = true
    this.log.info({ at: this.transport.description }, `${this.name} backend reconnected; republishing this node's state`)
    this.resync().catch((err: unknown) => {
      this.stale = true
      this.log.error({ err }, 'republishing after reconnect failed; retrying on the next heartbeat')
    })
  }

  private async beat (): Promise<void> {
    try {
      const intact = await this.transport.heartbeat(this.nodeId, this.ttlMs)
      // state that expired while this node was too slow to beat must be put back
      if (!intact && this.local.size() > 0) this.stale = true
      if (this.stale) await this.resync()
    } catch (err) {
      this.log.debug({ err }, 'heartbeat failed')
    }
  }

  /** Resubscribes to every channel the node needs and republishes its whole state. */
  private async resync (): Promise<void> {
    this.stale = false
    const channels = this.local.channels()
    await this.transport.subscribe(channels)
    const state = this.local.state()
    await this.transport.replaceNode(this.nodeId, state, this.ttlMs)
    await this.transport.heartbeat(this.nodeId, this.ttlMs)
    this.log.info({ channels: channels.length, connections: state.connections.length }, 'resubscribed and republished this node\'s state')
  }
}
