/**
 * The checker of the cluster fault tests (issue 13, in the style of Jepsen's): what the producers
 * were told (every acknowledged record: a unique value `<producer>-<seq>`, the partition and the
 * offset of its ack), what the partitions hold when read to their end from the current leaders,
 * what a consumer read along the way, and each replica's own log read from its data directory
 * once the brokers are stopped. It reports
 *   - lost: acknowledged, and not in the partition it was acknowledged for;
 *   - misplaced: there, at another offset than its ack said;
 *   - duplicated: one value stored at more than one offset;
 *   - reordered: a producer's records in one partition not in increasing sequence order;
 *   - divergent: two replicas of a partition with different batches below the smaller log end
 *     offset of the two (same offsets, different bytes, or batches that do not line up);
 *   - phantom reads: a value the consumer read that is not in the final log (a read past the
 *     high watermark of a write that was later truncated).
 * Every list must be empty. Pure functions on plain data (the unit test fabricates it), plus the
 * two readers: `readReplicaLog` (segment files) and `readPartitionsWithKcat`.
 */
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {iterateBatches} from '../../src/lib/records/batch.js'
import {decodeRecordBatch} from '../../src/lib/records/record.js'
import {kcat} from './peers.js'

export interface Ack {
  producer: string
  seq: number
  partition: number
  /**
   * The offset the client reported, or null when it reported none: librdkafka acknowledges a
   * message whose batch it resolved through the idempotence state without an answer carrying its
   * offset (confluent-kafka's Message.offset() is then None). Such an ack is checked for being
   * stored once in its partition, not at an offset.
   */
  offset: number | null
}

export interface StoredRecord {
  offset: number
  value: string
}

export interface ReplicaBatch {
  baseOffset: number
  lastOffset: number
  /** SHA-1 of the batch's bytes as stored. */
  digest: string
  /** For a report on a divergence: partitionLeaderEpoch, producer id/epoch, baseSequence, recordCount, crc. */
  describe?: string
}

export interface ReplicaLog {
  nodeId: number
  partition: number
  batches: ReplicaBatch[]
  /** lastOffset + 1 of the last batch (0 for an empty log). */
  logEndOffset: number
}

export interface CheckInput {
  acks: readonly Ack[]
  /** Each partition's records read to its end from its leader. */
  partitions: ReadonlyMap<number, readonly StoredRecord[]>
  /** Each replica's log, read from its data directory. */
  replicas?: readonly ReplicaLog[]
  /** What a consumer read while the test ran (partition, offset, value). */
  readAlong?: ReadonlyArray<StoredRecord & {partition: number}>
}

export interface CheckReport {
  acknowledged: number
  stored: number
  lost: Ack[]
  misplaced: Array<Ack & {storedAt: number[]}>
  duplicated: Array<{value: string; at: Array<{partition: number; offset: number}>}>
  reordered: Array<{producer: string; partition: number; offset: number; seq: number; previousSeq: number}>
  divergent: Array<{partition: number; nodes: [number, number]; offset: number; reason: string}>
  phantomReads: Array<StoredRecord & {partition: number}>
  /** Replicas whose log end offsets differ (not an error by itself: reported for reading). */
  logEndOffsets: Record<number, Record<number, number>>
  ok: boolean
}

export const valueOf = (producer: string, seq: number): string => `${producer}-${seq}`

/** `<producer>-<seq>` back into its parts; undefined for any other value. */
export function parseValue(value: string): {producer: string; seq: number} | undefined {
  const dash = value.lastIndexOf('-')
  if (dash <= 0) return undefined
  const seq = Number(value.slice(dash + 1))
  return Number.isSafeInteger(seq) && value.slice(dash + 1) !== '' ? {producer: value.slice(0, dash), seq} : undefined
}

export function check(input: CheckInput): CheckReport {
  // Where each value is stored.
  const where = new Map<string, Array<{partition: number; offset: number}>>()
  let stored = 0
  for (const [partition, records] of input.partitions) {
    for (const r of records) {
      stored++
      const at = where.get(r.value)
      if (at) at.push({partition, offset: r.offset})
      else where.set(r.value, [{partition, offset: r.offset}])
    }
  }
  const lost: CheckReport['lost'] = []
  const misplaced: CheckReport['misplaced'] = []
  for (const ack of input.acks) {
    const at = (where.get(valueOf(ack.producer, ack.seq)) ?? []).filter((w) => w.partition === ack.partition)
    if (at.length === 0) lost.push(ack)
    else if (ack.offset !== null && ack.offset >= 0 && !at.some((w) => w.offset === ack.offset)) misplaced.push({...ack, storedAt: at.map((w) => w.offset)})
  }
  const duplicated: CheckReport['duplicated'] = []
  for (const [value, at] of where) if (at.length > 1) duplicated.push({value, at})

  const reordered: CheckReport['reordered'] = []
  for (const [partition, records] of input.partitions) {
    const last = new Map<string, number>()
    for (const r of [...records].sort((a, b) => a.offset - b.offset)) {
      const parsed = parseValue(r.value)
      if (!parsed) continue
      const previous = last.get(parsed.producer)
      if (previous !== undefined && parsed.seq <= previous) reordered.push({producer: parsed.producer, partition, offset: r.offset, seq: parsed.seq, previousSeq: previous})
      last.set(parsed.producer, Math.max(parsed.seq, previous ?? -1))
    }
  }

  const divergent: CheckReport['divergent'] = []
  const logEndOffsets: CheckReport['logEndOffsets'] = {}
  const byPartition = new Map<number, ReplicaLog[]>()
  for (const replica of input.replicas ?? []) {
    byPartition.set(replica.partition, [...(byPartition.get(replica.partition) ?? []), replica])
    ;(logEndOffsets[replica.partition] ??= {})[replica.nodeId] = replica.logEndOffset
  }
  for (const [partition, replicas] of byPartition) {
    for (let i = 0; i < replicas.length; i++) {
      for (let j = i + 1; j < replicas.length; j++) {
        const difference = firstDifference(replicas[i]!, replicas[j]!)
        if (difference) divergent.push({partition, nodes: [replicas[i]!.nodeId, replicas[j]!.nodeId], ...difference})
      }
    }
  }

  const phantomReads = (input.readAlong ?? []).filter((r) => !(where.get(r.value) ?? []).some((w) => w.partition === r.partition && w.offset === r.offset))

  return {
    acknowledged: input.acks.length,
    stored,
    lost,
    misplaced,
    duplicated,
    reordered,
    divergent,
    phantomReads,
    logEndOffsets,
    ok: lost.length === 0 && misplaced.length === 0 && duplicated.length === 0 && reordered.length === 0 && divergent.length === 0 && phantomReads.length === 0,
  }
}

/** The first offset below both log end offsets where two replicas differ, or undefined. */
function firstDifference(a: ReplicaLog, b: ReplicaLog): {offset: number; reason: string} | undefined {
  const upTo = Math.min(a.logEndOffset, b.logEndOffset)
  const batchesOf = (r: ReplicaLog) => r.batches.filter((x) => x.baseOffset < upTo)
  const [xs, ys] = [batchesOf(a), batchesOf(b)]
  for (let k = 0; k < Math.max(xs.length, ys.length); k++) {
    const x = xs[k]
    const y = ys[k]
    if (!x || !y) return {offset: (x ?? y)!.baseOffset, reason: `a batch at ${(x ?? y)!.baseOffset} on node ${x ? a.nodeId : b.nodeId} only`}
    if (x.baseOffset !== y.baseOffset || x.lastOffset !== y.lastOffset) return {offset: Math.min(x.baseOffset, y.baseOffset), reason: `batches do not line up: ${x.baseOffset}..${x.lastOffset} on node ${a.nodeId}, ${y.baseOffset}..${y.lastOffset} on node ${b.nodeId}`}
    if (x.digest !== y.digest) return {offset: x.baseOffset, reason: `different bytes in the batch at ${x.baseOffset}${x.describe ? `: node ${a.nodeId} ${x.describe}, node ${b.nodeId} ${y.describe}` : ''}`}
  }
  return undefined
}

/**
 * A replica's log as stored in `<dataDir>/<topic>-<partition>/*.log` (segments in offset order):
 * the batches and their digests, and optionally the records' values (for a partition read
 * without a broker). Read after the broker has stopped.
 */
export async function readReplicaLog(dataDir: string, nodeId: number, topic: string, partition: number, opts: {values?: boolean} = {}): Promise<ReplicaLog & {records: StoredRecord[]}> {
  const dir = join(dataDir, `${topic}-${partition}`)
  const batches: ReplicaBatch[] = []
  const records: StoredRecord[] = []
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
      const bytes = readFileSync(join(dir, file))
      for (const {position, header} of iterateBatches(bytes)) {
        batches.push({
          baseOffset: header.baseOffset,
          lastOffset: header.lastOffset,
          digest: createHash('sha1').update(bytes.subarray(position, position + header.sizeInBytes)).digest('hex'),
          describe: `{leaderEpoch ${header.partitionLeaderEpoch}, producer ${header.producerId}/${header.producerEpoch}, baseSequence ${header.baseSequence}, records ${header.recordCount}, crc ${header.crc}}`,
        })
        if (opts.values && !header.isControl) {
          const decoded = await decodeRecordBatch(bytes, position)
          for (const r of decoded.records) records.push({offset: r.offset, value: r.value?.toString('utf8') ?? ''})
        }
      }
    }
  }
  return {nodeId, partition, batches, logEndOffset: batches.length === 0 ? 0 : batches.at(-1)!.lastOffset + 1, records}
}

/** Every partition of `topic` read from the beginning to its high watermark by kcat (librdkafka), as `offset value` lines. */
export async function readPartitionsWithKcat(bootstrap: string, topic: string, partitions: number, timeoutMs = 120_000): Promise<Map<number, StoredRecord[]>> {
  const out = await kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n', '-X', 'fetch.wait.max.ms=100'], {timeoutMs})
  const result = new Map<number, StoredRecord[]>(Array.from({length: partitions}, (_, p) => [p, []]))
  for (const line of out.stdout.toString('utf8').split('\n')) {
    if (line === '') continue
    const [p, o, ...rest] = line.split(' ')
    result.get(Number(p))?.push({offset: Number(o), value: rest.join(' ')})
  }
  return result
}

/** A report in a few lines, for people. */
export function summarize(report: CheckReport): string {
  const lines = [
    `acknowledged ${report.acknowledged}, stored ${report.stored}`,
    `lost ${report.lost.length}, misplaced ${report.misplaced.length}, duplicated ${report.duplicated.length}, reordered ${report.reordered.length}, divergent replicas ${report.divergent.length}, phantom reads ${report.phantomReads.length}`,
  ]
  const sample = <T>(name: string, xs: T[]) => {
    if (xs.length > 0) lines.push(`${name}: ${xs.slice(0, 5).map((x) => JSON.stringify(x)).join(' ')}${xs.length > 5 ? ` ... (${xs.length})` : ''}`)
  }
  sample('lost', report.lost)
  sample('misplaced', report.misplaced)
  sample('duplicated', report.duplicated)
  sample('reordered', report.reordered)
  sample('divergent', report.divergent)
  sample('phantom reads', report.phantomReads)
  return lines.join('\n')
}
