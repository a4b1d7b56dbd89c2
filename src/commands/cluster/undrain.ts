import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {NotFoundError} from '../../lib/cli/errors.js'
import {failIfAny} from '../../lib/client/cli-input.js'

export interface UndrainedPartitionResult {
  topic: string
  partition: number
  replicasBefore: number[]
  replicasAfter: number[]
  leaderAfter: number
  /** restored: original order and preferred leader back; skipped: the partition changed since (or is gone); failed: see error. */
  result: 'failed' | 'restored' | 'skipped'
  error: string | null
}

export interface ClusterUndrainResult {
  broker: number
  stateFile: string
  partitions: UndrainedPartitionResult[]
}

export default class ClusterUndrain extends BaseCommand<typeof ClusterUndrain> {
  static override args = {
    broker: Args.integer({description: 'The broker id drained before.', min: 0, required: true}),
  }
  static override description = `Undoes \`kcli cluster drain\`: restores the replica order recorded in the drain's state file (a reassignment that moves no data) and runs a preferred leader election, so the broker leads its partitions again. The broker must be back in the partitions' ISR (else PREFERRED_LEADER_NOT_AVAILABLE: run it again later). A partition whose replicas changed since the drain, or that no longer exists, is skipped. The state file is removed once nothing is left to restore.`
  static override examples = [{command: '<%= config.bin %> <%= command.id %> 3', description: 'Give broker 3 its leadership back.'}]
  static override flags = {
    'state-file': Flags.string({helpValue: '<path>', summary: 'The state file the drain wrote (default: under $XDG_CONFIG_HOME/kcli/drains).'}),
  }
  static override summary = 'Restore the leadership a drain moved off a broker.'

  async run(): Promise<ClusterUndrainResult> {
    const broker = this.args.broker
    const {ClusterOperations, reorderAndElect} = await import('../../lib/client/reassignment.js')
    const {drainStatePath, loadDrainState, removeDrainState, saveDrainState} = await import('../../lib/client/drain-state.js')
    const ops = new ClusterOperations(await this.kafka())
    const timeout = this.flags.timeout
    const cluster = await this.withTimeout('reading metadata', ops.client.refreshMetadata([]))
    const stateFile = this.flags['state-file'] ?? drainStatePath(cluster.clusterId, broker)
    const state = loadDrainState(stateFile)
    if (!state || state.broker !== broker) throw new NotFoundError(`no drain of broker ${broker} is recorded in ${stateFile} (give --state-file if it was drained from another machine)`)

    const metadata = await this.withTimeout('reading metadata', ops.client.refreshMetadata([...new Set(state.partitions.map((p) => p.topic))]))
    const find = (m: typeof metadata, topic: string, partition: number) => m.topics.find((t) => t.name === topic && t.errorCode === 0)?.partitions.find((p) => p.partition === partition)
    const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',')
    const restorable = state.partitions.filter((p) => {
      const now = find(metadata, p.topic, p.partition)
      return now !== undefined && sameSet(now.replicas, p.original)
    })
    const reorders = restorable.filter((p) => find(metadata, p.topic, p.partition)!.replicas.join(',') !== p.original.join(',')).map((p) => ({topic: p.topic, partition: p.partition, replicas: p.original}))
    const {reordered, elected} = await this.withTimeout('restoring', reorderAndElect(ops, reorders, restorable, timeout))
    const after = await this.withTimeout('reading metadata', ops.client.refreshMetadata([...new Set(state.partitions.map((p) => p.topic))]))

    const partitions: UndrainedPartitionResult[] = state.partitions.map((p) => {
      const then = find(metadata, p.topic, p.partition)
      const now = find(after, p.topic, p.partition)
      const base = {topic: p.topic, partition: p.partition, replicasBefore: then?.replicas ?? [], replicasAfter: now?.replicas ?? [], leaderAfter: now?.leaderId ?? -1}
      if (!then) return {...base, result: 'skipped', error: 'the partition no longer exists'}
      if (!sameSet(then.replicas, p.original)) return {...base, result: 'skipped', error: `its replicas changed since the drain (${then.replicas.join(',')}, drained from ${p.original.join(',')})`}
      const reorderError = reordered.find((r) => r.topic === p.topic && r.partition === p.partition && r.errorCode !== 0)
      const electError = elected.find((r) => r.topic === p.topic && r.partition === p.partition && r.errorCode !== 0 && r.errorCode !== 84)
      const error = reorderError ? `${reorderError.error}: ${reorderError.errorMessage ?? ''}` : electError ? `${electError.error}: ${electError.errorMessage ?? ''}` : null
      return {...base, result: error ? 'failed' : 'restored', error}
    })

    const left = state.partitions.filter((p) => partitions.find((r) => r.topic === p.topic && r.partition === p.partition)?.result === 'failed')
    if (left.length === 0) removeDrainState(stateFile)
    else saveDrainState(stateFile, {...state, partitions: left})

    const c = this.out.color
    this.out.table(
      [{header: 'Partition'}, {header: 'Replicas'}, {header: 'Now'}, {align: 'right', header: 'Leader'}, {header: 'Result'}],
      partitions.map((p) => [`${p.topic}-${p.partition}`, p.replicasBefore.join(','), p.replicasAfter.join(','), p.leaderAfter < 0 ? 'none' : p.leaderAfter, p.result === 'restored' ? c.green('restored') : p.result === 'skipped' ? c.yellow(`skipped: ${p.error}`) : c.red(p.error ?? 'failed')]),
    )
    const result = {broker, stateFile, partitions}
    const failed = partitions.filter((p) => p.result === 'failed')
    failIfAny(failed.map((p) => ({item: `${p.topic}-${p.partition}`, errorCode: -1, error: 'NOT_RESTORED', errorMessage: p.error})), partitions.length, 'partitions', result)
    return result
  }
}
