// Kafka Connect's group protocol: bytes built field by field from the schemas of Kafka's
// ConnectProtocol and IncrementalCooperativeConnectProtocol (CONFIG_STATE_V0, ALLOCATION_V1,
// ASSIGNMENT_V0/V1, CONNECTOR_ASSIGNMENT_V0), compared with our encoder, and decoded back.
import {describe, expect, it} from 'vitest'
import {decodeConnectAssignment, decodeWorkerState, emptyAssignment, encodeConnectAssignment, encodeWorkerState, joinProtocols} from '../../../../src/lib/connect/distributed/connect-protocol.js'
import {ProtocolDecodeError} from '../../../../src/lib/protocol/errors.js'

const int16 = (v: number) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b }
const int32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b }
const int64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return b }
const str = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)])
const bytes = (b: Buffer | null) => b === null ? int32(-1) : Buffer.concat([int32(b.length), b])
/** [Connector string, Tasks [int32]] entries. */
const entries = (list: Array<[string, number[]]>) => Buffer.concat([int32(list.length), ...list.map(([c, tasks]) => Buffer.concat([str(c), int32(tasks.length), ...tasks.map(int32)]))])

describe('Connect protocol (Kafka ConnectProtocol / IncrementalCooperativeConnectProtocol)', () => {
  it('V0 metadata: Version, Url, ConfigOffset', () => {
    const expected = Buffer.concat([int16(0), str('http://10.0.0.1:8083/'), int64(42n)])
    const encoded = encodeWorkerState({allocation: null, configOffset: 42n, url: 'http://10.0.0.1:8083/'}, 0)
    expect(encoded.equals(expected)).toBe(true)
    expect(decodeWorkerState(expected)).toEqual({allocation: null, configOffset: 42n, url: 'http://10.0.0.1:8083/', version: 0})
  })

  it('V1 and V2 metadata: the allocation is the current assignment (its own version header) as nullable bytes', () => {
    const allocation = {...emptyAssignment('w1-abc', 'http://w1:8083/', 7n), connectors: ['a'], tasks: [{connector: 'a', task: 0}, {connector: 'b', task: 2}]}
    for (const version of [1, 2]) {
      const assignmentBytes = Buffer.concat([int16(version), int16(0), str('w1-abc'), str('http://w1:8083/'), int64(7n), entries([['a', [-1, 0]], ['b', [2]]]), entries([]), int32(0)])
      const expected = Buffer.concat([int16(version), str('http://w2:8083/'), int64(9n), bytes(assignmentBytes)])
      const encoded = encodeWorkerState({allocation, configOffset: 9n, url: 'http://w2:8083/'}, version)
      expect(encoded.equals(expected)).toBe(true)
      const decoded = decodeWorkerState(expected)
      expect(decoded.allocation?.connectors).toEqual(['a'])
      expect(decoded.allocation?.tasks).toEqual([{connector: 'a', task: 0}, {connector: 'b', task: 2}])
    }
    // No assignment yet: null bytes (-1).
    const none = Buffer.concat([int16(1), str('http://w2:8083/'), int64(-1n), int32(-1)])
    expect(encodeWorkerState({allocation: null, configOffset: -1n, url: 'http://w2:8083/'}, 1).equals(none)).toBe(true)
    expect(decodeWorkerState(none).allocation).toBeNull()
  })

  it('V0 assignment: Error, Leader, LeaderUrl, ConfigOffset, Assignment (-1 for the connector itself); no revoked, no delay', () => {
    const a = {...emptyAssignment('leader-1', 'http://l:8083/', 12n), connectors: ['sink'], tasks: [{connector: 'sink', task: 0}, {connector: 'sink', task: 1}, {connector: 'src', task: 0}]}
    const expected = Buffer.concat([int16(0), int16(0), str('leader-1'), str('http://l:8083/'), int64(12n), entries([['sink', [-1, 0, 1]], ['src', [0]]])])
    expect(encodeConnectAssignment(a, 0).equals(expected)).toBe(true)
    expect(decodeConnectAssignment(expected)).toEqual({...a, version: 0})
  })

  it('V1 assignment: the V0 fields, Revoked, ScheduledDelay; missing trailing fields take their defaults', () => {
    const a = {...emptyAssignment('leader-1', 'http://l:8083/', 3n), connectors: [], delay: 5000, error: 1, revokedConnectors: ['x'], revokedTasks: [{connector: 'x', task: 4}], tasks: [{connector: 'y', task: 0}]}
    const expected = Buffer.concat([int16(1), int16(1), str('leader-1'), str('http://l:8083/'), int64(3n), entries([['y', [0]]]), entries([['x', [-1, 4]]]), int32(5000)])
    expect(encodeConnectAssignment(a, 1).equals(expected)).toBe(true)
    expect(decodeConnectAssignment(expected)).toEqual({...a, version: 1})
    // TOLERATE_MISSING_FIELDS_WITH_DEFAULTS: a V1 assignment written without Revoked and ScheduledDelay; and null arrays.
    const short = Buffer.concat([int16(1), int16(0), str('l'), str('u'), int64(0n), int32(-1)])
    expect(decodeConnectAssignment(short)).toMatchObject({connectors: [], delay: 0, revokedConnectors: [], revokedTasks: [], tasks: []})
  })

  it('protocols in Kafka\'s order of preference; truncated input fails with a location', () => {
    const state = {allocation: null, configOffset: 0n, url: 'http://w:1/'}
    expect(joinProtocols('sessioned', state).map(p => p.name)).toEqual(['sessioned', 'compatible', 'default'])
    expect(joinProtocols('compatible', state).map(p => p.name)).toEqual(['compatible', 'default'])
    expect(joinProtocols('default', state).map(p => p.name)).toEqual(['default'])
    expect(joinProtocols('sessioned', state)[0]!.metadata.readInt16BE(0)).toBe(2)
    expect(() => decodeConnectAssignment(Buffer.concat([int16(1), int16(0), str('leader')]))).toThrow(ProtocolDecodeError)
  })
})
