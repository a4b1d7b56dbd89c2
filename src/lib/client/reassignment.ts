// Cluster operations over the public protocol: leader elections (ElectLeaders, API 43), partition
// reassignments (AlterPartitionReassignments 45, ListPartitionReassignments 46), the replication
// throttles Kafka's kafka-reassign-partitions.sh sets and removes (IncrementalAlterConfigs), and
// the replica sizes `reassign execute --wait` shows progress from (DescribeLogDirs 35, sent to each
// broker about its own replicas; ListOffsets only answers at the leader, so a follower's log end
// offset is not visible to a client, but its size on disk is). These requests go to the broker the
// cluster names as controller, as the Java admin client sends them (a KRaft broker forwards them
// to the active controller); per-partition errors are data in the results.

import {ApiKey} from '../protocol/generated/api-keys.js'
import {Admin, type ItemResult} from './admin.js'
import type {KafkaClient} from './client.js'
import {ErrorCode, errorName, KafkaError, throwIfError} from './errors.js'
import type {ClusterMetadata} from './metadata.js'
import {BROKER_THROTTLE_CONFIGS, type CurrentPartition, type OngoingReassignment, type PlannedPartition, TOPIC_THROTTLE_CONFIGS, type ThrottlePlan} from './reassignment-plan.js'

/** ElectLeaders' election types. */
export const ElectionType = {preferred: 0, unclean: 1} as const
export type ElectionTypeName = keyof typeof ElectionType

export const ELECTION_NOT_NEEDED = 84

export interface PartitionItemResult extends ItemResult {
  topic: string
  partition: number
}

function partitionResult(topic: string, partition: number, errorCode: number, errorMessage: string | null): PartitionItemResult {
  return {topic, partition, errorCode, error: errorCode === 0 ? 'NONE' : errorName(errorCode), errorMessage: errorCode === 0 ? null : errorMessage}
}

function byTopic<T extends {topic: string}>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) out.set(item.topic, [...(out.get(item.topic) ?? []), item])
  return out
}

export class ClusterOperations {
  readonly admin: Admin

  constructor(readonly client: KafkaClient) {
    this.admin = new Admin(client)
  }

  /** Sends to the controller, finding it again after NOT_CONTROLLER. */
  private async toController<R>(send: () => Promise<R>, errorOf: (response: R) => number): Promise<R> {
    return this.client.withRetries(
      async () => {
        const response = await send()
        if (errorOf(response) === ErrorCode.NOT_CONTROLLER) throw KafkaError.fromCode(ErrorCode.NOT_CONTROLLER)
        return response
      },
      () => this.client.refreshMetadata([]).then(() => undefined),
    )
  }

  /**
   * ElectLeaders for `partitions` (null: every partition, which a Kafka controller answers with
   * the partitions it elected a leader for and omits the others). A request-level error throws.
   */
  async electLeaders(type: ElectionTypeName, partitions: readonly {topic: string; partition: number}[] | null, timeoutMs: number): Promise<PartitionItemResult[]> {
    const response = await this.toController(
      async () =>
        (await this.client.controllerConnection()).send(
          ApiKey.ElectLeaders,
          {
            electionType: ElectionType[type],
            timeoutMs,
            topicPartitions: partitions === null ? null : [...byTopic(partitions)].map(([topic, ps]) => ({partitions: ps.map((p) => p.partition), topic})),
          },
          // v0 has no election type: it is always a preferred election.
          type === 'unclean' ? {minVersion: 1} : {},
        ),
      (r) => r.errorCode,
    )
    throwIfError(response.errorCode, null)
    return response.replicaElectionResults.flatMap((t) => t.partitionResult.map((p) => partitionResult(t.topic, p.partitionId, p.errorCode, p.errorMessage)))
  }

  /** Reassignments in progress: all, or those of `partitions`. */
  async listReassignments(partitions: readonly {topic: string; partition: number}[] | null, timeoutMs: number): Promise<OngoingReassignment[]> {
    const response = await this.toController(
      async () =>
        (await this.client.controllerConnection()).send(ApiKey.ListPartitionReassignments, {
          timeoutMs,
          topics: partitions === null ? null : [...byTopic(partitions)].map(([name, ps]) => ({name, partitionIndexes: ps.map((p) => p.partition)})),
        }),
      (r) => r.errorCode,
    )
    throwIfError(response.errorCode, response.errorMessage)
    return response.topics
      .flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas})))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  }

  /**
   * The reassignments in progress for a view of the cluster: none where the cluster does not
   * support ListPartitionReassignments or does not let this principal ask (kafka-topics.sh
   * --describe does the same).
   */
  async reassignmentsIfVisible(partitions: readonly {topic: string; partition: number}[] | null, timeoutMs: number): Promise<OngoingReassignment[]> {
    if (partitions !== null && partitions.length === 0) return []
    try {
      return await this.listReassignments(partitions, timeoutMs)
    } catch (error) {
      if (error instanceof KafkaError && (error.errorCode === ErrorCode.UNSUPPORTED_VERSION || error.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED)) return []
      throw error
    }
  }

  /** AlterPartitionReassignments: a target replica list per partition, or null to cancel. */
  async alterReassignments(changes: readonly {topic: string; partition: number; replicas: number[] | null}[], timeoutMs: number): Promise<PartitionItemResult[]> {
    const response = await this.toController(
      async () =>
        (await this.client.controllerConnection()).send(ApiKey.AlterPartitionReassignments, {
          timeoutMs,
          topics: [...byTopic(changes)].map(([name, ps]) => ({name, partitions: ps.map((p) => ({partitionIndex: p.partition, replicas: p.replicas}))})),
        }),
      (r) => r.errorCode,
    )
    if (response.errorCode !== 0) {
      // Kafka puts a request-level error (NOT_CONTROLLER, CLUSTER_AUTHORIZATION_FAILED) on every partition.
      return changes.map((c) => partitionResult(c.topic, c.partition, response.errorCode, response.errorMessage))
    }
    const results = new Map<string, PartitionItemResult>()
    for (const t of response.responses) for (const p of t.partitions) results.set(`${t.name}\0${p.partitionIndex}`, partitionResult(t.name, p.partitionIndex, p.errorCode, p.errorMessage))
    return changes.map((c) => results.get(`${c.topic}\0${c.partition}`) ?? partitionResult(c.topic, c.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no answer for this partition'))
  }

  /** The registered brokers' ids (DescribeCluster, else Metadata), ascending. */
  async brokerIds(): Promise<number[]> {
    const cluster = await this.admin.describeCluster()
    return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b)
  }

  /** Metadata for `topics` (null: all); a topic that does not exist throws UNKNOWN_TOPIC_OR_PARTITION naming it, as Kafka's tool does. */
  async topicMetadata(topics: readonly string[] | null): Promise<ClusterMetadata> {
    const metadata = await this.client.refreshMetadata(topics)
    for (const t of metadata.topics) {
      if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new KafkaError(t.errorCode, 'UNKNOWN_TOPIC_OR_PARTITION', `Topic ${t.name} not found.`)
      if (t.errorCode !== 0) throw KafkaError.fromCode(t.errorCode, `topic ${t.name}`)
    }
    return metadata
  }

  /** Current replicas of the topics' partitions. */
  async currentAssignment(topics: readonly string[]): Promise<CurrentPartition[]> {
    const metadata = await this.topicMetadata(topics)
    return metadata.topics.flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partition, replicas: p.replicas})))
  }

  /** Sets the throttles of a ThrottlePlan: the topics' throttled replica lists, then each moving broker's rates. */
  async setThrottles(throttles: ThrottlePlan, rate: number): Promise<(ItemResult & {type: string; name: string})[]> {
    const topicResults = await Promise.all(
      [...throttles.topics].map(([topic, values]) =>
        this.admin.alterConfigs([{type: 'topic', name: topic, set: {'leader.replication.throttled.replicas': values.leader, 'follower.replication.throttled.replicas': values.follower}}]),
      ),
    )
    const brokerResults = await Promise.all(
      throttles.brokers.map((broker) =>
        this.admin.alterConfigs([{type: 'broker', name: String(broker), set: {'leader.replication.throttled.rate': String(rate), 'follower.replication.throttled.rate': String(rate)}}]),
      ),
    )
    return [...topicResults, ...brokerResults].flat()
  }

  /** Kafka's clearAllThrottles: the three broker throttles on `brokers`, then the two topic throttles on `topics`. */
  async clearThrottles(brokers: readonly number[], topics: readonly string[]): Promise<(ItemResult & {type: string; name: string})[]> {
    const brokerResults = await Promise.all(brokers.map((b) => this.admin.alterConfigs([{type: 'broker', name: String(b), delete: [...BROKER_THROTTLE_CONFIGS]}])))
    const topicResults = await Promise.all(topics.map((t) => this.admin.alterConfigs([{type: 'topic', name: t, delete: [...TOPIC_THROTTLE_CONFIGS]}])))
    return [...brokerResults, ...topicResults].flat()
  }

  /**
   * Bytes each broker holds of each of `partitions` (DescribeLogDirs to every broker named),
   * keyed `topic\0partition\0broker`. A broker that does not answer is left out.
   */
  async replicaSizes(brokers: readonly number[], partitions: readonly {topic: string; partition: number}[]): Promise<Map<string, bigint>> {
    const sizes = new Map<string, bigint>()
    const topics = [...byTopic(partitions)].map(([topic, ps]) => ({partitions: ps.map((p) => p.partition), topic}))
    await Promise.all(
      brokers.map(async (broker) => {
        try {
          const connection = await this.client.connectionTo(broker)
          if (!connection.supports(ApiKey.DescribeLogDirs)) return
          const response = await connection.send(ApiKey.DescribeLogDirs, {topics})
          for (const dir of response.results) {
            if (dir.errorCode !== 0) continue
            for (const t of dir.topics) for (const p of t.partitions) if (!p.isFutureKey) sizes.set(replicaKey(t.name, p.partitionIndex, broker), p.partitionSize)
          }
        } catch {
          // A broker that is down or does not answer shows no progress; the reassignment state still does.
        }
      }),
    )
    return sizes
  }
}

export function replicaKey(topic: string, partition: number, broker: number): string {
  return `${topic}\0${partition}\0${broker}`
}

/** The partitions of a plan as {topic, partition}. */
export function planPartitions(plan: readonly PlannedPartition[]): {topic: string; partition: number}[] {
  return plan.map((p) => ({topic: p.topic, partition: p.partition}))
}

export type ReassignmentStateName = 'completed' | 'in-progress' | 'not-in-target'

/** Where a planned partition stands (Kafka's PartitionReassignmentState). */
export interface PartitionReassignmentState {
  topic: string
  partition: number
  state: ReassignmentStateName
  currentReplicas: number[]
  targetReplicas: number[]
}

/**
 * Kafka's findPartitionReassignmentStates: partitions still listed by ListPartitionReassignments
 * are in progress; the others are complete when their replicas are the target's, in order.
 * `anyOngoing` is true while any reassignment runs in the cluster, the plan's or not (Kafka's tool
 * keeps the throttles until then).
 */
export async function reassignmentStates(ops: ClusterOperations, plan: readonly PlannedPartition[], timeoutMs: number): Promise<{partitions: PartitionReassignmentState[]; anyOngoing: boolean}> {
  const ongoing = await ops.listReassignments(null, timeoutMs)
  const inProgress = new Map(ongoing.map((o) => [`${o.topic}\0${o.partition}`, o]))
  const settled = plan.filter((p) => !inProgress.has(`${p.topic}\0${p.partition}`))
  const current = new Map<string, number[]>()
  if (settled.length > 0) {
    const metadata = await ops.client.refreshMetadata([...new Set(settled.map((p) => p.topic))])
    for (const t of metadata.topics) for (const p of t.partitions) current.set(`${t.name}\0${p.partition}`, p.replicas)
  }
  const partitions = plan.map((p): PartitionReassignmentState => {
    const k = `${p.topic}\0${p.partition}`
    const moving = inProgress.get(k)
    if (moving) return {topic: p.topic, partition: p.partition, state: 'in-progress', currentReplicas: moving.replicas, targetReplicas: p.replicas}
    const replicas = current.get(k) ?? []
    return {topic: p.topic, partition: p.partition, state: replicas.join(',') === p.replicas.join(',') ? 'completed' : 'not-in-target', currentReplicas: replicas, targetReplicas: p.replicas}
  })
  partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  return {partitions, anyOngoing: ongoing.length > 0}
}

/** Kafka's partitionReassignmentStatesToString lines. */
export function reassignmentStateLines(states: readonly PartitionReassignmentState[]): string[] {
  return [
    'Status of partition reassignment:',
    ...states.map((s) =>
      s.state === 'completed'
        ? `Reassignment of partition ${s.topic}-${s.partition} is completed.`
        : s.state === 'in-progress'
          ? `Reassignment of partition ${s.topic}-${s.partition} is still in progress.`
          : `There is no active reassignment of partition ${s.topic}-${s.partition}, but replica set is ${s.currentReplicas.join(',')} rather than ${s.targetReplicas.join(',')}.`,
    ),
  ]
}

/**
 * Kafka's clearAllThrottles for a plan: the broker throttles on every registered broker and every
 * broker the plan names, the topic throttles on the plan's topics. Returns what was cleared and
 * Kafka's two lines; a failed alteration throws.
 */
export async function clearPlanThrottles(ops: ClusterOperations, plan: readonly PlannedPartition[]): Promise<{brokers: number[]; topics: string[]; lines: string[]}> {
  const brokers = [...new Set([...(await ops.brokerIds()), ...plan.flatMap((p) => p.replicas)])].sort((a, b) => a - b)
  const topics = [...new Set(plan.map((p) => p.topic))].sort()
  const results = await ops.clearThrottles(brokers, topics)
  const failed = results.find((r) => r.errorCode !== 0)
  if (failed) throw KafkaError.fromCode(failed.errorCode, `clearing the throttles of ${failed.type} ${failed.name}: ${failed.errorMessage ?? failed.error}`)
  return {
    brokers,
    topics,
    lines: [
      `Clearing broker-level throttles on broker${brokers.length === 1 ? '' : 's'} ${brokers.join(',')}`,
      `Clearing topic-level throttles on topic${topics.length === 1 ? '' : 's'} ${topics.join(',')}`,
    ],
  }
}

/**
 * `cluster drain` / `undrain`: reorders replicas (a reassignment to the same replicas in another
 * order, which moves no data and which the controller completes at once), waits until none of
 * them is listed as in progress (at most `timeoutMs`), then runs a preferred election on
 * `elect`. Returns the per-partition results of both steps.
 */
export async function reorderAndElect(
  ops: ClusterOperations,
  reorders: readonly {topic: string; partition: number; replicas: number[]}[],
  elect: readonly {topic: string; partition: number}[],
  timeoutMs: number,
): Promise<{reordered: PartitionItemResult[]; elected: PartitionItemResult[]}> {
  const reordered = reorders.length > 0 ? await ops.alterReassignments(reorders, timeoutMs) : []
  const started = reordered.filter((r) => r.errorCode === 0)
  const deadline = Date.now() + timeoutMs
  for (let pending: {topic: string; partition: number}[] = started; pending.length > 0; ) {
    pending = await ops.listReassignments(pending, timeoutMs)
    if (pending.length === 0) break
    if (Date.now() > deadline) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'REQUEST_TIMED_OUT', `the reordering of ${pending.map((p) => `${p.topic}-${p.partition}`).join(', ')} did not complete within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const failed = new Set(reordered.filter((r) => r.errorCode !== 0).map((r) => `${r.topic}\0${r.partition}`))
  const toElect = elect.filter((p) => !failed.has(`${p.topic}\0${p.partition}`))
  const elected = toElect.length > 0 ? await ops.electLeaders('preferred', toElect, timeoutMs) : []
  return {reordered, elected}
}
