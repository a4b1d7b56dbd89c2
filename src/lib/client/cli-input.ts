// What the commands parse from the command line, and how they report per-item failures: `k=v`
// pairs, durations (`15m`), points in time (`2024-05-01T10:00:00Z`, `-1h`, epoch ms), topic and
// partition lists (`orders:0,1`), a topic given as the argument or with --topic. Kept out of
// src/commands (oclif loads every file there as a command) and free of oclif, so it is tested on
// its own.

import {PartialFailureError, UsageError, type ItemFailure} from '../cli/errors.js'

/**
 * The topics of `produce` and `consume`: the argument (`kcli produce orders`) or --topic (`-t
 * orders`, repeatable for consume). Both only when they name the same one topic; undefined when
 * neither names any.
 */
export function topicsFromArgumentOrFlag(argument: string | undefined, flag: readonly string[] | undefined): string[] | undefined {
  const fromFlag = flag ?? []
  if (argument === undefined) return fromFlag.length > 0 ? [...fromFlag] : undefined
  if (fromFlag.length === 0 || (fromFlag.length === 1 && fromFlag[0] === argument)) return [argument]
  throw new UsageError(`the topic is given both as the argument (${argument}) and with --topic (${fromFlag.join(', ')}); give it once`)
}

/** `key=value` (the value may contain '='); throws UsageError naming the flag. */
export function parseKeyValue(input: string, flag: string): [string, string] {
  const eq = input.indexOf('=')
  if (eq <= 0) throw new UsageError(`${flag}: expected key=value but got "${input}"`)
  return [input.slice(0, eq).trim(), input.slice(eq + 1)]
}

/** Repeated and comma-separated `k=v` flags as a record. Commas inside values are not split when the next piece has no '='. */
export function parseKeyValues(inputs: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const input of inputs ?? []) {
    const pieces: string[] = []
    for (const piece of input.split(',')) {
      if (pieces.length > 0 && !piece.includes('=')) pieces[pieces.length - 1] += `,${piece}`
      else pieces.push(piece)
    }
    for (const piece of pieces) {
      const [k, v] = parseKeyValue(piece, flag)
      out[k] = v
    }
  }
  return out
}

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/** `500ms`, `15s`, `10m`, `1h30m`, `2d`, or a bare number of ms. Returns ms; throws UsageError. */
export function parseDuration(input: string, flag: string): number {
  const text = input.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const iso = /^P(?:T)?(\d+)([HMS])$/i.exec(text) // PT1H, PT15M: what kafka-consumer-groups takes
  if (iso) return Number(iso[1]) * UNITS[iso[2]!.toLowerCase()]!
  let total = 0
  let rest = text
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/.exec(rest)
    if (!m) throw new UsageError(`${flag}: "${input}" is not a duration (like 500ms, 30s, 15m, 1h, 2d)`)
    total += Number(m[1]) * UNITS[m[2]!]!
    rest = rest.slice(m[0].length)
  }
  if (text.length === 0) throw new UsageError(`${flag}: empty duration`)
  return Math.round(total)
}

/**
 * A point in time, in ms since the epoch: epoch ms (13 digits or any integer), an ISO 8601 date or
 * date-time (`2024-05-01`, `2024-05-01T10:00:00Z`, local time without a zone), `now`, or relative to
 * now: `-1h`, `+10m`, `-1h30m`.
 */
export function parseTime(input: string, flag: string, now = Date.now()): number {
  const text = input.trim()
  if (text === 'now') return now
  if (/^\d+$/.test(text)) return Number(text)
  const relative = /^([+-])(.+)$/.exec(text)
  if (relative) {
    const ms = parseDuration(relative[2]!, flag)
    return relative[1] === '-' ? now - ms : now + ms
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text)
    if (!Number.isNaN(ms)) return ms
  }
  throw new UsageError(`${flag}: "${input}" is not a time (epoch ms, ISO 8601 like 2024-05-01T10:00:00Z, or relative like -1h)`)
}

/** `orders` or `orders:0,1,3` (partitions undefined: all of them). */
export function parseTopicPartitions(input: string, flag: string): {topic: string; partitions?: number[]} {
  const colon = input.lastIndexOf(':')
  if (colon < 0) return {topic: input}
  const topic = input.slice(0, colon)
  const list = input.slice(colon + 1)
  if (topic === '' || !/^\d+(,\d+)*$/.test(list)) throw new UsageError(`${flag}: expected topic or topic:0,1,... but got "${input}"`)
  return {topic, partitions: list.split(',').map(Number)}
}

/** A non-negative integer flag value as bigint. */
export function parseOffset(input: string, flag: string): bigint {
  if (!/^-?\d+$/.test(input.trim())) throw new UsageError(`${flag}: "${input}" is not an offset`)
  return BigInt(input.trim())
}

export interface FailedItem {
  item: string
  errorCode: number
  error: string
  errorMessage?: string | null
}

/**
 * Throws PartialFailureError (exit 1; the result is still printed with --json) when any item
 * failed; the message names the first few.
 */
export function failIfAny<R>(failed: readonly FailedItem[], total: number, noun: string, result: R): void {
  if (failed.length === 0) return
  const failures: ItemFailure[] = failed.map((f) => ({errorCode: f.errorCode, errorName: f.error, item: f.item, ...(f.errorMessage ? {message: f.errorMessage} : {})}))
  const named = failed
    .slice(0, 3)
    .map((f) => `${f.item}: ${f.error}${f.errorMessage ? ` (${f.errorMessage})` : ''}`)
    .join('; ')
  const more = failed.length > 3 ? `; and ${failed.length - 3} more` : ''
  throw new PartialFailureError(`${failed.length} of ${total} ${noun} failed: ${named}${more}`, failures, result)
}

/** Where consume starts in each partition. */
export type StartSpec =
  | {kind: 'earliest'}
  | {kind: 'latest'}
  | {kind: 'offset'; offset: bigint}
  /** The last `count` records: latest - count (not before earliest). */
  | {kind: 'last'; count: bigint}
  | {kind: 'time'; time: number}

/**
 * --offset: `beginning`/`earliest`, `end`/`latest`, an offset `N`, `-N` for the last N records,
 * or `@time` with any time parseTime() takes (`@1714557600000`, `@2024-05-01T10:00:00Z`, `@-1h`).
 */
export function parseStartSpec(input: string, flag: string, now = Date.now()): StartSpec {
  const text = input.trim()
  if (text === 'beginning' || text === 'earliest') return {kind: 'earliest'}
  if (text === 'end' || text === 'latest') return {kind: 'latest'}
  if (text.startsWith('@')) return {kind: 'time', time: parseTime(text.slice(1), flag, now)}
  if (/^\d+$/.test(text)) return {kind: 'offset', offset: BigInt(text)}
  if (/^-\d+$/.test(text)) return {kind: 'last', count: -BigInt(text)}
  throw new UsageError(`${flag}: expected beginning, end, N, -N or @time but got "${input}"`)
}

/** --to: an offset (exclusive) or `@time` (records before that time). */
export type EndSpec = {kind: 'offset'; offset: bigint} | {kind: 'time'; time: number}

export function parseEndSpec(input: string, flag: string, now = Date.now()): EndSpec {
  const text = input.trim()
  if (text.startsWith('@')) return {kind: 'time', time: parseTime(text.slice(1), flag, now)}
  if (/^\d+$/.test(text)) return {kind: 'offset', offset: BigInt(text)}
  throw new UsageError(`${flag}: expected an offset N or @time but got "${input}"`)
}
