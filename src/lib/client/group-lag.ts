// A consumer group's committed offsets next to the partitions' latest offsets: the lag that
// `kcli groups list|describe` show, as kafka-consumer-groups --describe computes it.

import {type Admin, type GroupDescription, LATEST_TIMESTAMP} from './admin.js'

export interface PartitionLag {
  topic: string
  partition: number
  /** The committed offset; null when the group has none for the partition (an assigned partition not yet committed). */
  currentOffset: bigint | null
  endOffset: bigint | null
  lag: bigint | null
  memberId: string | null
  clientId: string | null
  host: string | null
}

/** Lag per partition: partitions with committed offsets, plus partitions assigned to members. */
export async function groupLag(admin: Admin, groupId: string, description?: GroupDescription): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets(groupId)
  const rows = new Map<string, PartitionLag>()
  const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`
  for (const c of committed) {
    if (c.errorCode !== 0 || c.offset < 0n) continue
    rows.set(keyOf(c.topic, c.partition), {clientId: null, currentOffset: c.offset, endOffset: null, host: null, lag: null, memberId: null, partition: c.partition, topic: c.topic})
  }
  for (const member of description?.members ?? []) {
    for (const assigned of member.assignment) {
      for (const partition of assigned.partitions) {
        const k = keyOf(assigned.topic, partition)
        const row = rows.get(k) ?? {clientId: null, currentOffset: null, endOffset: null, host: null, lag: null, memberId: null, partition, topic: assigned.topic}
        row.memberId = member.memberId
        row.clientId = member.clientId
        row.host = member.clientHost
        rows.set(k, row)
      }
    }
  }
  const list = [...rows.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
  if (list.length === 0) return list
  const latest = await admin.listOffsets(list.map((r) => ({partition: r.partition, timestamp: LATEST_TIMESTAMP, topic: r.topic})))
  list.forEach((row, i) => {
    const end = latest[i]!
    if (end.errorCode !== 0) return
    row.endOffset = end.offset
    if (row.currentOffset !== null) row.lag = end.offset > row.currentOffset ? end.offset - row.currentOffset : 0n
  })
  return list
}
