import {isDeepStrictEqual} from 'node:util'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {loadDefinitions} from '../../../scripts/codegen/generate.js'
import {FetchResponse} from '../../../src/lib/protocol/generated/fetch-response.js'
import {decodeRequest, decodeResponse, encodeRequest, encodeResponse, responseHeaderVersion} from '../../../src/lib/protocol/index.js'
import {API_CODECS, type ApiKeyNumber, DEFINITIONS} from '../../../src/lib/protocol/generated/index.js'
import type {MessageCodec} from '../../../src/lib/protocol/message.js'
import {Reader} from '../../../src/lib/protocol/reader.js'
import {HAVE_REFERENCE, REFERENCE_DIR} from './reference.js'
import {SchemaModel} from './schema-arbitrary.js'

// Property-based round trips for every definition at every valid version. The values come from
// the JSON definitions (schema-arbitrary.ts), not from the generated code, so a field the
// generator reads at the wrong version, with the wrong nullability or the wrong default shows up
// here as a difference.

/** Runs per message version; KCLI_FC_RUNS overrides, KCLI_FC_SEED replays a failure. */
const RUNS = Number(process.env.KCLI_FC_RUNS ?? 25)
const SEED = process.env.KCLI_FC_SEED === undefined ? undefined : Number(process.env.KCLI_FC_SEED)

function roundTrip(codec: MessageCodec<unknown>, message: unknown, version: number): void {
  const bytes = codec.encode(message as never, version)
  const decoded = codec.decode(bytes, version)
  if (!isDeepStrictEqual(decoded, message)) expect(decoded).toStrictEqual(message)
  // The decoder consumes exactly what the encoder wrote.
  const r = new Reader(bytes)
  codec.read(r, version)
  expect(r.offset).toBe(bytes.length)
  const again = codec.encode(decoded as never, version)
  if (!again.equals(bytes)) expect(again.toString('hex')).toBe(bytes.toString('hex'))
}

describe.skipIf(!HAVE_REFERENCE)('property-based round trips', () => {
  const specs = HAVE_REFERENCE ? loadDefinitions(REFERENCE_DIR) : []
  const codecs = new Map(DEFINITIONS.map((d) => [d.name, d as MessageCodec<unknown>]))
  // LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown have "validVersions": "none".
  const withVersions = specs.filter((s) => codecs.get(s.name)!.minVersion <= codecs.get(s.name)!.maxVersion)

  it('checks all 574 message versions of the 178 definitions that have versions', () => {
    expect(withVersions).toHaveLength(178)
    expect(withVersions.reduce((n, s) => n + codecs.get(s.name)!.maxVersion - codecs.get(s.name)!.minVersion + 1, 0)).toBe(574)
  })

  for (const spec of withVersions) {
    const codec = codecs.get(spec.name)!
    it(`${spec.name} v${codec.minVersion}-${codec.maxVersion}`, () => {
      const model = new SchemaModel(spec)
      for (let version = codec.minVersion; version <= codec.maxVersion; version++) {
        fc.assert(
          fc.property(model.message(version), (message) => roundTrip(codec, message, version)),
          {numRuns: RUNS, seed: SEED},
        )
      }
    })
  }

  it('frames every request and response version with the right header and reads it back', () => {
    let frames = 0
    for (const [key, {request, response}] of Object.entries(API_CODECS) as Array<[string, {request: MessageCodec<unknown>; response: MessageCodec<unknown>}]>) {
      const apiKey = Number(key) as ApiKeyNumber
      const requestModel = new SchemaModel(specs.find((s) => s.name === request.name)!)
      const responseModel = new SchemaModel(specs.find((s) => s.name === response.name)!)
      for (let version = request.minVersion; version <= request.maxVersion; version++) {
        const arb = fc.record({
          correlationId: fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1}),
          clientId: fc.option(fc.string({maxLength: 8}), {nil: null}),
          request: requestModel.message(version),
          response: responseModel.message(version),
        })
        fc.assert(
          fc.property(arb, ({correlationId, clientId, request: req, response: res}) => {
            const requestFrame = Buffer.concat(encodeRequest(apiKey, version, correlationId, clientId, req as never))
            expect(requestFrame.readInt32BE(0)).toBe(requestFrame.length - 4)
            const decoded = decodeRequest(requestFrame.subarray(4))
            expect(decoded.header).toStrictEqual({requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId})
            if (!isDeepStrictEqual(decoded.body, req)) expect(decoded.body).toStrictEqual(req)
            const responseFrame = Buffer.concat(encodeResponse(apiKey, version, correlationId, res as never))
            const back = decodeResponse(responseFrame.subarray(4), apiKey, version)
            expect(back.header).toStrictEqual({correlationId})
            if (!isDeepStrictEqual(back.body, res)) expect(back.body).toStrictEqual(res)
            // Response header v0 is the correlation id alone; v1 adds an empty tagged-field section.
            const headerBytes = responseFrame.length - 4 - response.encode(res as never, version).length
            expect(headerBytes).toBe(responseHeaderVersion(apiKey, version) === 0 ? 4 : 5)
          }),
          {numRuns: 3, seed: SEED},
        )
        frames++
      }
    }
    expect(frames).toBe(277)
  })
})

describe('round trips of hand-picked values', () => {
  it('keeps int64 extremes and float64 specials exactly', () => {
    const message = {
      throttleTimeMs: -1,
      errorCode: 0,
      sessionId: 2 ** 31 - 1,
      responses: [
        {
          topic: 'ñ-🚀-トピック',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 2n ** 63n - 1n,
              lastStableOffset: -(2n ** 63n),
              logStartOffset: 9007199254740993n, // 2^53 + 1: a number would round it
              divergingEpoch: {epoch: -1, endOffset: -1n},
              currentLeader: {leaderId: -1, leaderEpoch: -1},
              snapshotId: {endOffset: -1n, epoch: -1},
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: Buffer.from('records'),
            },
          ],
        },
      ],
      nodeEndpoints: [],
    }
    for (const version of [4, 11, 12]) {
      const decoded = FetchResponse.decode(FetchResponse.encode(message, version), version)
      expect(decoded.responses[0]!.partitions[0]!.highWatermark).toBe(2n ** 63n - 1n)
      expect(decoded.responses[0]!.partitions[0]!.lastStableOffset).toBe(-(2n ** 63n))
      expect(decoded.responses[0]!.partitions[0]!.logStartOffset).toBe(version >= 5 ? 9007199254740993n : -1n)
      expect(decoded.responses[0]!.topic).toBe('ñ-🚀-トピック')
    }
  })

  it('writes a string of 32767 UTF-8 bytes and refuses one of 32768', () => {
    const codec = codecs().get('FindCoordinatorRequest')!
    const key = 'é'.repeat(16383) + 'x' // 2 * 16383 + 1 = 32767 bytes
    expect(Buffer.byteLength(key)).toBe(32767)
    for (const version of [0, 3]) {
      expect(codec.decode(codec.encode({key}, version), version)).toMatchObject({key})
      expect(() => codec.encode({key: key + 'x'}, version)).toThrow(RangeError)
    }
  })

  // Regression: a tagged struct whose known fields all have their defaults is left out of the
  // encoding (Kafka's "omit a tagged field equal to its default"), but the check ignores the
  // struct's own unknown tagged fields, so they are silently lost. Kafka's generated equals()
  // compares unknown tagged fields too, so Java writes the struct. Found reading emit-message.ts
  // (differsFromDefault -> isDefault<Struct>); the random round trips leave unknown tagged fields
  // out of structs that equal their default, so that they test the rest.
  it('keeps unknown tagged fields inside a tagged struct whose known fields are defaults (FetchResponse v12 currentLeader)', () => {
    const partition = {
      partitionIndex: 0,
      currentLeader: {leaderId: -1, leaderEpoch: -1, unknownTaggedFields: [{tag: 7, data: Buffer.from([1, 2, 3])}]},
      records: null,
    }
    const message = {responses: [{topic: 't', partitions: [partition]}]}
    const decoded = FetchResponse.decode(FetchResponse.encode(message, 12), 12)
    expect(decoded.responses[0]!.partitions[0]!.currentLeader.unknownTaggedFields).toEqual([{tag: 7, data: Buffer.from([1, 2, 3])}])
  })
})

function codecs(): Map<string, MessageCodec<any>> {
  return new Map(DEFINITIONS.map((d) => [d.name, d]))
}
