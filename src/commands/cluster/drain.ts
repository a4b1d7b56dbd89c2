import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {NotFoundError} from '../../lib/cli/errors.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {drainedOrder} from '../../lib/client/reassignment-plan.js'

export interface DrainedPartitionResult {
  topic: string
  partition: number
  replicasBefore: number[]
  replicasAfter: number[]
  leaderBefore: number
  leaderAfter: number
  /** moved: the broker no longer leads it; failed: it still does (see error). */
  result: 'failed' | 'moved'
  error: string | null
}

export interface ClusterDrainResult {
  broker: number
  /** Where the original replica orders are kept for `cluster undrain`. */
  stateFile: string
  partitions: DrainedPartitionResult[]
}

export default class ClusterDrain extends BaseCommand<typeof ClusterDrain> {
  static override args = {
    broker: Args.integer({description: 'The broker id to take leadership off.', min: 0, required: true}),
  }
  static override description = `Moves partition leadership off a broker before maintenance, with the public protocol only (so it works on Apache Kafka too): every partition the broker leads or is the preferred leader of gets its replicas reordered — the first other in-sync replica first, the broker last, a reassignment that moves no data — and then a preferred leader election. The broker stays a replica, in sync, and keeps replicating. The original orders are recorded in a local state file ($XDG_CONFIG_HOME/kcli/drains/<cluster id>/broker-<id>.json, or --state-file) before anything changes, for \`kcli cluster undrain\`. A partition with no other in-sync replica keeps its leader and is reported (exit 1).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 3', description: 'Take leadership off broker 3.'},
    {command: '<%= config.bin %> cluster undrain 3', description: 'Afterwards: restore the order and leadership.'},
  ]
  static override flags = {
    'state-file': Flags.string({helpValue: '<path>', summary: 'Where to record the original replica orders (default: under $XDG_CONFIG_HOME/kcli/drains).'}),
  }
  static override summary = 'Move partition leadership off a broker (for maintenance).'

  async run(): Promise<ClusterDrainResult> {
    const broker = this.args.broker
    const {ClusterOperations, reorderAndElect} = await import('../../lib/client/reassignment.js')
    const {drainStatePath, loadDrainState, mergeDrainState, saveDrainState} = await import('../../lib/client/drain-state.js')
    const ops = new ClusterOperations(await this.kafka())
    const timeout = this.flags.timeout
    const brokers = await this.withTimeout('describing the cluster', ops.brokerIds())
    if (!brokers.includes(broker)) throw new NotFoundError(`Unknown broker id ${broker} (the cluster's brokers are ${brokers.join(',')})`)
    const before = await this.withTimeout('reading metadata', ops.client.refreshMetadata(null))
    const stateFile = this.flags['state-file'] ?? drainStatePath(before.clusterId, broker)

    const affected = before.topics.flatMap((t) => t.partitions.filter((p) => p.replicas.includes(broker) && (p.replicas[0] === broker || p.leaderId === broker)).map((p) => ({topic: t.name, ...p})))
    const plans = affected.map((p) => ({p, order: drainedOrder(p.replicas, p.isr, broker)}))
    const reorders = plans.filter((x) => x.order && x.order.join(',') !== x.p.replicas.join(',')).map((x) => ({topic: x.p.topic, partition: x.p.partition, replicas: x.order!}))
    if (reorders.length > 0) {
      const recorded = reorders.map((r) => ({topic: r.topic, partition: r.partition, original: affected.find((a) => a.topic === r.topic && a.partition === r.partition)!.replicas, drained: r.replicas}))
      saveDrainState(stateFile, mergeDrainState(loadDrainState(stateFile), {version: 1, clusterId: before.clusterId, broker, drainedAt: new Date().toISOString()}, recorded))
    }
    const drainable = plans.filter((x) => x.order).map((x) => ({topic: x.p.topic, partition: x.p.partition}))
    const {reordered, elected} = await this.withTimeout('draining', reorderAndElect(ops, reorders, drainable, timeout))
    const after = affected.length > 0 ? await this.withTimeout('reading metadata', ops.client.refreshMetadata([...new Set(affected.map((p) => p.topic))])) : before
    const find = (topic: string, partition: number) => after.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partition === partition)
    const partitions: DrainedPartitionResult[] = plans.map(({p, order}) => {
      const now = find(p.topic, p.partition)
      const reorderError = reordered.find((r) => r.topic === p.topic && r.partition === p.partition && r.errorCode !== 0)
      const electError = elected.find((r) => r.topic === p.topic && r.partition === p.partition && r.errorCode !== 0 && r.errorCode !== 84)
      const leaderAfter = now?.leaderId ?? -1
      const moved = leaderAfter !== broker
      const error = moved ? null : !order ? 'no other in-sync replica' : reorderError ? `${reorderError.error}: ${reorderError.errorMessage ?? ''}` : electError ? `${electError.error}: ${electError.errorMessage ?? ''}` : 'still the leader'
      return {topic: p.topic, partition: p.partition, replicasBefore: p.replicas, replicasAfter: now?.replicas ?? p.replicas, leaderBefore: p.leaderId, leaderAfter, result: moved ? 'moved' : 'failed', error}
    })
    if (partitions.length === 0) this.out.line(`Broker ${broker} leads no partition and is the preferred leader of none: nothing to drain.`)
    else {
      const c = this.out.color
      this.out.table(
        [{header: 'Partition'}, {header: 'Replicas'}, {header: 'Now'}, {align: 'right', header: 'Leader before'}, {align: 'right', header: 'Leader after'}, {header: 'Result'}],
        partitions.map((p) => [`${p.topic}-${p.partition}`, p.replicasBefore.join(','), p.replicasAfter.join(','), p.leaderBefore < 0 ? 'none' : p.leaderBefore, p.leaderAfter < 0 ? 'none' : p.leaderAfter, p.result === 'moved' ? c.green('moved') : c.red(p.error ?? 'failed')]),
      )
      if (reorders.length > 0) this.out.line(`\nOriginal replica orders recorded in ${stateFile}; \`kcli cluster undrain ${broker}\` restores them.`)
    }
    const result = {broker, stateFile, partitions}
    const failed = partitions.filter((p) => p.result === 'failed')
    failIfAny(failed.map((p) => ({item: `${p.topic}-${p.partition}`, errorCode: -1, error: 'STILL_LEADER', errorMessage: p.error})), partitions.length, 'partitions', result)
    return result
  }
}
