// Formats consumed records for `kcli consume`: kcat-style --format strings, and the --json object
// of one record.
//
// --format placeholders (as kcat -f): %t topic, %p partition, %o offset, %k key, %s value,
// %K key length, %S value length (-1 for null), %h headers (k=v,k=v), %T timestamp (ms),
// %% a percent sign; escapes \n \r \t \\ and \0.

import type {ConsumedBatch, ConsumedRecord} from './consumer.js'
import {describeBytes, type Encoding} from './encoding.js'

export type RecordFormatter = (record: ConsumedRecord, batch: ConsumedBatch) => string

const ESCAPES: Record<string, string> = {'0': '\0', '\\': '\\', n: '\n', r: '\r', t: '\t'}

/** Compiles a kcat-style format into a function; throws Error naming an unknown placeholder. */
export function compileFormat(format: string): RecordFormatter {
  const parts: ((r: ConsumedRecord, b: ConsumedBatch) => string)[] = []
  let literal = ''
  const flush = () => {
    if (literal === '') return
    const text = literal
    parts.push(() => text)
    literal = ''
  }
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!
    if (ch === '\\' && i + 1 < format.length && ESCAPES[format[i + 1]!] !== undefined) {
      literal += ESCAPES[format[++i]!]
      continue
    }
    if (ch !== '%') {
      literal += ch
      continue
    }
    const p = format[++i]
    if (p === '%') {
      literal += '%'
      continue
    }
    flush()
    switch (p) {
      case 't': parts.push((_r, b) => b.topic); break
      case 'p': parts.push((_r, b) => String(b.partition)); break
      case 'o': parts.push((r) => String(r.offset)); break
      case 'k': parts.push((r) => (r.key === null ? '' : r.key.toString('utf8'))); break
      case 's': parts.push((r) => (r.value === null ? '' : r.value.toString('utf8'))); break
      case 'K': parts.push((r) => String(r.key === null ? -1 : r.key.length)); break
      case 'S': parts.push((r) => String(r.value === null ? -1 : r.value.length)); break
      case 'T': parts.push((r) => String(r.timestamp)); break
      case 'h': parts.push((r) => r.headers.map((h) => `${h.key}=${h.value === null ? '' : h.value.toString('utf8')}`).join(',')); break
      default: throw new Error(`unknown placeholder %${p ?? ''} (known: %t %p %o %k %s %K %S %T %h %%)`)
    }
  }
  flush()
  if (parts.length === 1) return parts[0]!
  return (r, b) => {
    let out = ''
    for (const part of parts) out += part(r, b)
    return out
  }
}

export interface RecordJson {
  topic: string
  partition: number
  offset: number
  timestamp: number
  timestampType: 'CreateTime' | 'LogAppendTime'
  key: unknown
  keyEncoding: 'base64' | 'json' | 'text' | null
  value: unknown
  valueEncoding: 'base64' | 'json' | 'text' | null
  headers: {key: string; value: string | null; valueEncoding?: 'base64'}[]
}

/** One record for --json: key and value as text when UTF-8, else base64 (and parsed with json). */
export function recordToJson(record: ConsumedRecord, batch: ConsumedBatch, keyEncoding: Encoding, valueEncoding: Encoding): RecordJson {
  const key = describeBytes(record.key, keyEncoding)
  const value = describeBytes(record.value, valueEncoding)
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    timestampType: batch.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
    key: key.value,
    keyEncoding: key.encoding,
    value: value.value,
    valueEncoding: value.encoding,
    headers: record.headers.map((h) => {
      const d = describeBytes(h.value, 'text')
      return d.encoding === 'base64' ? {key: h.key, value: d.value as string, valueEncoding: 'base64' as const} : {key: h.key, value: d.value as string | null}
    }),
  }
}
