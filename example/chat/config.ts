/** The chat server's settings, read from the environment by `server.ts`. */
export interface ChatConfig {
  port: number
  host: string
  /** Unset: rooms live in this process. */
  redisUrl: string | undefined
  /** The prefix of every Redis key and channel. */
  redisPrefix: string
}

/** Reads PORT (3000), HOST (127.0.0.1), REDIS_URL (unset) and REDIS_PREFIX (pachinko-chat); empty counts as unset. */
export function readChatConfig (env: NodeJS.ProcessEnv): ChatConfig {
  return {
    port: Number(set(env.PORT) ?? 3000),
    host: set(env.HOST) ?? '127.0.0.1',
    redisUrl: set(env.REDIS_URL),
    redisPrefix: set(env.REDIS_PREFIX) ?? 'pachinko-chat'
  }
}

function set (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
