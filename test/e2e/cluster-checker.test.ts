/**
 * The fault tests' checker (test/e2e/cluster-checker.ts) on fabricated acks, partitions and
 * replica logs: a clean history reports nothing, and each kind of violation — an acknowledged
 * record lost, stored at another offset, stored twice, a producer's records out of order, two
 * replicas with different batches, a consumer that read a record the log no longer has — is
 * reported. Also reads real segment files written by buildRecordBatch.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {type Ack, check, parseValue, readReplicaLog, type ReplicaLog, type StoredRecord, summarize} from './cluster-checker.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {removeDir, tempDir} from './harness.js'

/** Producer `a` writes seq 0..n-1 round-robin over two partitions; every write acknowledged. */
function history(n: number): {acks: Ack[]; partitions: Map<number, StoredRecord[]>} {
  const partitions = new Map<number, StoredRecord[]>([[0, []], [1, []]])
  const acks: Ack[] = []
  for (let seq = 0; seq < n; seq++) {
    const partition = seq % 2
    const records = partitions.get(partition)!
    acks.push({producer: 'a', seq, partition, offset: records.length})
    records.push({offset: records.length, value: `a-${seq}`})
  }
  return {acks, partitions}
}

const replica = (nodeId: number, partition: number, digests: string[]): ReplicaLog => ({
  nodeId,
  partition,
  batches: digests.map((digest, i) => ({baseOffset: i * 2, lastOffset: i * 2 + 1, digest})),
  logEndOffset: digests.length * 2,
})

describe('cluster fault checker', () => {
  it('reports nothing on a clean history', () => {
    const {acks, partitions} = history(10)
    const report = check({acks, partitions, replicas: [replica(1, 0, ['x', 'y']), replica(2, 0, ['x', 'y']), replica(3, 0, ['x'])], readAlong: [{partition: 0, offset: 0, value: 'a-0'}]})
    expect(report).toMatchObject({acknowledged: 10, stored: 10, lost: [], misplaced: [], duplicated: [], reordered: [], divergent: [], phantomReads: [], ok: true})
    expect(summarize(report)).toContain('lost 0, misplaced 0, duplicated 0, reordered 0, divergent replicas 0, phantom reads 0')
  })

  it('an unacknowledged record missing, or one written without an ack, is not a violation', () => {
    const {acks, partitions} = history(10)
    partitions.get(0)!.push({offset: 5, value: 'a-10'}) // written, never acknowledged
    expect(check({acks: acks.filter((a) => a.seq !== 3), partitions}).ok).toBe(true)
  })

  it('an ack without an offset (librdkafka resolved it through the idempotence state) is checked for presence only', () => {
    const {acks, partitions} = history(10)
    const withoutOffset = acks.map((a) => (a.seq === 4 ? {...a, offset: null} : a))
    expect(check({acks: withoutOffset, partitions}).ok).toBe(true)
    const p0 = partitions.get(0)!.filter((r) => r.value !== 'a-4')
    expect(check({acks: withoutOffset, partitions: new Map([...partitions, [0, p0]])}).lost.map((a) => a.seq)).toEqual([4])
  })

  it('catches an acknowledged record that is lost', () => {
    const {acks, partitions} = history(10)
    // The leader lost a_4 (partition 0, offset 2) and later offsets moved down.
    const p0 = partitions.get(0)!.filter((r) => r.value !== 'a-4').map((r, i) => ({...r, offset: i}))
    partitions.set(0, p0)
    const report = check({acks, partitions})
    expect(report.ok).toBe(false)
    expect(report.lost).toEqual([{producer: 'a', seq: 4, partition: 0, offset: 2}])
    expect(report.misplaced.map((m) => m.seq)).toEqual([6, 8])
    expect(summarize(report)).toMatch(/lost 1,/)
  })

  it('catches an acknowledged record in another partition than its ack said', () => {
    const {acks, partitions} = history(4)
    partitions.get(0)!.splice(1, 1) // a-2 gone from partition 0...
    partitions.get(1)!.push({offset: 2, value: 'a-2'}) // ...and in partition 1
    const report = check({acks, partitions})
    expect(report.lost.map((a) => a.seq)).toEqual([2])
  })

  it('catches duplicates and reordering', () => {
    const {acks, partitions} = history(10)
    partitions.get(1)!.push({offset: 5, value: 'a-3'}) // a retry written twice
    const report = check({acks, partitions})
    expect(report.duplicated).toEqual([{value: 'a-3', at: [{partition: 1, offset: 1}, {partition: 1, offset: 5}]}])
    expect(report.reordered).toEqual([{producer: 'a', partition: 1, offset: 5, seq: 3, previousSeq: 9}])

    const swapped = history(10)
    const p0 = swapped.partitions.get(0)!
    ;[p0[1]!.value, p0[2]!.value] = [p0[2]!.value, p0[1]!.value]
    const r2 = check(swapped)
    expect(r2.reordered).toEqual([{producer: 'a', partition: 0, offset: 2, seq: 2, previousSeq: 4}])
    expect(r2.misplaced.map((m) => m.seq).sort()).toEqual([2, 4])
  })

  it('catches replicas that diverge below their common log end, and not beyond it', () => {
    const {acks, partitions} = history(2)
    const diverged = check({acks, partitions, replicas: [replica(1, 0, ['x', 'y', 'z']), replica(2, 0, ['x', 'Y'])]})
    expect(diverged.divergent).toEqual([{partition: 0, nodes: [1, 2], offset: 2, reason: 'different bytes in the batch at 2'}])
    const misaligned: ReplicaLog = {nodeId: 3, partition: 0, batches: [{baseOffset: 0, lastOffset: 2, digest: 'q'}], logEndOffset: 3}
    expect(check({acks, partitions, replicas: [replica(1, 0, ['x', 'y']), misaligned]}).divergent[0]!.reason).toMatch(/do not line up/)
    // A longer log on one replica is not divergence.
    expect(check({acks, partitions, replicas: [replica(1, 0, ['x', 'y', 'z']), replica(2, 0, ['x'])]}).divergent).toEqual([])
  })

  it('catches a consumer that read a record the final log does not have', () => {
    const {acks, partitions} = history(4)
    const report = check({acks, partitions, readAlong: [{partition: 0, offset: 2, value: 'a-99'}]})
    expect(report.phantomReads).toEqual([{partition: 0, offset: 2, value: 'a-99'}])
    expect(report.ok).toBe(false)
  })

  it('parses values', () => {
    expect(parseValue('librdkafka0.1-42')).toEqual({producer: 'librdkafka0.1', seq: 42})
    expect(parseValue('plain')).toBeUndefined()
    expect(parseValue('x-')).toBeUndefined()
  })

  const dirs: string[] = []
  afterAll(() => dirs.forEach(removeDir))

  it('reads a replica log from its segment files, and two copies of it do not diverge', async () => {
    const dataDir = tempDir('kcli-checker-')
    dirs.push(dataDir)
    mkdirSync(join(dataDir, 't-0'))
    const first = await buildRecordBatch({baseOffset: 0, records: [{value: Buffer.from('a-0')}, {value: Buffer.from('a-1')}]})
    const second = await buildRecordBatch({baseOffset: 2, records: [{value: Buffer.from('a-2')}]})
    writeFileSync(join(dataDir, 't-0', '00000000000000000000.log'), first)
    writeFileSync(join(dataDir, 't-0', '00000000000000000002.log'), second)
    const log = await readReplicaLog(dataDir, 1, 't', 0, {values: true})
    expect(log.logEndOffset).toBe(3)
    expect(log.records).toEqual([{offset: 0, value: 'a-0'}, {offset: 1, value: 'a-1'}, {offset: 2, value: 'a-2'}])
    const copy = await readReplicaLog(dataDir, 2, 't', 0)
    expect(check({acks: [], partitions: new Map([[0, log.records]]), replicas: [log, {...copy, nodeId: 2}]}).divergent).toEqual([])
    expect((await readReplicaLog(dataDir, 1, 'missing', 0)).logEndOffset).toBe(0)
  })
})
