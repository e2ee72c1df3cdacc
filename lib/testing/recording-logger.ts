import type { FastifyBaseLogger } from 'fastify'

/** One line a simulated resource logged: its level, message, bindings (`connId`, `route`…) and fields. */
export interface LogEntry {
  [field: string]: unknown
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
  msg: string
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

/**
 * A pino-shaped logger that keeps every line (all levels) in `lines`, so a
 * test can assert what was logged: at what level, with which fields.
 */
export function recordingLogger (lines: LogEntry[], bindings: Record<string, unknown> = {}): FastifyBaseLogger {
  const logger: Record<string, unknown> = {
    level: 'trace',
    isLevelEnabled: () => true,
    silent: () => {},
    child: (more: Record<string, unknown>) => recordingLogger(lines, { ...bindings, ...more })
  }
  for (const level of LEVELS) {
    logger[level] = (first: unknown, second?: unknown) => {
      const fields = first !== null && typeof first === 'object' ? first as Record<string, unknown> : {}
      const msg = typeof first === 'string' ? first : typeof second === 'string' ? second : ''
      lines.push({ ...bindings, ...(first instanceof Error ? { err: first } : fields), level, msg })
    }
  }
  return logger as unknown as FastifyBaseLogger
}
