// Which requests the dispatcher charges to which client quota (issue 15), as KafkaApis:
// - Produce with acks=0: producer_byte_rate is recorded (and may mute the connection), the
//   request time is not (the request quota is not enforced for acks=0: sendNoOpResponseExemptThrottle);
// - acks=1: both, the longer throttle answered;
// - a follower's Fetch and WriteTxnMarkers are exempt (sendResponseExemptThrottle);
// - the throttle comes with the instant it was computed, which the connection mutes from.
import {describe, expect, it} from 'vitest'
import {encodeRequest} from '../../src/lib/protocol/frame.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {applyQuotaAlterations, type StoredClientQuota} from '../../src/server/controller/metadata-store.js'
import type {BrokerServices} from '../../src/server/broker-services.js'
import {defineHandler} from '../../src/server/handlers/handler.js'
import type {ConnectionInfo} from '../../src/server/network/connection.js'
import {ClientQuotaManager} from '../../src/server/quotas/client-quota-manager.js'
import {HandlerRegistry} from '../../src/server/request-dispatcher.js'
import {ConnectionSecurity} from '../../src/server/security/connection-security.js'

function quotas(values: Record<string, number>): ClientQuotaManager {
  const all = new Map<string, StoredClientQuota>()
  applyQuotaAlterations(all, [{entity: {'client-id': 'c'}, set: values, remove: []}])
  return new ClientQuotaManager({clientQuotas: () => [...all.values()], clientQuotasVersion: () => 1})
}

// Handlers that answer at once (their time is the request time the quota sees).
const produce = defineHandler({apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 11, handle: (req) => (req.acks === 0 ? null : {responses: [], throttleTimeMs: 0})})
const fetch = defineHandler({apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 17, handle: () => ({throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: []})})
const markers = defineHandler({apiKey: ApiKey.WriteTxnMarkers, minVersion: 1, maxVersion: 1, handle: () => ({markers: []})})

const connection: ConnectionInfo = {id: 1, remoteAddress: '127.0.0.1', remotePort: 1, listenerName: 'PLAINTEXT', security: ConnectionSecurity.plaintext()}

function dispatcher(manager: ClientQuotaManager): HandlerRegistry {
  return new HandlerRegistry([produce, fetch, markers], () => ({quotas: manager}) as unknown as BrokerServices)
}

/** The frame of a request (without its size), client id c. */
function frameOf(apiKey: number, version: number, body: object): Buffer {
  return Buffer.concat(encodeRequest(apiKey as never, version, 7, 'c', body as never)).subarray(4)
}

const produceFrame = (acks: number) => frameOf(ApiKey.Produce, 9, {transactionalId: null, acks, timeoutMs: 1000, topicData: [{name: 't', partitionData: [{index: 0, records: Buffer.alloc(2000)}]}]})
const fetchFrame = (replicaId: number) =>
  frameOf(ApiKey.Fetch, 12, {replicaId, maxWaitMs: 0, minBytes: 1, maxBytes: 1000, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [], forgottenTopicsData: [], rackId: ''})

describe('what the dispatcher charges to client quotas', () => {
  it('acks=0 Produce: no request time recorded, so a request_percentage quota mutes nothing', async () => {
    // A share no request can stay under.
    const registry = dispatcher(quotas({request_percentage: 1e-9}))
    expect(await registry.dispatch(produceFrame(0), connection)).toBeNull()
    const answered = await registry.dispatch(produceFrame(1), connection)
    // acks=1: throttled, at most one window (ClientRequestQuotaManager bounds it).
    expect(answered!.throttleMs).toBeGreaterThan(0)
    expect(answered!.throttleMs).toBeLessThanOrEqual(1000)
    expect(answered!.throttleStartedMs).toBeGreaterThan(0)
  })

  it('acks=0 Produce over producer_byte_rate: no answer, but the connection is muted for the throttle', async () => {
    const registry = dispatcher(quotas({producer_byte_rate: 10}))
    const before = performance.now()
    const r = await registry.dispatch(produceFrame(0), connection)
    expect(r).toMatchObject({chunks: []})
    // ~2,000 bytes over a 10 s window at 10 B/s: (200 - 10) / 10 * 10 s.
    expect(r!.throttleMs).toBeGreaterThan(180_000)
    expect(r!.throttleStartedMs).toBeGreaterThanOrEqual(before)
  })

  it("a follower's Fetch and WriteTxnMarkers are never charged", async () => {
    const registry = dispatcher(quotas({request_percentage: 1e-9, consumer_byte_rate: 1}))
    expect((await registry.dispatch(fetchFrame(2), connection))!.throttleMs).toBeUndefined()
    expect((await registry.dispatch(frameOf(ApiKey.WriteTxnMarkers, 1, {markers: []}), connection))!.throttleMs).toBeUndefined()
    // A consumer's is.
    expect((await registry.dispatch(fetchFrame(-1), connection))!.throttleMs).toBeGreaterThan(0)
  })
})
