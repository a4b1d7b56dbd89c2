// Splits a byte stream into lines ('\n', with a '\r' before it dropped) without decoding it, so
// binary-safe encodings (base64) and any UTF-8 pass through unchanged. Yields arrays of lines, one
// per chunk read, so that callers pay one await per chunk rather than per line.

import {read} from 'node:fs'
import type {Readable} from 'node:stream'
import {promisify} from 'node:util'

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

const readAsync = promisify(read)

/**
 * The bytes of a file descriptor (a file, or stdin redirected from one) in chunks of one reused
 * buffer: a chunk is valid only until the next one is asked for. Reading hundreds of megabytes then
 * allocates nothing per chunk, where a stream allocates a fresh megabyte each time (page faults,
 * and full garbage collections for the external memory). readLines() copies the one line that
 * spans two chunks, so its lines stay valid exactly as long as their chunk.
 */
export async function* readReusingBuffer(fd: number, size = 1 << 20): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(size)
  for (;;) {
    const {bytesRead} = await readAsync(fd, buffer, 0, size, null)
    if (bytesRead === 0) return
    yield buffer.subarray(0, bytesRead)
  }
}
