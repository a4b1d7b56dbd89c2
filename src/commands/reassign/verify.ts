import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {PartialFailureError} from '../../lib/cli/errors.js'
import {readDocument} from '../../lib/client/plan-input.js'
import {parseReassignmentJson} from '../../lib/client/reassignment-plan.js'
import type {PartitionReassignmentState} from '../../lib/client/reassignment.js'

export interface ReassignVerifyResult {
  partitions: PartitionReassignmentState[]
  /** Every partition of the plan has its target replicas and no reassignment runs in the cluster. */
  complete: boolean
  /** The throttles were removed (complete, without --preserve-throttles). */
  throttlesCleared: {brokers: number[]; topics: string[]} | null
}

export default class ReassignVerify extends BaseCommand<typeof ReassignVerify> {
  static override description = `Shows where each partition of a reassignment plan stands, as kafka-reassign-partitions.sh --verify does: completed, still in progress, or not reassigned but on other replicas than the plan's. Once nothing is moving in the cluster it removes the replication throttles (leader/follower.replication.throttled.rate and replica.alter.log.dirs.io.max.bytes.per.second on every broker, leader/follower.replication.throttled.replicas on the plan's topics) unless --preserve-throttles. Exits 0 while the reassignment runs or when it is complete; 1 when a partition has neither a reassignment nor its target replicas (a cancelled or failed move).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --reassignment-json-file plan.json', description: 'Check progress; remove the throttles once done.'},
    {command: '<%= config.bin %> <%= command.id %> < plan.json --json | jq .complete', description: 'The plan from standard input.'},
  ]
  static override flags = {
    'preserve-throttles': Flags.boolean({summary: 'Keep the throttles even when the reassignment is complete.'}),
    'reassignment-json-file': Flags.string({char: 'f', helpValue: '<file>', summary: "The plan, in Kafka's reassignment JSON (default or '-': standard input)."}),
  }
  static override summary = 'Check a reassignment; remove its throttles once complete.'

  async run(): Promise<ReassignVerifyResult> {
    const {text, what} = await readDocument(this.flags['reassignment-json-file'], '--reassignment-json-file')
    const plan = parseReassignmentJson(text, what)
    const {ClusterOperations, clearPlanThrottles, reassignmentStateLines, reassignmentStates} = await import('../../lib/client/reassignment.js')
    const ops = new ClusterOperations(await this.kafka())
    const {partitions, anyOngoing} = await this.withTimeout('verifying the reassignment', reassignmentStates(ops, plan, this.flags.timeout))
    this.out.lines(reassignmentStateLines(partitions))
    const complete = !anyOngoing && partitions.every((p) => p.state === 'completed')
    let throttlesCleared: ReassignVerifyResult['throttlesCleared'] = null
    if (!anyOngoing && !this.flags['preserve-throttles']) {
      const cleared = await this.withTimeout('removing the throttles', clearPlanThrottles(ops, plan))
      this.out.lines(cleared.lines)
      throttlesCleared = {brokers: cleared.brokers, topics: cleared.topics}
    }
    const result = {partitions, complete, throttlesCleared}
    const off = partitions.filter((p) => p.state === 'not-in-target')
    if (off.length > 0) {
      throw new PartialFailureError(
        `${off.length} of ${partitions.length} partitions are not on their target replicas and not being reassigned: ${off.map((p) => `${p.topic}-${p.partition}`).join(', ')}`,
        off.map((p) => ({errorCode: -1, errorName: 'NOT_REASSIGNED', item: `${p.topic}-${p.partition}`, message: `replicas ${p.currentReplicas.join(',')} rather than ${p.targetReplicas.join(',')}`})),
        result,
      )
    }
    return result
  }
}
