import { ERR_OPTION_INVALID } from '../errors.js'

/*
 * permessage-deflate (RFC 7692) as ws implements it: each connection that
 * negotiates it gets its own zlib compressor and decompressor, made on first
 * use and kept for the connection's life unless context takeover is off.
 * That memory, and the CPU of compressing every frame for every recipient
 * (a broadcast is compressed once per socket), is why it is off by default.
 */

/** The `compression` plugin option: permessage-deflate with ws's memory settings. */
export interface CompressionOptions {
  /**
   * Frames smaller than this many bytes are sent uncompressed. ws applies it
   * only when `serverNoContextTakeover` is on; with context takeover every frame is compressed.
   * @default 1024
   */
  threshold?: number
  /**
   * zlib compression level, 0 (none) to 9 (smallest, slowest).
   * @default 6 (zlib's default)
   */
  level?: number
  /**
   * zlib memLevel, 1 to 9: memory of each connection's compressor against speed.
   * @default 8
   */
  memLevel?: number
  /**
   * Window of the server's compressor, 8 to 15 bits (`server_max_window_bits`): 2^bits bytes per connection.
   * @default 15
   */
  serverMaxWindowBits?: number
  /**
   * Window the server asks clients to compress with, 8 to 15 bits (`client_max_window_bits`), when they offer to limit it.
   * @default the client's choice
   */
  clientMaxWindowBits?: number
  /**
   * Reset the server's compressor after every message: far less memory per idle connection, a worse ratio.
   * @default false
   */
  serverNoContextTakeover?: boolean
  /**
   * Ask clients to reset theirs after every message (the server's decompressor then needs no window between messages).
   * @default false
   */
  clientNoContextTakeover?: boolean
  /**
   * How many zlib operations run at once (ws queues the rest).
   * @default 10
   */
  concurrencyLimit?: number
}

/** The part of ws's `DeflateSettings` this module sets (declared here so the public types need no @types/ws). */
export interface DeflateSettings {
  threshold?: number
  concurrencyLimit?: number
  serverNoContextTakeover?: boolean
  clientNoContextTakeover?: boolean
  serverMaxWindowBits?: number
  clientMaxWindowBits?: number
  zlibDeflateOptions?: { level?: number, memLevel?: number }
}

/** The `perMessageDeflate` option of ws for `compression`, or false when it is off. */
export function deflateOptions (compression: boolean | CompressionOptions | undefined): DeflateSettings | false {
  if (compression === undefined || compression === false) return false
  if (compression === true) return { threshold: 1024 }
  if (compression === null || typeof compression !== 'object') throw new ERR_OPTION_INVALID('compression', 'must be true, false or an object of permessage-deflate settings')
  const c = compression
  const options: DeflateSettings = {
    threshold: integer('threshold', c.threshold, 0, Number.MAX_SAFE_INTEGER) ?? 1024,
    concurrencyLimit: integer('concurrencyLimit', c.concurrencyLimit, 1, 1024),
    serverNoContextTakeover: flag('serverNoContextTakeover', c.serverNoContextTakeover),
    clientNoContextTakeover: flag('clientNoContextTakeover', c.clientNoContextTakeover),
    serverMaxWindowBits: integer('serverMaxWindowBits', c.serverMaxWindowBits, 8, 15),
    clientMaxWindowBits: integer('clientMaxWindowBits', c.clientMaxWindowBits, 8, 15),
    zlibDeflateOptions: { level: integer('level', c.level, 0, 9), memLevel: integer('memLevel', c.memLevel, 1, 9) }
  }
  // ws reads an explicit undefined as a setting; leave unset what the user left unset
  for (const key of Object.keys(options) as Array<keyof DeflateSettings>) if (options[key] === undefined) delete options[key]
  const zlib = options.zlibDeflateOptions as Record<string, unknown>
  for (const key of Object.keys(zlib)) if (zlib[key] === undefined) delete zlib[key]
  return options
}

function integer (name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ERR_OPTION_INVALID(`compression.${name}`, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function flag (name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw new ERR_OPTION_INVALID(`compression.${name}`, `must be true or false, got ${String(value)}`)
  return value
}
