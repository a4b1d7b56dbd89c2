/**
 * Server-side partition assignors of KIP-848 consumer groups (group.consumer.assignors): the
 * coordinator computes each member's target assignment from the members' subscriptions and the
 * topics' partition counts. Both are deterministic: the same members, subscriptions, topics and
 * current assignment always give the same result.
 *
 * uniform (Kafka's default): every partition of a subscribed topic goes to one of its
 * subscribers; members end up with as equal a number of partitions as their subscriptions allow.
 * Sticky: a member keeps the partitions it has as long as it stays under its fair share, so a
 * member joining or leaving moves only the partitions that must move. Then unowned partitions go
 * to the subscriber with the fewest partitions, and a final pass moves partitions from the most
 * to the least loaded subscriber until no two subscribers of a topic differ by more than one.
 *
 * range: per topic, the subscribers in member-id order each get a contiguous range of
 * partitions; the first (partitions % subscribers) members get one more (Kafka's RangeAssignor
 * arithmetic, so topics with the same partition count are co-partitioned). Not sticky.
 */

/** topic id -> partitions. */
export type Assignment = Map<string, Set<number>>

export interface AssignmentMemberSpec {
  /** Topic ids the member subscribes to (topics that do not exist are left out). */
  subscribedTopicIds: ReadonlySet<string>
  rackId: string | null
  /** The member's current target assignment (for stickiness). */
  current: Assignment
}

export interface AssignmentSpec {
  members: ReadonlyMap<string, AssignmentMemberSpec>
  /** topic id -> partition count. */
  topics: ReadonlyMap<string, number>
}

export interface PartitionAssignor {
  readonly name: string
  assign(spec: AssignmentSpec): Map<string, Assignment>
}

function emptyResult(spec: AssignmentSpec): Map<string, Assignment> {
  const result = new Map<string, Assignment>()
  for (const memberId of [...spec.members.keys()].sort()) result.set(memberId, new Map())
  return result
}

function add(assignment: Assignment, topicId: string, partition: number): void {
  let set = assignment.get(topicId)
  if (!set) assignment.set(topicId, (set = new Set()))
  set.add(partition)
}

function remove(assignment: Assignment, topicId: string, partition: number): void {
  const set = assignment.get(topicId)
  if (!set) return
  set.delete(partition)
  if (set.size === 0) assignment.delete(topicId)
}

function countOf(assignment: Assignment): number {
  let n = 0
  for (const s of assignment.values()) n += s.size
  return n
}

export const uniformAssignor: PartitionAssignor = {
  name: 'uniform',
  assign(spec) {
    const result = emptyResult(spec)
    const memberIds = [...result.keys()]
    const topicIds = [...spec.topics.keys()].filter((t) => memberIds.some((m) => spec.members.get(m)!.subscribedTopicIds.has(t))).sort()
    const subscribers = new Map(topicIds.map((t) => [t, memberIds.filter((m) => spec.members.get(m)!.subscribedTopicIds.has(t))]))
    // Fair share of each member: its part of every topic it subscribes to, rounded up.
    const share = new Map<string, number>()
    for (const m of memberIds) {
      let s = 0
      for (const t of topicIds) if (subscribers.get(t)!.includes(m)) s += spec.topics.get(t)! / subscribers.get(t)!.length
      share.set(m, Math.ceil(s - 1e-9))
    }
    const counts = new Map(memberIds.map((m) => [m, 0]))
    const owner = new Map<string, string>()
    const key = (t: string, p: number) => `${t}:${p}`
    // 1. Sticky: keep current partitions that are still valid, up to the fair share.
    for (const m of memberIds) {
      const current = spec.members.get(m)!.current
      for (const t of [...current.keys()].sort()) {
        if (!subscribers.get(t)?.includes(m)) continue
        for (const p of [...current.get(t)!].sort((a, b) => a - b)) {
          if (p >= spec.topics.get(t)! || owner.has(key(t, p)) || counts.get(m)! >= share.get(m)!) continue
          owner.set(key(t, p), m)
          add(result.get(m)!, t, p)
          counts.set(m, counts.get(m)! + 1)
        }
      }
    }
    // 2. Unowned partitions to the least loaded subscriber (topics with fewer subscribers first).
    const order = [...topicIds].sort((a, b) => subscribers.get(a)!.length - subscribers.get(b)!.length || (a < b ? -1 : 1))
    for (const t of order) {
      const subs = subscribers.get(t)!
      for (let p = 0; p < spec.topics.get(t)!; p++) {
        if (owner.has(key(t, p))) continue
        let best = subs[0]!
        for (const m of subs) if (counts.get(m)! < counts.get(best)!) best = m
        owner.set(key(t, p), best)
        add(result.get(best)!, t, p)
        counts.set(best, counts.get(best)! + 1)
      }
    }
    // 3. Balance: move partitions from a subscriber that has two or more than another.
    for (let moved = true, rounds = 0; moved && rounds < 10_000; rounds++) {
      moved = false
      for (const t of order) {
        const subs = subscribers.get(t)!
        for (let p = 0; p < spec.topics.get(t)!; p++) {
          const from = owner.get(key(t, p))!
          let to = from
          for (const m of subs) if (counts.get(m)! < counts.get(to)!) to = m
          if (counts.get(from)! - counts.get(to)! < 2) continue
          remove(result.get(from)!, t, p)
          add(result.get(to)!, t, p)
          owner.set(key(t, p), to)
          counts.set(from, counts.get(from)! - 1)
          counts.set(to, counts.get(to)! + 1)
          moved = true
        }
      }
    }
    return result
  },
}

export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  assign(spec) {
    const result = emptyResult(spec)
    const memberIds = [...result.keys()]
    for (const t of [...spec.topics.keys()].sort()) {
      const subs = memberIds.filter((m) => spec.members.get(m)!.subscribedTopicIds.has(t))
      if (subs.length === 0) continue
      const partitions = spec.topics.get(t)!
      const base = Math.floor(partitions / subs.length)
      const extra = partitions % subs.length
      let next = 0
      subs.forEach((m, i) => {
        const n = base + (i < extra ? 1 : 0)
        for (let k = 0; k < n; k++) add(result.get(m)!, t, next++)
      })
    }
    return result
  },
}

export const ASSIGNORS: ReadonlyMap<string, PartitionAssignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
])

export function assignmentSize(a: Assignment): number {
  return countOf(a)
}

export function cloneAssignment(a: Assignment): Assignment {
  return new Map([...a].map(([t, s]) => [t, new Set(s)]))
}

export function assignmentsEqual(a: Assignment, b: Assignment): boolean {
  if (a.size !== b.size) return false
  for (const [t, s] of a) {
    const o = b.get(t)
    if (!o || o.size !== s.size) return false
    for (const p of s) if (!o.has(p)) return false
  }
  return true
}
