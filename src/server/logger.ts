/**
 * The broker's logger: pino. Format (issue 16), one per process and stream, never mixed: `json`
 * (one JSON object per line, for log shippers) or `pretty` (pino-pretty, in this thread and
 * synchronous: `06:12:01.123 INFO: broker started {"nodeId":1,...}`, coloured unless NO_COLOR);
 * `auto` is pretty when the destination is a terminal, JSON otherwise.
 */
import {Writable} from 'node:stream'
import {type DestinationStream, type Logger, pino} from 'pino'
import pinoPretty from 'pino-pretty'

export type {Logger}

const LEVELS: Record<number, string> = {10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL'}

/** One of pino's JSON lines as a short human line (a line that is not JSON comes back as it is). */
export function formatLogLine(line: string): string {
  try {
    const {level, time, msg, err, ...rest} = JSON.parse(line) as Record<string, unknown>
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    const clock = typeof time === 'string' ? time.slice(11, 23) : ''
    const error = err && typeof err === 'object' ? `\n  ${String((err as {stack?: string}).stack ?? (err as {message?: string}).message)}` : ''
    return `${clock} ${LEVELS[level as number] ?? level} ${String(msg ?? '')} ${fields.join(' ')}${error}`
  } catch {
    return line
  }
}

/** Renders pino's JSON lines as short human lines. */
export function prettyStream(out: NodeJS.WritableStream): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') out.write(`${formatLogLine(line)}\n`)
      }
      callback()
    },
  }) as unknown as DestinationStream
}

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** `auto`: pretty on a terminal, JSON otherwise. */
export function resolveLogFormat(format: LogFormat, out: NodeJS.WritableStream = process.stderr): 'pretty' | 'json' {
  if (format !== 'auto') return format
  return (out as {isTTY?: boolean}).isTTY === true ? 'pretty' : 'json'
}

/** pino-pretty over `out`: time, level, message, then the event's fields on the same line. */
export function prettyDestination(out: NodeJS.WritableStream, colorize = (out as {isTTY?: boolean}).isTTY === true && !process.env.NO_COLOR): DestinationStream {
  return pinoPretty({destination: out as never, sync: true, colorize, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname'}) as unknown as DestinationStream
}

export function createLogger(options: {level?: string; destination?: NodeJS.WritableStream; format?: LogFormat; pretty?: boolean} = {}): Logger {
  const level = options.level ?? process.env.KCLI_LOG_LEVEL ?? 'info'
  const out = options.destination ?? process.stderr
  const format = options.pretty !== undefined ? (options.pretty ? 'pretty' : 'json') : resolveLogFormat(options.format ?? 'auto', out)
  return pino({level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime}, format === 'pretty' ? prettyDestination(out) : (out as unknown as DestinationStream))
}

/** A logger that discards everything (tests). */
export function silentLogger(): Logger {
  return pino({level: 'silent'})
}
