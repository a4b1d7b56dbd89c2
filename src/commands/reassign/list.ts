import {BaseCommand} from '../../lib/cli/base-command.js'
import type {OngoingReassignment} from '../../lib/client/reassignment-plan.js'

export interface ReassignListResult {
  reassignments: OngoingReassignment[]
}

/** Kafka's curReassignmentsToString lines: `big-0: replicas: 1,3,2. adding: 3. removing: 2.` */
export function reassignmentLines(reassignments: readonly OngoingReassignment[]): string[] {
  if (reassignments.length === 0) return ['No partition reassignments found.']
  return [
    'Current partition reassignments:',
    ...reassignments.map(
      (r) =>
        `${r.topic}-${r.partition}: replicas: ${r.replicas.join(',')}.${r.addingReplicas.length > 0 ? ` adding: ${r.addingReplicas.join(',')}.` : ''}${r.removingReplicas.length > 0 ? ` removing: ${r.removingReplicas.join(',')}.` : ''}`,
    ),
  ]
}

export default class ReassignList extends BaseCommand<typeof ReassignList> {
  static override description = `Lists the partition reassignments in progress (ListPartitionReassignments), as kafka-reassign-partitions.sh --list does: each partition's replicas, and those being added and removed.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Reassignments in progress.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq ".reassignments | length"', description: 'How many partitions are moving.'},
  ]
  static override summary = 'List partition reassignments in progress.'

  async run(): Promise<ReassignListResult> {
    const {ClusterOperations} = await import('../../lib/client/reassignment.js')
    const ops = new ClusterOperations(await this.kafka())
    const reassignments = await this.withTimeout('listing reassignments', ops.listReassignments(null, this.flags.timeout))
    this.out.lines(reassignmentLines(reassignments))
    return {reassignments}
  }
}
