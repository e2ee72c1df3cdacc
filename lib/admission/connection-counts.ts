/** What admission holds for one upgrade until its socket closes. */
export interface Reservation {
  readonly ip: string | undefined
  /** The user counted as on the way in, until the connection is identified as them (then the backend counts it). */
  user: string | undefined
  released: boolean
}

/**
 * This node's WebSocket sockets, in total and by client address, counted from
 * admission until the socket closes; and the users admitted whose connection
 * is not identified yet (between the check and the backend knowing it).
 */
export class ConnectionCounts {
  node = 0
  private readonly ips = new Map<string, number>()
  private readonly users = new Map<string, number>()

  fromIp (ip: string): number {
    return this.ips.get(ip) ?? 0
  }

  pendingFor (user: string): number {
    return this.users.get(user) ?? 0
  }

  take (ip: string | undefined): Reservation {
    this.node++
    if (ip !== undefined) this.ips.set(ip, this.fromIp(ip) + 1)
    return { ip, user: undefined, released: false }
  }

  takeUser (reservation: Reservation, user: string): void {
    reservation.user = user
    this.users.set(user, this.pendingFor(user) + 1)
  }

  /** The connection is identified: the backend counts the user from now on. */
  releaseUser (reservation: Reservation): void {
    const user = reservation.user
    if (user === undefined) return
    reservation.user = undefined
    decrement(this.users, user)
  }

  /** The socket closed; safe to call more than once. */
  release (reservation: Reservation): void {
    if (reservation.released) return
    reservation.released = true
    this.node--
    if (reservation.ip !== undefined) decrement(this.ips, reservation.ip)
    this.releaseUser(reservation)
  }
}

function decrement (map: Map<string, number>, key: string): void {
  const left = (map.get(key) as number) - 1
  if (left > 0) map.set(key, left)
  else map.delete(key)
}
