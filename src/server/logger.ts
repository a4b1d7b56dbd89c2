/**
 * The broker's logger: pino. JSON lines when stderr is not a terminal (for log shippers); on a
 * terminal, one readable line per event: `06:12:01.123 INFO  broker started nodeId=1 ...`.
 */
import {Writable} from 'node:stream'
import {type DestinationStream, type Logger, pino} from 'pino'

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

export function createLogger(options: {level?: string; destination?: NodeJS.WritableStream; pretty?: boolean} = {}): Logger {
  const level = options.level ?? process.env.KCLI_LOG_LEVEL ?? 'info'
  const out = options.destination ?? process.stderr
  const pretty = options.pretty ?? (out === process.stderr && process.stderr.isTTY === true)
  return pino({level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime}, pretty ? prettyStream(out) : (out as unknown as DestinationStream))
}

/** A logger that discards everything (tests). */
export function silentLogger(): Logger {
  return pino({level: 'silent'})
}
