import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {PartialFailureError, UsageError} from '../../lib/cli/errors.js'
import {checkBrokersExist, currentReplicasOf, readDocument} from '../../lib/client/plan-input.js'
import {formatReassignmentJson, parseReassignmentJson, parseThrottle, partitionName, type PlannedPartition, type ReassignmentJson, throttlesFor} from '../../lib/client/reassignment-plan.js'
import type {ClusterOperations, PartitionItemResult, PartitionReassignmentState} from '../../lib/client/reassignment.js'

export const CANNOT_EXECUTE_BECAUSE_OF_EXISTING_MESSAGE =
  'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one.'

export interface PartitionProgress {
  topic: string
  partition: number
  leader: number
  addingReplicas: number[]
  /** Bytes on the leader, and the fewest bytes any adding replica holds yet (DescribeLogDirs). */
  leaderBytes: number | null
  copiedBytes: number | null
  /** 0..1; 1 once the partition is no longer being reassigned. */
  fraction: number
}

export interface ReassignExecuteResult {
  /** The plan's partitions' replicas before: the rollback plan. */
  rollback: ReassignmentJson
  throttle: number | null
  started: PartitionItemResult[]
  /** With --wait: the final states, and whether the throttles were removed. */
  completed?: PartitionReassignmentState[]
  throttlesCleared?: {brokers: number[]; topics: string[]} | null
}

export default class ReassignExecute extends BaseCommand<typeof ReassignExecute> {
  static override description = `Starts the partition reassignments of a plan in Kafka's JSON (a file or standard input), as kafka-reassign-partitions.sh --execute does: it refuses while another reassignment runs (unless --additional), checks that every broker and partition of the plan exists, prints the current assignment (save it: it is the rollback plan), sets the replication throttles with --throttle (leader/follower.replication.throttled.rate on every broker a replica moves from or to, leader/follower.replication.throttled.replicas on the topics: only the moving replicas are throttled) and sends AlterPartitionReassignments. The broker answers bad targets per partition (INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR...): they are shown and the command exits 1. With --wait it then follows the reassignment — a progress bar per moving partition on a terminal (bytes the new replicas hold against the leader's, from DescribeLogDirs), a line per change otherwise — and when it is complete removes the throttles as \`reassign verify\` does.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --reassignment-json-file plan.json --throttle 1MB/s', description: 'Start, copying at most 1 MB/s per broker.'},
    {command: '<%= config.bin %> <%= command.id %> -f plan.json --throttle 50MB/s --wait', description: 'Start, show progress, remove the throttle when done.'},
    {command: 'kcli reassign generate --add-broker 4 --json | jq .proposed | <%= config.bin %> <%= command.id %>', description: 'The plan from standard input.'},
  ]
  static override flags = {
    additional: Flags.boolean({summary: 'Start even though other reassignments are in progress.'}),
    interval: Flags.integer({default: 1000, helpValue: '<ms>', min: 100, summary: 'With --wait: how often to poll the reassignment.'}),
    'preserve-throttles': Flags.boolean({summary: 'With --wait: keep the throttles when the reassignment completes.'}),
    'reassignment-json-file': Flags.string({char: 'f', helpValue: '<file>', summary: "The plan, in Kafka's reassignment JSON (default or '-': standard input)."}),
    throttle: Flags.string({helpValue: '<rate>', summary: 'Replication throttle for the moving replicas, e.g. 1000000 (B/s), 500KB/s, 1MB/s, 10MiB/s.'}),
    wait: Flags.boolean({summary: 'Wait for the reassignment to complete, showing progress; then remove the throttles.'}),
  }
  static override summary = 'Start a partition reassignment (with throttles, optionally waiting).'

  async run(): Promise<ReassignExecuteResult> {
    const {flags} = this
    const throttle = flags.throttle === undefined ? null : parseThrottle(flags.throttle)
    const {text, what} = await readDocument(flags['reassignment-json-file'], '--reassignment-json-file')
    const plan = parseReassignmentJson(text, what, {forExecute: true})
    const {ClusterOperations} = await import('../../lib/client/reassignment.js')
    const ops = new ClusterOperations(await this.kafka())
    const timeout = flags.timeout

    const ongoing = await this.withTimeout('listing reassignments', ops.listReassignments(null, timeout))
    if (!flags.additional && ongoing.length > 0) throw new UsageError(CANNOT_EXECUTE_BECAUSE_OF_EXISTING_MESSAGE)
    checkBrokersExist(plan, await this.withTimeout('describing the cluster', ops.brokerIds()))
    const metadata = await this.withTimeout('reading topic metadata', ops.topicMetadata([...new Set(plan.map((p) => p.topic))]))
    const currentByName = currentReplicasOf(plan, metadata)
    const current = plan.map((p) => ({topic: p.topic, partition: p.partition, replicas: currentByName.get(partitionName(p.topic, p.partition))!}))
    const rollback = formatReassignmentJson(current)
    this.out.line('Current partition replica assignment')
    this.out.line()
    this.out.line(rollback)
    this.out.line()
    this.out.line('Save this to use as the --reassignment-json-file option during rollback')

    let throttled: ReturnType<typeof throttlesFor> | undefined
    if (throttle !== null) {
      this.out.line('Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.')
      throttled = throttlesFor(plan, current, ongoing)
      const results = await this.withTimeout('setting the throttles', ops.setThrottles(throttled, throttle))
      const failed = results.find((r) => r.errorCode !== 0)
      if (failed) {
        const {KafkaError} = await import('../../lib/cli/errors.js')
        throw KafkaError.fromCode(failed.errorCode, `setting the throttle on ${failed.type} ${failed.name}: ${failed.errorMessage ?? failed.error}`)
      }
      this.out.line(`The inter-broker throttle limit was set to ${throttle} B/s`)
    }

    const started = await this.withTimeout('starting the reassignment', ops.alterReassignments(plan, timeout))
    const failed = started.filter((r) => r.errorCode !== 0)
    const result: ReassignExecuteResult = {rollback: JSON.parse(rollback) as ReassignmentJson, throttle, started}
    if (failed.length > 0) {
      // Nothing started: take back the throttles this command set, so that nothing is left behind.
      if (failed.length === started.length && throttled && ongoing.length === 0) await ops.clearThrottles(throttled.brokers, [...throttled.topics.keys()]).catch(() => undefined)
      this.out.line('Error reassigning partition(s):')
      this.out.lines(failed.map((r) => `${r.topic}-${r.partition}: ${r.error}${r.errorMessage ? `: ${r.errorMessage}` : ''}`))
      const named = failed.slice(0, 3).map((r) => `${r.topic}-${r.partition}: ${r.error}${r.errorMessage ? ` (${r.errorMessage})` : ''}`).join('; ')
      throw new PartialFailureError(
        `${failed.length} of ${started.length} partitions could not be reassigned: ${named}${failed.length > 3 ? `; and ${failed.length - 3} more` : ''}`,
        failed.map((r) => ({errorCode: r.errorCode, errorName: r.error, item: `${r.topic}-${r.partition}`, ...(r.errorMessage ? {message: r.errorMessage} : {})})),
        result,
      )
    }
    this.out.line(`Successfully started partition reassignment${started.length === 1 ? '' : 's'} for ${started.map((r) => `${r.topic}-${r.partition}`).join(',')}`)
    if (!flags.wait) return result

    await this.waitForCompletion(ops, plan)
    const {clearPlanThrottles, reassignmentStateLines, reassignmentStates} = await import('../../lib/client/reassignment.js')
    const {partitions, anyOngoing} = await this.withTimeout('verifying the reassignment', reassignmentStates(ops, plan, timeout))
    this.out.lines(reassignmentStateLines(partitions))
    result.completed = partitions
    result.throttlesCleared = null
    if (!anyOngoing && !flags['preserve-throttles']) {
      const cleared = await this.withTimeout('removing the throttles', clearPlanThrottles(ops, plan))
      this.out.lines(cleared.lines)
      result.throttlesCleared = {brokers: cleared.brokers, topics: cleared.topics}
    }
    return result
  }

  /** Polls until none of the plan's partitions is being reassigned, showing progress. */
  private async waitForCompletion(ops: ClusterOperations, plan: readonly PlannedPartition[]): Promise<void> {
    const tty = this.out.isTTY && !this.jsonEnabled()
    let drawn = 0
    const lastLine = new Map<string, string>()
    for (;;) {
      const progress = await this.withTimeout('following the reassignment', partitionProgress(ops, plan, this.flags.timeout))
      if (tty) {
        const lines = progress.map((p) => progressBar(p))
        process.stdout.write(`${drawn > 0 ? `\u001B[${drawn}A\u001B[J` : ''}${lines.join('\n')}\n`)
        drawn = lines.length
      } else {
        for (const p of progress) {
          const line = progressLine(p)
          if (lastLine.get(`${p.topic}-${p.partition}`) !== line) this.out.line(line)
          lastLine.set(`${p.topic}-${p.partition}`, line)
        }
      }
      if (progress.every((p) => p.fraction >= 1)) return
      await new Promise((resolve) => setTimeout(resolve, this.flags.interval))
    }
  }
}

/** Progress of each partition of `plan`: done once not listed, else the adding replicas' bytes against the leader's. */
export async function partitionProgress(ops: ClusterOperations, plan: readonly PlannedPartition[], timeoutMs: number): Promise<PartitionProgress[]> {
  const {replicaKey} = await import('../../lib/client/reassignment.js')
  const listed = await ops.listReassignments(plan.map((p) => ({topic: p.topic, partition: p.partition})), timeoutMs)
  const moving = new Map(listed.map((r) => [partitionName(r.topic, r.partition), r]))
  const metadata = moving.size > 0 ? await ops.client.refreshMetadata([...new Set(listed.map((r) => r.topic))]) : {topics: []}
  const leaders = new Map<string, number>()
  for (const t of metadata.topics) for (const p of t.partitions) leaders.set(partitionName(t.name, p.partition), p.leaderId)
  const brokers = new Set<number>()
  for (const r of listed) {
    for (const b of r.addingReplicas) brokers.add(b)
    const leader = leaders.get(partitionName(r.topic, r.partition))
    if (leader !== undefined && leader >= 0) brokers.add(leader)
  }
  const sizes = brokers.size > 0 ? await ops.replicaSizes([...brokers], listed) : new Map<string, bigint>()
  return plan.map((p) => {
    const name = partitionName(p.topic, p.partition)
    const r = moving.get(name)
    const leader = leaders.get(name) ?? -1
    if (!r) return {topic: p.topic, partition: p.partition, leader, addingReplicas: [], leaderBytes: null, copiedBytes: null, fraction: 1}
    const leaderSize = leader >= 0 ? sizes.get(replicaKey(p.topic, p.partition, leader)) : undefined
    const copied = r.addingReplicas.map((b) => sizes.get(replicaKey(p.topic, p.partition, b)))
    const known = copied.every((c) => c !== undefined) && leaderSize !== undefined
    const least = known && copied.length > 0 ? copied.reduce((a, b) => (a! < b! ? a : b))! : undefined
    const fraction = r.addingReplicas.length === 0 ? 0.99 : known && leaderSize! > 0n ? Math.min(0.99, Number(least!) / Number(leaderSize)) : 0
    return {
      topic: p.topic,
      partition: p.partition,
      leader,
      addingReplicas: r.addingReplicas,
      leaderBytes: leaderSize === undefined ? null : Number(leaderSize),
      copiedBytes: least === undefined ? null : Number(least),
      fraction,
    }
  })
}

function formatBytes(n: number | null): string {
  if (n === null) return '?'
  if (n < 1e3) return `${n} B`
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`
  return `${(n / 1e9).toFixed(2)} GB`
}

/** A line for a log: `big-0: 45% (12.3 MB of 27.1 MB) adding 3`, or `big-0: done`. */
export function progressLine(p: PartitionProgress): string {
  if (p.fraction >= 1) return `${p.topic}-${p.partition}: done`
  const adding = p.addingReplicas.length > 0 ? ` adding ${p.addingReplicas.join(',')}` : ''
  return `${p.topic}-${p.partition}: ${Math.floor(p.fraction * 100)}% (${formatBytes(p.copiedBytes)} of ${formatBytes(p.leaderBytes)})${adding}`
}

/** A terminal progress bar: `big-0  [#########...........]  45%  12.3 MB / 27.1 MB  -> 3`. */
export function progressBar(p: PartitionProgress, width = 30): string {
  const filled = Math.round(Math.min(1, p.fraction) * width)
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
  const pct = `${Math.floor(Math.min(1, p.fraction) * 100)}%`.padStart(4)
  const detail = p.fraction >= 1 ? 'done' : `${formatBytes(p.copiedBytes)} / ${formatBytes(p.leaderBytes)}${p.addingReplicas.length > 0 ? `  -> ${p.addingReplicas.join(',')}` : ''}`
  return `${`${p.topic}-${p.partition}`.padEnd(20)} ${bar} ${pct}  ${detail}`
}
