// Value and key encodings of the produce and consume commands.
//
// - text: the bytes as they are (produce) / as UTF-8 text (consume).
// - json: produce checks that each value is one JSON document; consume prints it parsed in --json.
// - base64: produce decodes base64 input into bytes, so any binary value can come from a text
//   line; consume prints base64.
// Consume --json writes keys and values as text when they are valid UTF-8 and base64 otherwise,
// saying which with `keyEncoding` / `valueEncoding`.

import {isUtf8} from 'node:buffer'

export const ENCODINGS = ['text', 'json', 'base64'] as const
export type Encoding = (typeof ENCODINGS)[number]

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/** Input text/bytes -> record bytes; throws Error with a reason for invalid input. */
export function encodeInput(input: Buffer, encoding: Encoding): Buffer {
  switch (encoding) {
    case 'text': {
      return input
    }
    case 'json': {
      JSON.parse(input.toString('utf8'))
      return input
    }
    case 'base64': {
      const text = input.toString('latin1').trim()
      if (!BASE64.test(text)) throw new Error('not base64')
      return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64')
    }
  }
}

export interface EncodedBytes {
  text: string | null
  encoding: 'base64' | 'json' | 'text' | null
}

/** Record bytes for --json output: text when valid UTF-8 (parsed JSON with `json`), else base64. */
export function describeBytes(bytes: Buffer | null, encoding: Encoding): {value: unknown; encoding: 'base64' | 'json' | 'text' | null} {
  if (bytes === null) return {encoding: null, value: null}
  if (encoding === 'base64' || !isUtf8(bytes)) return {encoding: 'base64', value: bytes.toString('base64')}
  const text = bytes.toString('utf8')
  if (encoding === 'json') {
    try {
      return {encoding: 'json', value: JSON.parse(text)}
    } catch {
      return {encoding: 'text', value: text}
    }
  }
  return {encoding: 'text', value: text}
}
