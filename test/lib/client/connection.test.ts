import {afterEach, describe, expect, it} from 'vitest'

import {Connection} from '../../../src/lib/client/connection.js'
import {ConnectionError, KafkaError} from '../../../src/lib/client/errors.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {apiVersionsBody, type FakeBroker, fakeBroker} from './fake-broker.js'

let broker: FakeBroker | undefined
afterEach(async () => {
  await broker?.close()
  broker = undefined
})

describe('Connection', () => {
  it('negotiates: sends each request at the highest version both sides have', async () => {
    broker = await fakeBroker((r) => {
      if (r.apiKey === ApiKey.ApiVersions) return apiVersionsBody({[ApiKey.ApiVersions]: [0, 3], [ApiKey.Metadata]: [0, 7]})
      if (r.apiKey === ApiKey.Metadata) return {brokers: [{host: 'h', nodeId: 5, port: 1}], controllerId: 5, topics: []}
      return undefined
    })
    const connection = await Connection.connect({host: '127.0.0.1', port: broker.port})
    expect(connection.versionFor(ApiKey.Metadata)).toBe(7)
    expect(connection.versionFor(ApiKey.Metadata, {maxVersion: 4})).toBe(4)
    expect(connection.supports(ApiKey.Produce)).toBe(false)
    const metadata = await connection.send(ApiKey.Metadata, {topics: null})
    expect(metadata.brokers[0]!.nodeId).toBe(5)
    expect(broker.requests.map((r) => [r.apiKey, r.apiVersion])).toEqual([[ApiKey.ApiVersions, 3], [ApiKey.Metadata, 7]])
    expect(() => connection.versionFor(ApiKey.Produce)).toThrow(KafkaError)
    await expect(connection.send(ApiKey.Produce, {})).rejects.toThrow(/does not support Produce/)
    connection.close()
  })

  it('falls back to ApiVersions v0 when the broker answers v3 with UNSUPPORTED_VERSION (KIP-511)', async () => {
    broker = await fakeBroker((r) => {
      if (r.apiKey === ApiKey.ApiVersions && r.apiVersion === 3) {
        // A v0 body: error 35 and the broker's ranges.
        const body = Buffer.alloc(2 + 4 + 6)
        body.writeInt16BE(35, 0)
        body.writeInt32BE(1, 2)
        body.writeInt16BE(ApiKey.ApiVersions, 6)
        body.writeInt16BE(0, 8)
        body.writeInt16BE(2, 10)
        return {raw: body}
      }
      if (r.apiKey === ApiKey.ApiVersions) return apiVersionsBody({[ApiKey.ApiVersions]: [0, 2], [ApiKey.Metadata]: [1, 5]})
      return undefined
    })
    const connection = await Connection.connect({host: '127.0.0.1', port: broker.port})
    expect(broker.requests.map((r) => r.apiVersion)).toEqual([3, 0])
    expect(connection.versionFor(ApiKey.Metadata)).toBe(5)
    connection.close()
  })

  it('pipelines requests and matches responses by correlation id', async () => {
    broker = await fakeBroker((r) => {
      if (r.apiKey === ApiKey.ApiVersions) return apiVersionsBody({[ApiKey.ApiVersions]: [0, 3], [ApiKey.Metadata]: [0, 12]})
      return {brokers: [], clusterId: `c${r.correlationId}`, controllerId: r.correlationId, topics: []}
    })
    const connection = await Connection.connect({host: '127.0.0.1', port: broker.port})
    const responses = await Promise.all(Array.from({length: 50}, () => connection.send(ApiKey.Metadata, {topics: []})))
    const ids = responses.map((r) => r.controllerId)
    expect(new Set(ids).size).toBe(50)
    expect(responses.every((r) => r.clusterId === `c${r.controllerId}`)).toBe(true)
    connection.close()
  })

  it('times a request out and fails everything in flight with ConnectionError', async () => {
    broker = await fakeBroker((r) => (r.apiKey === ApiKey.ApiVersions ? apiVersionsBody({[ApiKey.ApiVersions]: [0, 3], [ApiKey.Metadata]: [0, 12]}) : undefined))
    const connection = await Connection.connect({host: '127.0.0.1', port: broker.port}, {requestTimeoutMs: 200})
    const a = connection.send(ApiKey.Metadata, {topics: []})
    const b = connection.send(ApiKey.Metadata, {topics: []}, {timeoutMs: 10_000})
    await expect(a).rejects.toThrow(/timed out after 200 ms/)
    await expect(b).rejects.toBeInstanceOf(ConnectionError)
    expect(connection.closed).toBe(true)
  })

  it('reports a refused connection', async () => {
    await expect(Connection.connect({host: '127.0.0.1', port: 1})).rejects.toThrow('cannot connect to 127.0.0.1:1: ECONNREFUSED')
  })
})
