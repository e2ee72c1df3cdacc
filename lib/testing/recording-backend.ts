import { MemoryBackend } from '../backends/memory.js'
import type { DeliveryOptions, Target } from '../backends/backend.js'

/** A broadcast or targeted send a simulated resource asked for: recorded, never delivered. */
export type RecordedSend<In = unknown> =
  | { kind: 'room', room: string, message: In, exclude: string[] }
  | { kind: 'user', user: string, message: In, exclude: string[] }
  | { kind: 'all', message: In, exclude: string[] }
  | { kind: 'connection', id: string, message: In, exclude: string[] }

/**
 * The simulator's backend: the in-memory registry (so joins, rooms, users and
 * queries behave as in one process) with every delivery to a target recorded
 * instead of written to sockets.
 */
export class RecordingBackend extends MemoryBackend {
  override readonly name = 'simulation'
  readonly sends: RecordedSend[] = []

  override async publish (target: Target, frame: Buffer, options: DeliveryOptions): Promise<void> {
    this.sends.push({ ...target, message: JSON.parse(frame.toString()), exclude: [...(options.exclude ?? [])] })
  }

  override async sendTo (id: string, frame: Buffer): Promise<void> {
    this.sends.push({ kind: 'connection', id, message: JSON.parse(frame.toString()), exclude: [] })
  }
}
