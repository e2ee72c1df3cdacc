import type { FastifyBaseLogger } from 'fastify'

/** Publications a node lets go unacknowledged before a broadcast waits for its own acknowledgement again. */
export const UNACKNOWLEDGED_LIMIT = 1024

/**
 * The remote half of a node's broadcasts. While the transport is connected a
 * broadcast does not wait for the server's acknowledgement: one connection's
 * back-to-back broadcasts then pipeline (one write here, one read on the other
 * nodes) instead of costing a round trip each, in the transport's order. While
 * it is down, or with too many publications unacknowledged, the caller waits
 * and gets the failure. One that fails after it was handed over is logged
 * (warn for the first of a run of losses, debug for the rest), since its caller has moved on.
 */
export class Publications {
  private unacknowledged = 0
  private lossReported = false

  constructor (
    private readonly connected: () => boolean,
    private readonly log: () => FastifyBaseLogger
  ) {}

  /** `sent` is the transport's publication, its failure already coded; resolves at once while connected, else with it. */
  send (sent: Promise<unknown>): Promise<void> | undefined {
    if (!this.connected() || this.unacknowledged >= UNACKNOWLEDGED_LIMIT) return sent.then(noop)
    this.unacknowledged++
    sent.then(this.acknowledged, this.lost)
    return undefined
  }

  private readonly acknowledged = (): void => {
    this.unacknowledged--
    // publications get through again: the next loss is worth a warning
    this.lossReported = false
  }

  private readonly lost = (err: unknown): void => {
    this.unacknowledged--
    if (this.lossReported) {
      this.log().debug({ err }, 'a broadcast handed to the backend did not reach the other nodes')
      return
    }
    this.lossReported = true
    this.log().warn({ err }, 'broadcasts handed to the backend did not reach the other nodes: its connection failed before they were acknowledged (further losses until one gets through are logged at debug)')
  }
}

function noop (): void {}
