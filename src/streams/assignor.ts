/**
 * The Streams partition assignor (Kafka Streams' StreamsPartitionAssignor, protocol name `stream`):
 * the group leader assigns whole tasks, not partitions. Task `<sub-topology>_<p>` is partition p of
 * every input topic of the sub-topology (co-partitioned), so one member gets all of them.
 *
 * A member's subscription carries (as JSON user data) its process id, its `application.server`
 * endpoint, the tasks it ran and the tasks whose state it holds (standbys, state directories on
 * disk). The leader:
 *   1. gives each task to its previous active owner while that member is under its share
 *      (ceil(tasks / members)), then to a member holding the task's state, then to the least
 *      loaded member with the fewest tasks of the same sub-topology (so that each spreads);
 *   2. gives each stateful task `num.standby.replicas` standbys on other members, preferring members that
 *      hold its state, then the ones with the fewest standbys;
 *   3. writes to every member's assignment user data its active and standby tasks and, for
 *      interactive queries, which endpoint holds which tasks.
 * Kafka's SubscriptionInfo/AssignmentInfo are versioned binary formats; this one is JSON with a
 * version field: kcli Streams instances share a group with each other, not with JVM instances.
 */
import type {AssignmentWithUserData, Assignor, AssignorMember} from '../lib/client/assignors.js'

export const STREAMS_PROTOCOL = 'stream'

export interface SubscriptionInfo {
  version: 1
  processId: string
  endpoint: string | null
  /** Tasks this member ran before the rebalance. */
  active: string[]
  /** Tasks whose state this member holds (standbys, directories left on disk). */
  state: string[]
}

export interface AssignmentInfo {
  version: 1
  active: string[]
  standby: string[]
  /** endpoint → the tasks it runs and the ones it keeps standbys of. */
  hosts: Record<string, {active: string[]; standby: string[]}>
  /** Input topic → its sub-topology (partition p of the topic is in task `<sub-topology>_<p>`), for `kcli streams describe`. */
  topics?: Record<string, number>
}

/** A sub-topology's inputs, with the application id in internal topics' names. */
export interface TaskTopology {
  id: number
  sourceTopics: string[]
  /** Whether its tasks have logged stores (only those get standbys, as in Kafka Streams). */
  stateful: boolean
}

export function parseTaskId(id: string): {subtopology: number; partition: number} {
  const [sub, partition] = id.split('_').map(Number) as [number, number]
  return {partition, subtopology: sub}
}

/** Orders task ids as Kafka's TaskId does: by sub-topology, then partition. */
export function compareTaskIds(a: string, b: string): number {
  const x = parseTaskId(a)
  const y = parseTaskId(b)
  return x.subtopology - y.subtopology || x.partition - y.partition
}

/** Tasks of the topology for these partition counts, with their input partitions. */
export function tasksOf(subtopologies: readonly TaskTopology[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, {topic: string; partition: number}[]> {
  const tasks = new Map<string, {topic: string; partition: number}[]>()
  for (const sub of subtopologies) {
    const counts = sub.sourceTopics.map((t) => partitionsPerTopic.get(t) ?? 0)
    const n = Math.max(0, ...counts)
    for (let p = 0; p < n; p++) {
      tasks.set(
        `${sub.id}_${p}`,
        sub.sourceTopics.filter((_, i) => p < counts[i]!).map((topic) => ({partition: p, topic})),
      )
    }
  }
  return tasks
}

export function decodeSubscriptionInfo(userData: Buffer | null | undefined): SubscriptionInfo | undefined {
  if (!userData || userData.length === 0) return undefined
  try {
    const info = JSON.parse(userData.toString('utf8')) as SubscriptionInfo
    return info.version === 1 ? info : undefined
  } catch {
    return undefined
  }
}

export function decodeAssignmentInfo(userData: Buffer | null | undefined): AssignmentInfo | undefined {
  if (!userData || userData.length === 0) return undefined
  try {
    const info = JSON.parse(userData.toString('utf8')) as AssignmentInfo
    return info.version === 1 && Array.isArray(info.active) ? info : undefined
  } catch {
    return undefined
  }
}

/** Assigns tasks to members (pure: the assignor's decisions, tested without a broker). */
export function assignTasks(
  members: readonly {memberId: string; info: SubscriptionInfo | undefined}[],
  taskIds: readonly string[],
  numStandbys: number,
  stateful: (task: string) => boolean = () => true,
): Map<string, {active: string[]; standby: string[]}> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  const out = new Map(sorted.map((m) => [m.memberId, {active: [] as string[], standby: [] as string[]}]))
  if (sorted.length === 0) return out
  const capacity = Math.ceil(taskIds.length / sorted.length)
  const ordered = [...taskIds].sort((a, b) => {
    const x = parseTaskId(a)
    const y = parseTaskId(b)
    return x.partition - y.partition || x.subtopology - y.subtopology
  })
  const owner = new Map<string, string>()
  const give = (task: string, memberId: string) => {
    owner.set(task, memberId)
    out.get(memberId)!.active.push(task)
  }
  const under = (memberId: string) => out.get(memberId)!.active.length < capacity
  for (const task of ordered) {
    const prev = sorted.find((m) => m.info?.active.includes(task))
    if (prev && under(prev.memberId)) give(task, prev.memberId)
  }
  for (const task of ordered) {
    if (owner.has(task)) continue
    const holder = sorted.find((m) => m.info?.state.includes(task) && under(m.memberId))
    if (holder) give(task, holder.memberId)
  }
  // The rest: to the least loaded member, then the one with the fewest tasks of the same
  // sub-topology, so that each sub-topology spreads too.
  const sameSub = (memberId: string, task: string) => out.get(memberId)!.active.filter((t) => parseTaskId(t).subtopology === parseTaskId(task).subtopology).length
  for (const task of [...taskIds].sort(compareTaskIds)) {
    if (owner.has(task)) continue
    let best = sorted[0]!
    for (const m of sorted) {
      const d = out.get(m.memberId)!.active.length - out.get(best.memberId)!.active.length
      if (d < 0 || (d === 0 && sameSub(m.memberId, task) < sameSub(best.memberId, task))) best = m
    }
    give(task, best.memberId)
  }
  for (let r = 0; r < numStandbys; r++) {
    for (const task of ordered) {
      if (!stateful(task)) continue
      const candidates = sorted.filter((m) => m.memberId !== owner.get(task) && !out.get(m.memberId)!.standby.includes(task))
      if (candidates.length === 0) continue
      const holds = (m: (typeof sorted)[number]) => (m.info?.state.includes(task) || m.info?.active.includes(task) ? 0 : 1)
      candidates.sort((a, b) => holds(a) - holds(b) || out.get(a.memberId)!.standby.length - out.get(b.memberId)!.standby.length)
      out.get(candidates[0]!.memberId)!.standby.push(task)
    }
  }
  for (const a of out.values()) {
    a.active.sort(compareTaskIds)
    a.standby.sort(compareTaskIds)
  }
  return out
}

export class StreamsAssignor implements Assignor {
  readonly name = STREAMS_PROTOCOL

  constructor(
    private readonly subtopologies: () => readonly TaskTopology[],
    private readonly subscription: () => SubscriptionInfo,
    private readonly numStandbys: number,
  ) {}

  subscriptionUserData(): Buffer {
    return Buffer.from(JSON.stringify(this.subscription()))
  }

  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): AssignmentWithUserData {
    const subtopologies = this.subtopologies()
    const tasks = tasksOf(subtopologies, partitionsPerTopic)
    const infos = members.map((m) => ({info: decodeSubscriptionInfo(m.userData), memberId: m.memberId}))
    const stateful = new Set(subtopologies.filter((s) => s.stateful).map((s) => s.id))
    const byMember = assignTasks(infos, [...tasks.keys()], this.numStandbys, (task) => stateful.has(parseTaskId(task).subtopology))
    const hosts: AssignmentInfo['hosts'] = {}
    for (const m of infos) {
      const endpoint = m.info?.endpoint
      if (!endpoint) continue
      const a = byMember.get(m.memberId)!
      hosts[endpoint] = {active: a.active, standby: a.standby}
    }
    const topics = Object.fromEntries(subtopologies.flatMap((s) => s.sourceTopics.map((t): [string, number] => [t, s.id])))
    const partitions = new Map<string, {topic: string; partitions: number[]}[]>()
    const userData = new Map<string, Buffer>()
    for (const [memberId, a] of byMember) {
      const byTopic = new Map<string, number[]>()
      for (const task of a.active) for (const tp of tasks.get(task)!) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
      partitions.set(memberId, [...byTopic].sort(([x], [y]) => (x < y ? -1 : 1)).map(([topic, ps]) => ({partitions: ps.sort((x, y) => x - y), topic})))
      const info: AssignmentInfo = {active: a.active, hosts, standby: a.standby, topics, version: 1}
      userData.set(memberId, Buffer.from(JSON.stringify(info)))
    }
    return {partitions, userData}
  }
}
