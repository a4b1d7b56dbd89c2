import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {readDocument} from '../../lib/client/plan-input.js'
import {parseReassignmentJson} from '../../lib/client/reassignment-plan.js'
import type {PartitionItemResult} from '../../lib/client/reassignment.js'

export interface ReassignCancelResult {
  /** The partitions whose reassignment was cancelled (their original replicas are restored). */
  cancelled: PartitionItemResult[]
  throttlesCleared: {brokers: number[]; topics: string[]} | null
}

export default class ReassignCancel extends BaseCommand<typeof ReassignCancel> {
  static override description = `Cancels the reassignments of a plan's partitions that are in progress, as kafka-reassign-partitions.sh --cancel does (AlterPartitionReassignments with no target): the partitions go back to their original replicas and the partial copies are removed. Then removes the replication throttles unless --preserve-throttles.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --reassignment-json-file plan.json', description: 'Cancel, restore the old replicas, remove the throttles.'},
  ]
  static override flags = {
    'preserve-throttles': Flags.boolean({summary: 'Keep the throttles.'}),
    'reassignment-json-file': Flags.string({char: 'f', helpValue: '<file>', summary: "The plan, in Kafka's reassignment JSON (default or '-': standard input)."}),
  }
  static override summary = 'Cancel the reassignments of a plan.'

  async run(): Promise<ReassignCancelResult> {
    const {text, what} = await readDocument(this.flags['reassignment-json-file'], '--reassignment-json-file')
    const plan = parseReassignmentJson(text, what)
    const {ClusterOperations, clearPlanThrottles} = await import('../../lib/client/reassignment.js')
    const ops = new ClusterOperations(await this.kafka())
    const timeout = this.flags.timeout
    const listed = await this.withTimeout('listing reassignments', ops.listReassignments(plan.map((p) => ({topic: p.topic, partition: p.partition})), timeout))
    // Kafka's cancelAssignment cancels a listed partition unless it only adds replicas and removes none.
    const active = listed.filter((r) => r.addingReplicas.length === 0 || r.removingReplicas.length > 0)
    let cancelled: PartitionItemResult[] = []
    if (active.length > 0) {
      cancelled = await this.withTimeout('cancelling reassignments', ops.alterReassignments(active.map((r) => ({topic: r.topic, partition: r.partition, replicas: null})), timeout))
      const failed = cancelled.filter((r) => r.errorCode !== 0)
      if (failed.length > 0) {
        this.out.line(`Error cancelling partition reassignment${failed.length === 1 ? '' : 's'} for:`)
        this.out.lines(failed.map((r) => `${r.topic}-${r.partition}: ${r.errorMessage ?? r.error}`))
        failIfAny(failed.map((r) => ({...r, item: `${r.topic}-${r.partition}`})), cancelled.length, 'cancellations', {cancelled, throttlesCleared: null})
      }
      this.out.line(`Successfully cancelled partition reassignment${cancelled.length === 1 ? '' : 's'} for: ${cancelled.map((r) => `${r.topic}-${r.partition}`).join(',')}`)
    } else {
      this.out.line('None of the specified partition reassignments are active.')
    }
    let throttlesCleared: ReassignCancelResult['throttlesCleared'] = null
    if (!this.flags['preserve-throttles']) {
      const cleared = await this.withTimeout('removing the throttles', clearPlanThrottles(ops, plan))
      this.out.lines(cleared.lines)
      throttlesCleared = {brokers: cleared.brokers, topics: cleared.topics}
    }
    return {cancelled, throttlesCleared}
  }
}
