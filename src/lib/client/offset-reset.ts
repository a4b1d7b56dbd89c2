// New committed offsets for a group's partitions, as kafka-consumer-groups --reset-offsets and
// kafka-streams-application-reset compute them: to the earliest or latest offset, to an offset,
// shifted from the committed one, or to the first offset at or after a time; always kept within
// the partition's earliest..latest. Shared by `kcli groups reset-offsets` and `kcli streams reset`.

import {KafkaError} from '../cli/errors.js'
import {type Admin, type CommittedOffset, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP} from './admin.js'

export type ResetSpec = {mode: 'to-earliest'} | {mode: 'to-latest'} | {mode: 'to-offset'; offset: bigint} | {mode: 'shift-by'; by: number} | {mode: 'to-time'; time: number}

export interface ResetPartition {
  topic: string
  partition: number
  /** The committed offset before; null when there was none. */
  currentOffset: bigint | null
  newOffset: bigint
}

export async function computeResetOffsets(admin: Admin, partitions: readonly {topic: string; partition: number}[], committed: readonly CommittedOffset[], spec: ResetSpec): Promise<ResetPartition[]> {
  if (partitions.length === 0) return []
  const current = (p: {topic: string; partition: number}) => {
    const c = committed.find((x) => x.topic === p.topic && x.partition === p.partition && x.errorCode === 0 && x.offset >= 0n)
    return c ? c.offset : null
  }
  const list = (timestamp: bigint) => admin.listOffsets(partitions.map((p) => ({partition: p.partition, timestamp, topic: p.topic})))
  const [earliest, latest, byTime] = await Promise.all([list(EARLIEST_TIMESTAMP), list(LATEST_TIMESTAMP), spec.mode === 'to-time' ? list(BigInt(spec.time)) : Promise.resolve(undefined)])
  const failed = [...earliest, ...latest, ...(byTime ?? [])].filter((o) => o.errorCode !== 0)
  if (failed.length > 0) throw KafkaError.fromCode(failed[0]!.errorCode, `${failed[0]!.topic}-${failed[0]!.partition}`)
  return partitions.map((p, i) => {
    const low = earliest[i]!.offset
    const high = latest[i]!.offset
    const now = current(p)
    let offset: bigint
    switch (spec.mode) {
      case 'to-earliest': offset = low; break
      case 'to-latest': offset = high; break
      case 'to-offset': offset = spec.offset; break
      case 'shift-by': offset = (now ?? high) + BigInt(spec.by); break
      default: offset = byTime![i]!.offset < 0n ? high : byTime![i]!.offset
    }
    if (offset < low) offset = low
    if (offset > high) offset = high
    return {currentOffset: now, newOffset: offset, partition: p.partition, topic: p.topic}
  })
}
