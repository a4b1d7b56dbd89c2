import {describe, expect, it} from 'vitest'
import {decodeRequest, decodeResponse, encodeRequest, encodeResponse, isKnownApiKey} from '../../../src/lib/protocol/index.js'
import {HAVE_REFERENCE, loadCaptures} from './reference.js'

// Golden bytes: frames recorded between real clients (Java 4.0, kcat/librdkafka 2.0, kafkajs 2.2)
// and a real Kafka 4.0 broker. Each must decode, and re-encode to the identical bytes.
describe.skipIf(!HAVE_REFERENCE)('captured frames from real clients', () => {
  const frames = HAVE_REFERENCE ? loadCaptures() : []

  it('has all 212 frames', () => {
    expect(frames.length).toBe(212)
  })

  for (const [i, f] of frames.entries()) {
    it(`${f.client.split(' ')[0]} #${i} ${f.direction} ${f.api} v${f.apiVersion}`, () => {
      const frame = Buffer.from(f.frameHex, 'hex')
      expect(isKnownApiKey(f.apiKey)).toBe(true)
      if (f.direction === 'request') {
        const req = decodeRequest(frame)
        expect(req.apiKey).toBe(f.apiKey)
        expect(req.apiVersion).toBe(f.apiVersion)
        expect(req.header.correlationId).toBe(f.correlationId)
        const again = Buffer.concat(encodeRequest(req.apiKey, req.apiVersion, req.header.correlationId, req.header.clientId, req.body as never))
        expect(again.subarray(4).toString('hex')).toBe(f.frameHex)
      } else {
        const res = decodeResponse(frame, f.apiKey as never, f.apiVersion)
        expect(res.header.correlationId).toBe(f.correlationId)
        const again = Buffer.concat(encodeResponse(f.apiKey as never, f.apiVersion, f.correlationId, res.body as never))
        expect(again.subarray(4).toString('hex')).toBe(f.frameHex)
      }
    })
  }
})
