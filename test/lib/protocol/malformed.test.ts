import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'
import {loadDefinitions} from '../../../scripts/codegen/generate.js'
import {ProtocolDecodeError} from '../../../src/lib/protocol/errors.js'
import {decodeRequest, decodeResponse, requestHeaderVersion, responseHeaderVersion} from '../../../src/lib/protocol/index.js'
import {API_CODECS, DEFINITIONS} from '../../../src/lib/protocol/generated/index.js'
import {RequestHeader} from '../../../src/lib/protocol/generated/request-header.js'
import {ResponseHeader} from '../../../src/lib/protocol/generated/response-header.js'
import type {MessageCodec} from '../../../src/lib/protocol/message.js'
import {Reader} from '../../../src/lib/protocol/reader.js'
import {Writer} from '../../../src/lib/protocol/writer.js'
import {HAVE_REFERENCE, loadCaptures, REFERENCE_DIR} from './reference.js'
import {SchemaModel} from './schema-arbitrary.js'

// Malformed input must give one ProtocolDecodeError with a byte offset and a field path: never
// another exception, never a hang, never an allocation sized by an untrusted length. Decoding
// random bytes may also succeed (a short message can be any 8 bytes): that is fine.

type Codec = MessageCodec<unknown>

const WITH_VERSIONS = DEFINITIONS.filter((d) => d.minVersion <= d.maxVersion) as Codec[]
const API_MESSAGES = WITH_VERSIONS.filter((d) => d.kind === 'request' || d.kind === 'response')

function versionsOf(codec: Codec): number[] {
  const out: number[] = []
  for (let v = codec.minVersion; v <= codec.maxVersion; v++) out.push(v)
  return out
}

/** A well-formed ProtocolDecodeError for an input of `length` bytes, or a description of what is wrong. */
function checkDecodeError(e: unknown, length: number, prefix: string): string | undefined {
  if (!(e instanceof ProtocolDecodeError)) return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`
  if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > length) return `offset ${e.offset} outside 0..${length}`
  if (typeof e.field !== 'string' || e.field === '' || !e.field.startsWith(prefix)) return `field ${JSON.stringify(e.field)} does not start with ${prefix}`
  return undefined
}

/** Decodes; returns 'ok', 'error' (a good ProtocolDecodeError) or what went wrong. */
function tryDecode(decode: () => unknown, length: number, prefix: string): 'ok' | 'error' | string {
  try {
    decode()
    return 'ok'
  } catch (e) {
    return checkDecodeError(e, length, prefix) ?? 'error'
  }
}

/** Mulberry32: a small seeded PRNG, so that a failing input can be found again. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = Number(process.env.KCLI_GARBAGE_SEED ?? 0x6b636c69)

/** A few valid encodings of each codec at each version, from the JSON definitions. */
const samples = new Map<string, Buffer[]>()
function validEncodings(codec: Codec, version: number): Buffer[] {
  const key = `${codec.name}@${version}`
  let out = samples.get(key)
  if (!out) {
    const spec = specs().find((s) => s.name === codec.name)!
    const model = new SchemaModel(spec, {maxArrayLength: 2, maxStringLength: 6, maxBytesLength: 12, unknownTaggedFields: true})
    const values = fc.sample(model.message(version), {numRuns: 3, seed: SEED ^ version})
    out = [codec.encode({} as never, version), ...values.map((m) => codec.encode(m as never, version))]
    samples.set(key, out)
  }
  return out
}

let specCache: ReturnType<typeof loadDefinitions> | undefined
function specs(): ReturnType<typeof loadDefinitions> {
  return (specCache ??= loadDefinitions(REFERENCE_DIR))
}

function uvarintBytes(v: number): Buffer {
  const w = new Writer(8)
  w.uvarint(v)
  return Buffer.from(w.toBuffer())
}

function uvarintLength(buf: Buffer, offset: number): number {
  let n = 1
  while (buf[offset + n - 1]! & 0x80) n++
  return n
}

// Where the length fields are: the Reader's length-reading methods, wrapped to record the offset
// and field of each call while `recording` is set. Restored after the tests.
interface LengthSite {
  offset: number
  field: string
  /** 2 or 4 for a classic int16/int32 length, 0 for a compact (varint) one, -1 for a tagged-field count. */
  width: number
}

let recording: LengthSite[] | undefined
const proto = Reader.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
const originals = new Map<string, (...args: unknown[]) => unknown>()
for (const [method, classicWidth] of [
  ['string', 2],
  ['nullableString', 2],
  ['bytes', 4],
  ['nullableBytes', 4],
  ['arrayLength', 4],
  ['taggedFields', -1],
] as const) {
  const original = proto[method]!
  originals.set(method, original)
  proto[method] = function (this: Reader, field: unknown, flexible: unknown, ...rest: unknown[]) {
    if (recording) recording.push({offset: this.offset, field: field as string, width: classicWidth === -1 ? -1 : flexible ? 0 : classicWidth})
    return original.call(this, field, flexible, ...rest)
  }
}

function lengthSites(codec: Codec, version: number, bytes: Buffer): LengthSite[] {
  recording = []
  try {
    codec.decode(bytes, version)
    return recording
  } finally {
    recording = undefined
  }
}

afterAll(() => {
  for (const [method, original] of originals) proto[method] = original
})

describe.skipIf(!HAVE_REFERENCE)('malformed input', () => {
  it('every captured frame, cut at every byte position, fails with a ProtocolDecodeError', () => {
    const frames = loadCaptures()
    expect(frames).toHaveLength(212)
    const problems: string[] = []
    let inputs = 0
    let bytes = 0
    for (const [i, f] of frames.entries()) {
      const frame = Buffer.from(f.frameHex, 'hex')
      const codec = (API_CODECS as Record<number, {request: Codec; response: Codec}>)[f.apiKey]![f.direction]
      // The whole frame first, then the body alone, cut at every position.
      const r = new Reader(frame)
      if (f.direction === 'request') RequestHeader.read(r, requestHeaderVersion(f.apiKey, f.apiVersion))
      else ResponseHeader.read(r, responseHeaderVersion(f.apiKey, f.apiVersion))
      const body = frame.subarray(r.offset)
      expect(() => codec.decode(body, f.apiVersion)).not.toThrow()
      bytes += frame.length
      for (let cut = 0; cut < frame.length; cut++) {
        const part = frame.subarray(0, cut)
        const prefix = cut < r.offset ? (f.direction === 'request' ? 'RequestHeader' : 'ResponseHeader') : codec.name
        const decode = f.direction === 'request' ? () => decodeRequest(part) : () => decodeResponse(part, f.apiKey as never, f.apiVersion)
        const outcome = tryDecode(decode, cut, prefix)
        if (outcome !== 'error') problems.push(`frame #${i} ${f.api} v${f.apiVersion} ${f.direction} cut at ${cut}: ${outcome}`)
        inputs++
      }
      for (let cut = 0; cut < body.length; cut++) {
        const outcome = tryDecode(() => codec.decode(body.subarray(0, cut), f.apiVersion), cut, codec.name)
        if (outcome !== 'error') problems.push(`body of frame #${i} ${f.api} v${f.apiVersion} cut at ${cut}: ${outcome}`)
        inputs++
      }
    }
    console.log(`cuts: ${inputs} prefixes of ${frames.length} captured frames (${bytes} bytes) and of their bodies`)
    expect(problems.slice(0, 20)).toEqual([])
    expect(inputs).toBeGreaterThan(bytes) // every frame position, plus every body position
  })

  it('at least 100,000 garbage bodies across every request and response version give nothing but ProtocolDecodeError', () => {
    const PER_VERSION = 200
    const random = prng(SEED)
    const byte = () => Math.floor(random() * 256)
    const int = (n: number) => Math.floor(random() * n)
    const SPECIAL = [
      [0xff, 0xff, 0xff, 0xff],
      [0x7f, 0xff, 0xff, 0xff],
      [0x80, 0x00, 0x00, 0x00],
      [0xff, 0xfe],
      [0x80, 0x00],
      [0xff, 0xff, 0xff, 0xff, 0x0f],
      [0x00],
    ]

    /** Random bytes, or a valid encoding with random damage. */
    const garbage = (valid: Buffer[]): Buffer => {
      const kind = int(8)
      if (kind < 2 || valid.length === 0) return Buffer.from(Array.from({length: int(kind === 0 ? 16 : 200)}, byte))
      const base = Buffer.from(valid[int(valid.length)]!)
      const at = int(base.length + 1)
      switch (kind) {
        case 2: {
          // Flip a few bytes.
          for (let n = 1 + int(4); n > 0 && base.length > 0; n--) base[int(base.length)] = byte()
          return base
        }
        case 3:
          return base.subarray(0, at) // cut short
        case 4: // insert random bytes
          return Buffer.concat([base.subarray(0, at), Buffer.from(Array.from({length: 1 + int(6)}, byte)), base.subarray(at)])
        case 5: // delete a few bytes
          return Buffer.concat([base.subarray(0, at), base.subarray(at + 1 + int(4))])
        default: {
          // Overwrite with a length-like value (-1, INT32_MAX, INT32_MIN, -2, INT16_MIN, 2^32-1 varint, 0).
          const special = Buffer.from(SPECIAL[int(SPECIAL.length)]!)
          return Buffer.concat([base.subarray(0, at), special, base.subarray(Math.min(base.length, at + special.length))])
        }
      }
    }

    const problems: string[] = []
    const outcomes = {ok: 0, error: 0}
    let apiInputs = 0
    let slowest = 0
    const started = performance.now()
    for (const codec of WITH_VERSIONS) {
      for (const version of versionsOf(codec)) {
        const valid = validEncodings(codec, version)
        for (let i = 0; i < PER_VERSION; i++) {
          const input = garbage(valid)
          const t0 = performance.now()
          const outcome = tryDecode(() => codec.decode(input, version), input.length, codec.name)
          slowest = Math.max(slowest, performance.now() - t0)
          if (outcome === 'ok' || outcome === 'error') outcomes[outcome]++
          else problems.push(`${codec.name} v${version} ${input.toString('hex')}: ${outcome}`)
          if (codec.kind === 'request' || codec.kind === 'response') apiInputs++
        }
      }
    }
    const seconds = (performance.now() - started) / 1000
    console.log(
      `garbage: ${apiInputs} request/response bodies (${outcomes.ok + outcomes.error + problems.length} with headers and data records): ` +
        `${outcomes.error} ProtocolDecodeError, ${outcomes.ok} decoded, ${problems.length} other; ${seconds.toFixed(1)} s, slowest ${slowest.toFixed(1)} ms, seed ${SEED}`,
    )
    expect(problems.slice(0, 20)).toEqual([])
    expect(apiInputs).toBeGreaterThanOrEqual(100_000)
    expect(API_MESSAGES.reduce((n, c) => n + versionsOf(c).length, 0) * PER_VERSION).toBe(apiInputs)
    expect(outcomes.error).toBeGreaterThan(apiInputs / 2)
    expect(slowest).toBeLessThan(250)
  })

  it('lengths far past the end, negative lengths and huge counts spliced into valid encodings fail at that field', () => {
    const problems: string[] = []
    let inputs = 0
    let sites = 0
    const expectFailure = (codec: Codec, version: number, input: Buffer, site: LengthSite, what: string) => {
      inputs++
      let outcome: string
      try {
        codec.decode(input, version)
        outcome = 'decoded'
      } catch (e) {
        outcome = checkDecodeError(e, input.length, codec.name) ?? 'error'
        // A bad length is reported at its own field; a bad tagged-field count wherever the bytes run out.
        if (outcome === 'error' && site.width >= 0) {
          const err = e as ProtocolDecodeError
          if (err.field !== site.field) outcome = `reported at ${err.field}`
          else if (err.offset < site.offset || err.offset > site.offset + 5) outcome = `reported at offset ${err.offset}`
        }
      }
      if (outcome !== 'error') problems.push(`${codec.name} v${version} ${site.field}@${site.offset} ${what}: ${outcome}`)
    }

    for (const codec of API_MESSAGES) {
      for (const version of versionsOf(codec)) {
        for (const valid of validEncodings(codec, version)) {
          for (const site of lengthSites(codec, version, valid)) {
            sites++
            const {offset, width} = site
            if (width === 2 || width === 4) {
              const left = valid.length - offset - width
              const values = width === 2 ? [-2, -32768, 0x7fff, left + 1] : [-2, -(2 ** 31), 0x7fffffff, left + 1]
              for (const value of values) {
                const input = Buffer.from(valid)
                if (width === 2) input.writeInt16BE(value, offset)
                else input.writeInt32BE(value, offset)
                expectFailure(codec, version, input, site, `length ${value}`)
              }
            } else {
              const old = uvarintLength(valid, offset)
              const left = valid.length - offset - old
              // Compact lengths are length + 1: 2^32 - 1 claims 2^32 - 2 bytes or elements.
              const values = width === 0 ? [2 ** 32 - 1, 2 ** 31 + 1, left + 12] : [2 ** 32 - 1, left + 1]
              for (const value of values) {
                const input = Buffer.concat([valid.subarray(0, offset), uvarintBytes(value), valid.subarray(offset + old)])
                expectFailure(codec, version, input, site, width === 0 ? `compact length ${value}` : `tagged-field count ${value}`)
              }
              if (width === -1 && valid[offset] !== 0) {
                // The size of the first tagged field.
                const sizeAt = offset + old + uvarintLength(valid, offset + old)
                const oldSize = uvarintLength(valid, sizeAt)
                const input = Buffer.concat([valid.subarray(0, sizeAt), uvarintBytes(2 ** 32 - 1), valid.subarray(sizeAt + oldSize)])
                expectFailure(codec, version, input, {...site, width: -1}, 'tagged-field size 2^32-1')
              }
            }
          }
        }
      }
    }
    console.log(`splices: ${inputs} inputs at ${sites} length fields`)
    expect(problems.slice(0, 20)).toEqual([])
    expect(sites).toBeGreaterThan(5_000)
  })

  it('a 16-byte input claiming a 2^31-element array or a 2 GiB string fails fast, without allocating', () => {
    // Inputs: a valid encoding up to one of its length fields, a huge length there, and padding
    // to 16 bytes; plus hand-made ones for the largest claims.
    const inputs: Array<{codec: Codec; version: number; input: Buffer}> = []
    for (const codec of API_MESSAGES) {
      for (const version of versionsOf(codec)) {
        const valid = validEncodings(codec, version)[1]!
        for (const site of lengthSites(codec, version, valid)) {
          if (site.offset > 10) break
          const huge = site.width === 4 ? Buffer.from('7fffffff', 'hex') : site.width === 2 ? Buffer.from('7fff', 'hex') : uvarintBytes(2 ** 31 + 1)
          const input = Buffer.concat([valid.subarray(0, site.offset), huge, Buffer.alloc(16, 0xff)]).subarray(0, 16)
          inputs.push({codec, version, input})
        }
      }
    }
    const metadataRequest = API_CODECS[3].request as Codec
    const saslAuthenticate = API_CODECS[36].request as Codec
    inputs.push({codec: metadataRequest, version: 0, input: Buffer.from('7fffffff' + '00'.repeat(12), 'hex')}) // 2^31 - 1 topic names
    inputs.push({codec: metadataRequest, version: 12, input: Buffer.from('ffffffff0f' + '00'.repeat(11), 'hex')}) // 2^32 - 2 topics
    inputs.push({codec: saslAuthenticate, version: 1, input: Buffer.from('7fffffff' + '00'.repeat(12), 'hex')}) // a 2 GiB auth token
    inputs.push({codec: saslAuthenticate, version: 2, input: Buffer.from('8180808008' + '00'.repeat(11), 'hex')}) // 2 GiB, compact
    expect(inputs.length).toBeGreaterThan(500)
    for (const {input} of inputs) expect(input.length).toBe(16)

    const gc = exposeGc()
    const ROUNDS = Math.ceil(20_000 / inputs.length)
    gc()
    const before = process.memoryUsage()
    let maxArrayBuffers = 0
    let maxHeap = 0
    let decoded = 0
    const problems: string[] = []
    const started = performance.now()
    for (let round = 0; round < ROUNDS; round++) {
      for (const {codec, version, input} of inputs) {
        const outcome = tryDecode(() => codec.decode(input, version), input.length, codec.name)
        if (outcome !== 'error') problems.push(`${codec.name} v${version} ${input.toString('hex')}: ${outcome}`)
        decoded++
      }
      const now = process.memoryUsage()
      maxArrayBuffers = Math.max(maxArrayBuffers, now.arrayBuffers - before.arrayBuffers)
      maxHeap = Math.max(maxHeap, now.heapUsed - before.heapUsed)
    }
    const micros = ((performance.now() - started) * 1000) / decoded
    gc()
    const after = process.memoryUsage()
    const MiB = 1024 * 1024
    console.log(
      `huge claims: ${decoded} decodes of ${inputs.length} 16-byte inputs, ${micros.toFixed(1)} µs each; ` +
        `peak growth arrayBuffers ${(maxArrayBuffers / 1024).toFixed(0)} KiB, heapUsed ${(maxHeap / MiB).toFixed(1)} MiB; ` +
        `after gc arrayBuffers ${((after.arrayBuffers - before.arrayBuffers) / 1024).toFixed(0)} KiB, heapUsed ${((after.heapUsed - before.heapUsed) / MiB).toFixed(1)} MiB`,
    )
    expect(problems.slice(0, 20)).toEqual([])
    // One allocation sized by a claimed length would be 2 GiB (or a RangeError); garbage from
    // 20,000 error objects stays in the tens of MiB until a collection.
    expect(maxArrayBuffers).toBeLessThan(1 * MiB)
    expect(maxHeap).toBeLessThan(64 * MiB)
    expect(after.heapUsed - before.heapUsed).toBeLessThan(8 * MiB)
    expect(micros).toBeLessThan(500)
  })
})

/** `global.gc`, turned on at run time when node was started without --expose-gc. */
function exposeGc(): () => void {
  const existing = (globalThis as {gc?: () => void}).gc
  if (existing) return existing
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}
