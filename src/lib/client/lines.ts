// Splits a byte stream into lines ('\n', with a '\r' before it dropped) without decoding it, so
// binary-safe encodings (base64) and any UTF-8 pass through unchanged. Yields arrays of lines, one
// per chunk read, so that callers pay one await per chunk rather than per line.

import type {Readable} from 'node:stream'

export async function* readLines(input: Readable | AsyncIterable<Buffer | string>): AsyncGenerator<Buffer[]> {
  let carry: Buffer | undefined
  for await (const data of input as AsyncIterable<Buffer | string>) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data
    const lines: Buffer[] = []
    let start = 0
    if (carry) {
      // Only the line that spans the chunks is joined (never the whole chunk).
      const nl = chunk.indexOf(10)
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk])
        continue
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, nl)])
      lines.push(joined.length > 0 && joined[joined.length - 1] === 13 ? joined.subarray(0, -1) : joined)
      carry = undefined
      start = nl + 1
    }
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl < 0) break
      const end = nl > start && chunk[nl - 1] === 13 ? nl - 1 : nl
      lines.push(chunk.subarray(start, end))
      start = nl + 1
    }
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start))
    if (lines.length > 0) yield lines
  }
  if (carry && carry.length > 0) yield [carry.at(-1) === 13 ? carry.subarray(0, -1) : carry]
}
