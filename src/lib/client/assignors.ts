// Partition assignors of the classic consumer group protocol, computed by the group leader, with
// the Java client's names and results so that kcli can share a group with Java consumers:
// - range (RangeAssignor): per topic, partitions in order, members sorted by member id; each of
//   the first (partitions % members) members gets one extra partition.
// - roundrobin (RoundRobinAssignor): every topic-partition sorted by topic then partition, dealt
//   to the members (sorted by id) in turn, skipping members not subscribed to the topic.

export interface AssignorMember {
  memberId: string
  topics: readonly string[]
  /** The subscription's user data (what a custom assignor's members tell the leader). */
  userData?: Buffer | null
}

export type Assignment = Map<string, {topic: string; partitions: number[]}[]>

/** A custom assignor's result: partitions and user data (e.g. the Streams assignor's tasks) per member. */
export interface AssignmentWithUserData {
  partitions: Assignment
  userData: Map<string, Buffer>
}

export interface Assignor {
  name: string
  /** The user data of this member's subscription, asked at each join. */
  subscriptionUserData?(): Buffer | null
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment | AssignmentWithUserData | Promise<AssignmentWithUserData>
}

/** An assignor of partitions only (range, roundrobin). */
export interface PartitionAssignor extends Assignor {
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment
}

function emptyAssignment(members: readonly AssignorMember[]): Map<string, Map<string, number[]>> {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]))
}

function toAssignment(raw: Map<string, Map<string, number[]>>): Assignment {
  return new Map([...raw].map(([member, topics]) => [member, [...topics].map(([topic, partitions]) => ({partitions, topic}))]))
}

function byMemberId(a: AssignorMember, b: AssignorMember): number {
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0
}

export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members)
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort()
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic)
      if (count === undefined) continue
      const consumers = members.filter((m) => m.topics.includes(topic)).sort(byMemberId)
      const perMember = Math.floor(count / consumers.length)
      const extra = count % consumers.length
      consumers.forEach((member, i) => {
        const start = perMember * i + Math.min(i, extra)
        const length = perMember + (i < extra ? 1 : 0)
        if (length === 0) return
        out.get(member.memberId)!.set(topic, Array.from({length}, (_, j) => start + j))
      })
    }
    return toAssignment(out)
  },
}

export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members)
    const sorted = [...members].sort(byMemberId)
    const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => partitionsPerTopic.has(t)).sort()
    let next = 0
    for (const topic of topics) {
      for (let partition = 0; partition < partitionsPerTopic.get(topic)!; partition++) {
        // The next member (cyclically) subscribed to this topic.
        for (let tries = 0; tries < sorted.length; tries++) {
          const member = sorted[next % sorted.length]!
          next++
          if (!member.topics.includes(topic)) continue
          const topicsOfMember = out.get(member.memberId)!
          topicsOfMember.set(topic, [...(topicsOfMember.get(topic) ?? []), partition])
          break
        }
      }
    }
    return toAssignment(out)
  },
}

export const ASSIGNORS: Record<string, PartitionAssignor> = {range: rangeAssignor, roundrobin: roundRobinAssignor}
