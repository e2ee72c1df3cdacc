import type { ContenderServer, StartOptions } from './contender.js'
import { BenchEmits, BenchRoom, startPachinko } from './pachinko.js'

/* Contender 4v: pachinko with `static emits` declared and validateOutgoing on, to measure what checking every send costs. */

class ValidatedRoom extends BenchRoom {
  static emits = BenchEmits
}

export async function start (options: StartOptions = {}): Promise<ContenderServer> {
  return await startPachinko(options, { validateOutgoing: 'warn' }, ValidatedRoom)
}
