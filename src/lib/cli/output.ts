// Output for people: plain lines, aligned tables, key/value blocks, and colour, kept out of the
// commands so that they stay thin.
//
// Rules:
// - Colour only when the stream is a TTY and NO_COLOR is not set (https://no-color.org).
// - On a TTY, tables are drawn with cli-table3; otherwise (pipes, files, tests) they are plain
//   columns separated by two spaces, one row per line, with a header line, easy to grep and cut.
// - With --json nothing here prints to stdout: the command's result is the output. Errors still
//   go to stderr.
//
// Streams are looked up on every write (process.stdout by default) so that tests can capture
// them by replacing `write`.

import {Chalk, type ChalkInstance, supportsColor} from 'chalk'
import Table from 'cli-table3'

export interface OutputStream {
  isTTY?: boolean
  write(chunk: string): unknown
}

export interface OutputOptions {
  env?: NodeJS.ProcessEnv
  /** When true, stdout output for people is suppressed (the command prints JSON instead). */
  json?: boolean
  stderr?: () => OutputStream
  stdout?: () => OutputStream
}

export type Align = 'left' | 'right'

export interface Column {
  align?: Align
  header: string
}

export type Cell = bigint | boolean | null | number | string | undefined

/** Whether to colour what goes to `stream`: a TTY, and NO_COLOR unset or empty. */
export function colorEnabled(stream: Pick<OutputStream, 'isTTY'>, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.TERM === 'dumb') return false
  return stream.isTTY === true
}

/** A chalk instance whose level follows colorEnabled(); level 0 makes every style a no-op. */
export function chalkFor(stream: Pick<OutputStream, 'isTTY'>, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  if (!colorEnabled(stream, env)) return new Chalk({level: 0})
  const detected = supportsColor === false ? 0 : supportsColor.level
  return new Chalk({level: detected === 0 ? 1 : detected})
}

export function formatCell(value: Cell): string {
  if (value === null || value === undefined) return ''
  return String(value)
}

/** Rows as plain text: columns padded to the widest cell, two spaces apart, no trailing blanks. */
export function plainTable(columns: readonly Column[], rows: readonly (readonly Cell[])[]): string[] {
  const text = [columns.map((c) => c.header.toUpperCase()), ...rows.map((row) => columns.map((_, i) => formatCell(row[i])))]
  const widths = columns.map((_, i) => Math.max(...text.map((row) => row[i]!.length)))
  return text.map((row) =>
    row
      .map((cell, i) => {
        const last = i === row.length - 1
        if (columns[i]!.align === 'right') return cell.padStart(widths[i]!)
        return last ? cell : cell.padEnd(widths[i]!)
      })
      .join('  ')
      .trimEnd(),
  )
}

/** Pairs as `key:  value` lines with the values aligned. */
export function plainKeyValues(pairs: readonly (readonly [string, Cell])[]): string[] {
  const width = Math.max(0, ...pairs.map(([key]) => key.length + 1))
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${formatCell(value)}`.trimEnd())
}

export class Output {
  private readonly env: NodeJS.ProcessEnv
  private readonly json: boolean
  private readonly stderrStream: () => OutputStream
  private readonly stdoutStream: () => OutputStream

  constructor(options: OutputOptions = {}) {
    this.env = options.env ?? process.env
    this.json = options.json ?? false
    this.stdoutStream = options.stdout ?? (() => process.stdout)
    this.stderrStream = options.stderr ?? (() => process.stderr)
  }

  /** Styles for stdout (no-ops when colour is off). */
  get color(): ChalkInstance {
    return chalkFor(this.stdoutStream(), this.env)
  }

  /** Styles for stderr (no-ops when colour is off). */
  get errorColor(): ChalkInstance {
    return chalkFor(this.stderrStream(), this.env)
  }

  get isTTY(): boolean {
    return this.stdoutStream().isTTY === true
  }

  /** One line (or several) for people on stdout; nothing with --json. */
  line(text = ''): void {
    if (this.json) return
    this.stdoutStream().write(`${text}\n`)
  }

  lines(texts: readonly string[]): void {
    for (const text of texts) this.line(text)
  }

  /** A table on a TTY; aligned plain columns otherwise; nothing with --json. */
  table(columns: readonly Column[], rows: readonly (readonly Cell[])[]): void {
    if (this.json) return
    if (!this.isTTY) {
      this.lines(plainTable(columns, rows))
      return
    }

    const c = this.color
    const table = new Table({
      colAligns: columns.map((col) => col.align ?? 'left'),
      head: columns.map((col) => c.bold(col.header)),
      style: {border: [], head: []},
    })
    for (const row of rows) table.push(columns.map((_, i) => formatCell(row[i])))
    this.line(table.toString())
  }

  /** `key:  value` lines; nothing with --json. */
  keyValues(pairs: readonly (readonly [string, Cell])[]): void {
    if (this.json) return
    const c = this.color
    const lines = plainKeyValues(pairs)
    this.lines(
      lines.map((line, i) => {
        const keyLength = pairs[i]![0].length + 1
        return c.bold(line.slice(0, keyLength)) + line.slice(keyLength)
      }),
    )
  }

  /** A value as pretty-printed JSON on stdout, uncoloured. bigint values print as JSON numbers. */
  printJson(value: unknown): void {
    this.stdoutStream().write(`${toJsonText(value, 2)}\n`)
  }

  /** One line on stderr, shown with or without --json. */
  errorLine(text: string): void {
    this.stderrStream().write(`${text}\n`)
  }
}

/**
 * JSON.stringify that writes bigint as a JSON number (exact digits, no quotes): Kafka's int64
 * offsets and timestamps stay exact for readers that parse big numbers, and stay numbers for jq.
 */
export function toJsonText(value: unknown, indent?: number): string {
  // JSON.stringify writes the NUL of the marker as the six characters \u0000.
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000bigint:${v.toString()}` : v), indent)
  return text.replaceAll(/"\\u0000bigint:(-?\d+)"/g, '$1')
}
