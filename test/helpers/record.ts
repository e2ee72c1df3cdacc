import type { TestConnection } from '../../lib/testing/index.js'

/** A frame as a client got it, with the history fields broadcasts may carry. */
export type RecordedFrame = { type: string, payload?: any, offset?: number, epoch?: string }

/** Every frame the client gets from now on, parsed; `until(predicate)` waits for one that matches. */
export function record (client: TestConnection): RecordedFrame[] & { until: (predicate: (frame: RecordedFrame) => boolean) => Promise<RecordedFrame> } {
  const frames: RecordedFrame[] = []
  const waiters: Array<() => void> = []
  client.socket.on('message', (data: Buffer) => {
    frames.push(JSON.parse(data.toString()))
    for (const waiter of waiters.splice(0)) waiter()
  })
  const until = async (predicate: (frame: RecordedFrame) => boolean): Promise<RecordedFrame> => {
    while (true) {
      const found = frames.find(predicate)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  return Object.assign(frames, { until })
}
