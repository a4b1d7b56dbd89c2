// Partition reassignment plans, without IO: Kafka's JSON formats (kafka-reassign-partitions.sh's
// reassignment file and topics-to-move file, kafka-leader-election.sh's partitions file), the
// checks Kafka's tool makes before it sends anything, plan generation, and the replication
// throttle values a plan needs.
//
// - Reassignment JSON: {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2],
//   "log_dirs":["any","any"]}]}, written as Kafka's formatAsReassignmentJson writes it (compact,
//   sorted by topic and partition). log_dirs is optional; a directory other than "any" would need
//   AlterReplicaLogDirs, which kcli does not send, so such a plan is refused.
// - Generation with --broker-list is Kafka's rack-unaware AdminUtils.assignReplicasToBrokers, with
//   a fixed start index (Kafka's tool picks a random one, so its plans differ from run to run):
//   every partition may move. `balancedAssignment` is kcli's own (--add-broker/--remove-broker):
//   it keeps every replica it can, moves replicas off removed brokers, then moves single replicas
//   from the most to the least loaded broker until each topic and the whole set are within one
//   replica per broker, and finally reorders replicas (no data moves) so that preferred leaders
//   are spread too.
// - Throttles: Kafka's calculateProposedMoveMap / calculateLeaderThrottles /
//   calculateFollowerThrottles — leader.replication.throttled.replicas lists every current
//   replica of a moving partition ("partition:broker", sorted as strings, as Kafka's TreeSet),
//   follower.replication.throttled.replicas every new one.

import {UsageError} from '../cli/errors.js'

/** One partition of a plan. */
export interface PlannedPartition {
  topic: string
  partition: number
  replicas: number[]
  /** Kafka's log_dirs: "any" or an absolute directory, one per replica. */
  logDirs?: string[]
}

/** The reassignment JSON exactly as Kafka writes it. */
export interface ReassignmentJson {
  version: 1
  partitions: {topic: string; partition: number; replicas: number[]; log_dirs: string[]}[]
}

export const ANY_LOG_DIR = 'any'

/** A partition in Kafka's `topic-partition` form. */
export function partitionName(topic: string, partition: number): string {
  return `${topic}-${partition}`
}

/** Kafka's order of TopicPartitions: by topic name, then partition. */
export function compareTopicPartitions(a: {topic: string; partition: number}, b: {topic: string; partition: number}): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`)
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isBrokerId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0
}

/** Duplicated values, in first-seen order. */
export function duplicates<T>(values: readonly T[]): T[] {
  const seen = new Set<T>()
  const dup = new Set<T>()
  for (const v of values) (seen.has(v) ? dup : seen).add(v)
  return [...dup]
}

/**
 * A reassignment JSON document (`what` names its source in messages). With `forExecute`, also
 * Kafka's parseExecuteAssignmentArgs checks: not empty, no empty replica list, no partition twice,
 * no replica twice in a partition. Throws UsageError, naming what is wrong.
 */
export function parseReassignmentJson(text: string, what: string, options: {forExecute?: boolean} = {}): PlannedPartition[] {
  const doc = parseJson(text, what)
  if (!isObject(doc)) throw new UsageError(`${what}: expected a JSON object {"version":1,"partitions":[...]}`)
  if (doc.version !== undefined && doc.version !== 1) throw new UsageError(`${what}: unsupported version ${JSON.stringify(doc.version)} (Kafka's format is version 1)`)
  if (!Array.isArray(doc.partitions)) throw new UsageError(`${what}: missing "partitions" array`)
  const partitions = doc.partitions.map((entry, i): PlannedPartition => {
    const where = `${what}: partitions[${i}]`
    if (!isObject(entry)) throw new UsageError(`${where} is not an object`)
    if (typeof entry.topic !== 'string' || entry.topic === '') throw new UsageError(`${where}: "topic" must be a topic name`)
    if (!Number.isInteger(entry.partition) || (entry.partition as number) < 0) throw new UsageError(`${where}: "partition" must be a partition number`)
    if (!Array.isArray(entry.replicas) || !entry.replicas.every(isBrokerId)) throw new UsageError(`${where}: "replicas" must be an array of broker ids`)
    const planned: PlannedPartition = {topic: entry.topic, partition: entry.partition as number, replicas: entry.replicas as number[]}
    if (entry.log_dirs !== undefined) {
      if (!Array.isArray(entry.log_dirs) || !entry.log_dirs.every((d) => typeof d === 'string')) throw new UsageError(`${where}: "log_dirs" must be an array of strings`)
      if (entry.log_dirs.length !== planned.replicas.length) throw new UsageError(`${where}: Size of replicas list ${JSON.stringify(planned.replicas)} is different from size of log dirs list ${JSON.stringify(entry.log_dirs)} for partition ${partitionName(planned.topic, planned.partition)}`)
      const moved = (entry.log_dirs as string[]).filter((d) => d !== ANY_LOG_DIR)
      if (moved.length > 0) throw new UsageError(`${where}: moving replicas between log directories (log_dirs ${JSON.stringify(moved)}) is not supported by kcli; use "any"`)
      planned.logDirs = entry.log_dirs as string[]
    }
    return planned
  })
  if (options.forExecute) checkExecutable(partitions)
  return partitions
}

/** Kafka's parseExecuteAssignmentArgs checks, with its messages. */
export function checkExecutable(partitions: readonly PlannedPartition[]): void {
  if (partitions.length === 0) throw new UsageError('Partition reassignment list cannot be empty')
  const empty = partitions.filter((p) => p.replicas.length === 0)
  if (empty.length > 0) throw new UsageError(`Partition replica list cannot be empty (${empty.map((p) => partitionName(p.topic, p.partition)).join(',')})`)
  const dupParts = duplicates(partitions.map((p) => partitionName(p.topic, p.partition)))
  if (dupParts.length > 0) throw new UsageError(`Partition reassignment contains duplicate topic partitions: ${dupParts.join(',')}`)
  const dupReplicas = partitions.map((p) => [p, duplicates(p.replicas)] as const).filter(([, d]) => d.length > 0)
  if (dupReplicas.length > 0) {
    const detail = dupReplicas.map(([p, d]) => `${partitionName(p.topic, p.partition)} contains multiple entries for ${d.join(',')}`).join('. ')
    throw new UsageError(`Partition replica lists may not contain duplicate entries: ${detail}`)
  }
}

/** Kafka's formatAsReassignmentJson: sorted, every log dir "any". */
export function toReassignmentJson(partitions: readonly PlannedPartition[]): ReassignmentJson {
  return {
    version: 1,
    partitions: [...partitions].sort(compareTopicPartitions).map((p) => ({
      topic: p.topic,
      partition: p.partition,
      replicas: p.replicas,
      log_dirs: p.replicas.map(() => ANY_LOG_DIR),
    })),
  }
}

/** The compact JSON text Kafka's tool prints and reads. */
export function formatReassignmentJson(partitions: readonly PlannedPartition[]): string {
  return JSON.stringify(toReassignmentJson(partitions))
}

/** Kafka's topics-to-move JSON: {"version":1,"topics":[{"topic":"foo"}]}; duplicates are refused. */
export function parseTopicsToMoveJson(text: string, what: string): string[] {
  const doc = parseJson(text, what)
  if (!isObject(doc)) throw new UsageError(`${what}: expected a JSON object {"version":1,"topics":[{"topic":"..."}]}`)
  if (doc.version !== undefined && doc.version !== 1) throw new UsageError(`${what}: unsupported version ${JSON.stringify(doc.version)}`)
  if (!Array.isArray(doc.topics)) throw new UsageError(`${what}: missing "topics" array`)
  const topics = doc.topics.map((entry, i) => {
    if (!isObject(entry) || typeof entry.topic !== 'string' || entry.topic === '') throw new UsageError(`${what}: topics[${i}] must be {"topic": "<name>"}`)
    return entry.topic
  })
  const dup = duplicates(topics)
  if (dup.length > 0) throw new UsageError(`List of topics to reassign contains duplicate entries: [${dup.join(', ')}]`)
  return topics
}

/** kafka-leader-election.sh's --path-to-json-file: {"partitions":[{"topic":"foo","partition":1}]}. */
export function parseElectionJson(text: string, what: string): {topic: string; partition: number}[] {
  const doc = parseJson(text, what)
  if (!isObject(doc) || !Array.isArray(doc.partitions)) throw new UsageError(`${what}: Replica election data is missing "partitions" field`)
  const partitions = doc.partitions.map((entry, i) => {
    if (!isObject(entry) || typeof entry.topic !== 'string' || !Number.isInteger(entry.partition)) throw new UsageError(`${what}: partitions[${i}] must be {"topic": "<name>", "partition": <n>}`)
    return {topic: entry.topic, partition: entry.partition as number}
  })
  const dup = duplicates(partitions.map((p) => partitionName(p.topic, p.partition)))
  if (dup.length > 0) throw new UsageError(`Replica election data contains duplicate partitions: ${dup.join(',')}`)
  return partitions
}

/** A comma-separated list of broker ids (--broker-list 1,2,3); duplicates refused as Kafka does. */
export function parseBrokerList(input: string, flag: string): number[] {
  const ids = input.split(',').map((s) => s.trim())
  if (ids.some((s) => !/^\d+$/.test(s))) throw new UsageError(`${flag}: expected broker ids separated by commas, got ${JSON.stringify(input)}`)
  const brokers = ids.map(Number)
  const dup = duplicates(brokers)
  if (dup.length > 0) throw new UsageError(`Broker list contains duplicate entries: [${dup.join(', ')}]`)
  return brokers
}

/**
 * A replication throttle in bytes per second: a plain number is B/s (Kafka's --throttle), or a
 * number with a unit: B, KB, MB, GB (powers of 1000), KiB, MiB, GiB (powers of 1024), with or
 * without "/s": `1MB/s` = 1000000.
 */
export function parseThrottle(input: string, flag = '--throttle'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?(?:\/s)?\s*$/i.exec(input)
  if (!match) throw new UsageError(`${flag}: expected bytes per second, e.g. 1000000, 500KB/s, 1MB/s or 10MiB/s, got ${JSON.stringify(input)}`)
  const unit = (match[2] ?? 'b').toLowerCase()
  const factors: Record<string, number> = {b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3}
  const bytes = Math.round(Number(match[1]) * factors[unit]!)
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`${flag}: the throttle must be at least 1 byte per second`)
  return bytes
}

// ---- generation ----

/** Kafka's InvalidReplicationFactorException message, as a usage error. */
function checkReplicationFactor(replicationFactor: number, brokers: number): void {
  if (replicationFactor > brokers) throw new UsageError(`Replication factor: ${replicationFactor} larger than available brokers: ${brokers}.`)
}

/**
 * Kafka's rack-unaware AdminUtils.assignReplicasToBrokers with startIndex and the replica shift
 * fixed at `startIndex` (Kafka's tool picks both at random): partition p gets brokers[(p + start) % n]
 * first, then followers spread by a shift that grows every n partitions.
 */
export function kafkaAssignment(brokers: readonly number[], partitions: number, replicationFactor: number, startIndex = 0): number[][] {
  const n = brokers.length
  if (n === 0) throw new UsageError('no brokers to assign replicas to')
  checkReplicationFactor(replicationFactor, n)
  const result: number[][] = []
  let shift = startIndex
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift++
    const first = (p + startIndex) % n
    const replicas = [brokers[first]!]
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokers[(first + 1 + ((shift + j) % (n - 1))) % n]!)
    result.push(replicas)
  }
  return result
}

/** What `generate` plans for: every partition's current replicas. */
export interface CurrentPartition {
  topic: string
  partition: number
  replicas: number[]
}

/**
 * Kafka's --generate: each topic's partitions assigned afresh over `brokers` (sorted), keeping the
 * topic's replication factor (its first partition's, as Kafka's calculateAssignment takes it).
 */
export function generateKafkaPlan(current: readonly CurrentPartition[], brokers: readonly number[]): PlannedPartition[] {
  const sorted = [...brokers].sort((a, b) => a - b)
  const out: PlannedPartition[] = []
  for (const [topic, parts] of groupByTopic(current)) {
    const assignment = kafkaAssignment(sorted, parts.length, parts[0]!.replicas.length)
    parts.forEach((p, i) => out.push({topic, partition: p.partition, replicas: assignment[i]!}))
  }
  return out.sort(compareTopicPartitions)
}

function groupByTopic(current: readonly CurrentPartition[]): Map<string, CurrentPartition[]> {
  const byTopic = new Map<string, CurrentPartition[]>()
  for (const p of [...current].sort(compareTopicPartitions)) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p])
  return byTopic
}

/**
 * A plan that spreads the partitions' replicas evenly over `brokers` while moving as few replicas
 * as possible (kcli's --add-broker / --remove-broker):
 *
 * 1. Replicas on brokers outside `brokers` are replaced, in the same position of the replica list,
 *    by the broker with the fewest replicas of the topic (then overall) not already in the partition.
 * 2. Per topic, then over all the topics: while one broker holds two or more replicas more than
 *    another, one replica moves from a most loaded to a least loaded broker (a partition that has the
 *    first and not the second; for the overall pass, only where the topic's own spread stays within one).
 *    Every such move removes one replica of excess, so no plan moves fewer replicas to the same balance.
 * 3. Preferred leaders (first replicas) are spread the same way by swapping positions inside a
 *    partition's list: leadership moves, data does not.
 *
 * Replication factors are kept. Partitions whose replica list does not change are left out.
 */
export function balancedPlan(current: readonly CurrentPartition[], brokers: readonly number[]): PlannedPartition[] {
  const targets = [...new Set(brokers)].sort((a, b) => a - b)
  if (targets.length === 0) throw new UsageError('no brokers left to hold the replicas')
  const parts = [...current].sort(compareTopicPartitions).map((p) => ({...p, replicas: [...p.replicas], original: p.replicas}))
  for (const p of parts) checkReplicationFactor(p.replicas.length, targets.length)

  const total = new Map<number, number>(targets.map((b) => [b, 0]))
  const perTopic = new Map<string, Map<number, number>>()
  const topicLoad = (topic: string): Map<number, number> => {
    let m = perTopic.get(topic)
    if (!m) perTopic.set(topic, (m = new Map(targets.map((b) => [b, 0]))))
    return m
  }
  const add = (topic: string, broker: number, delta: number): void => {
    total.set(broker, (total.get(broker) ?? 0) + delta)
    const m = topicLoad(topic)
    m.set(broker, (m.get(broker) ?? 0) + delta)
  }
  for (const p of parts) for (const r of p.replicas) if (total.has(r)) add(p.topic, r, 1)

  // 1. Replace replicas on brokers that go away.
  for (const p of parts) {
    p.replicas.forEach((r, i) => {
      if (total.has(r)) return
      const load = topicLoad(p.topic)
      const candidates = targets.filter((b) => !p.replicas.includes(b))
      candidates.sort((a, b) => load.get(a)! - load.get(b)! || total.get(a)! - total.get(b)! || a - b)
      const chosen = candidates[0]!
      p.replicas[i] = chosen
      add(p.topic, chosen, 1)
    })
  }

  // 2. Even out replica counts: per topic, then overall.
  const moveOne = (pool: typeof parts, load: Map<number, number>, allowed: (p: (typeof parts)[number], from: number, to: number) => boolean): boolean => {
    const ordered = [...targets].sort((a, b) => load.get(a)! - load.get(b)! || a - b)
    for (const to of ordered) {
      for (const from of [...ordered].reverse()) {
        if (load.get(from)! - load.get(to)! < 2) break
        // Prefer moving a replica that was already going to move (a new one), then a follower.
        const candidates = pool.filter((p) => p.replicas.includes(from) && !p.replicas.includes(to) && allowed(p, from, to))
        candidates.sort((a, b) => Number(a.original.includes(from)) - Number(b.original.includes(from)) || Number(a.replicas[0] === from) - Number(b.replicas[0] === from))
        const p = candidates[0]
        if (!p) continue
        p.replicas[p.replicas.indexOf(from)] = to
        add(p.topic, from, -1)
        add(p.topic, to, 1)
        return true
      }
    }
    return false
  }
  for (const [topic, load] of perTopic) {
    const pool = parts.filter((p) => p.topic === topic)
    while (moveOne(pool, load, () => true));
  }
  while (moveOne(parts, total, (p, from, to) => topicLoad(p.topic).get(from)! > topicLoad(p.topic).get(to)!));

  // 3. Spread preferred leaders by reordering (no data moves).
  const leaders = new Map<number, number>(targets.map((b) => [b, 0]))
  for (const p of parts) leaders.set(p.replicas[0]!, leaders.get(p.replicas[0]!)! + 1)
  for (let changed = true; changed; ) {
    changed = false
    for (const p of parts) {
      const leader = p.replicas[0]!
      const best = p.replicas.slice(1).sort((a, b) => leaders.get(a)! - leaders.get(b)! || a - b)[0]
      if (best === undefined || leaders.get(leader)! - leaders.get(best)! < 2) continue
      const i = p.replicas.indexOf(best)
      p.replicas[i] = leader
      p.replicas[0] = best
      leaders.set(leader, leaders.get(leader)! - 1)
      leaders.set(best, leaders.get(best)! + 1)
      changed = true
    }
  }

  return parts.filter((p) => p.replicas.join(',') !== p.original.join(',')).map(({topic, partition, replicas}) => ({topic, partition, replicas}))
}

/** How many replicas a plan copies: target replicas not among the current ones. */
export function replicasToCopy(current: readonly CurrentPartition[], plan: readonly PlannedPartition[]): number {
  const byName = new Map(current.map((p) => [partitionName(p.topic, p.partition), p.replicas]))
  return plan.reduce((n, p) => n + p.replicas.filter((r) => !(byName.get(partitionName(p.topic, p.partition)) ?? []).includes(r)).length, 0)
}

// ---- throttles ----

/** A partition reassignment in progress, as ListPartitionReassignments gives it. */
export interface OngoingReassignment {
  topic: string
  partition: number
  replicas: number[]
  addingReplicas: number[]
  removingReplicas: number[]
}

export interface ThrottlePlan {
  /** Per topic: the value of leader.replication.throttled.replicas and follower.replication.throttled.replicas. */
  topics: Map<string, {leader: string; follower: string}>
  /** Every broker a replica moves from or to (these get the throttled rates), ascending. */
  brokers: number[]
}

/**
 * Kafka's calculateProposedMoveMap plus its leader/follower throttle lists: the moves of the
 * reassignments in progress, overridden by the plan's (sources: the current replicas — or, for a
 * partition already moving, its sources — destinations: the target replicas that are not sources).
 */
export function throttlesFor(plan: readonly PlannedPartition[], current: readonly CurrentPartition[], ongoing: readonly OngoingReassignment[]): ThrottlePlan {
  const moves = new Map<string, Map<number, {sources: Set<number>; destinations: Set<number>}>>()
  const movesOf = (topic: string) => {
    let m = moves.get(topic)
    if (!m) moves.set(topic, (m = new Map()))
    return m
  }
  for (const o of ongoing) {
    const sources = new Set(o.replicas.filter((r) => !o.addingReplicas.includes(r)))
    movesOf(o.topic).set(o.partition, {sources, destinations: new Set(o.addingReplicas)})
  }
  const currentByName = new Map(current.map((p) => [partitionName(p.topic, p.partition), p.replicas]))
  for (const p of plan) {
    const m = movesOf(p.topic)
    const existing = m.get(p.partition)
    const sources = new Set(existing ? existing.sources : (currentByName.get(partitionName(p.topic, p.partition)) ?? []))
    m.set(p.partition, {sources, destinations: new Set(p.replicas.filter((r) => !sources.has(r)))})
  }
  const topics = new Map<string, {leader: string; follower: string}>()
  const brokers = new Set<number>()
  for (const [topic, m] of moves) {
    const leader = new Set<string>()
    const follower = new Set<string>()
    for (const [partition, move] of m) {
      for (const s of move.sources) leader.add(`${partition}:${s}`)
      for (const d of move.destinations) if (!move.sources.has(d)) follower.add(`${partition}:${d}`)
      for (const b of [...move.sources, ...move.destinations]) brokers.add(b)
    }
    topics.set(topic, {leader: [...leader].sort().join(','), follower: [...follower].sort().join(',')})
  }
  return {topics, brokers: [...brokers].sort((a, b) => a - b)}
}

export const BROKER_THROTTLE_CONFIGS = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second'] as const
export const TOPIC_THROTTLE_CONFIGS = ['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas'] as const

// ---- drain ----

/**
 * The replica order that takes preferred leadership off `broker` without moving data: `broker`
 * last, and first the first other replica that is in the ISR. Undefined when no other replica is
 * in sync (the partition cannot be drained) or when `broker` is not a replica.
 */
export function drainedOrder(replicas: readonly number[], isr: readonly number[], broker: number): number[] | undefined {
  if (!replicas.includes(broker)) return undefined
  const others = replicas.filter((r) => r !== broker)
  const first = others.find((r) => isr.includes(r))
  if (first === undefined) return undefined
  return [first, ...others.filter((r) => r !== first), broker]
}
