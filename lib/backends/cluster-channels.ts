/** The transport channels of a cluster backend: one for every node's broadcastToAll, one per room, user and node. */
export const ALL = 'all'
export const room = (name: string): string => `room:${name}`
export const user = (name: string): string => `user:${name}`
export const node = (id: string): string => `node:${id}`
