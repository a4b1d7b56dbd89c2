import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {KafkaError} from '../../lib/cli/errors.js'
import {Admin} from '../../lib/client/admin.js'
import {groupLag} from '../../lib/client/group-lag.js'
import {type InternalTopic, internalTopics, isInternalTopic, memberTasks} from '../../lib/client/streams-app.js'

export interface StreamsMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  host: string
  /** Tasks (`<sub-topology>_<partition>`); null when the assignment is not kcli Streams' (a JVM Kafka Streams member). */
  activeTasks: string[] | null
  standbyTasks: string[] | null
  partitions: {topic: string; partitions: number[]}[]
}

export interface StreamsPartition {
  topic: string
  partition: number
  /** input: a topic the application reads; repartition: one of its internal topics. */
  kind: 'input' | 'repartition'
  task: string | null
  currentOffset: bigint | null
  endOffset: bigint | null
  lag: bigint | null
  memberId: string | null
  clientId: string | null
}

export interface StreamsDescribeResult {
  applicationId: string
  state: string
  protocol: string
  coordinatorId: number
  members: StreamsMember[]
  partitions: StreamsPartition[]
  /** Total lag over the input (non-internal) partitions. */
  lag: bigint
  internalTopics: InternalTopic[]
}

export default class StreamsDescribe extends BaseCommand<typeof StreamsDescribe> {
  static override description = `Shows a Streams application (kcli Streams or Kafka Streams) as the cluster sees it: its consumer group (group id = application.id) with its state and members, the tasks each member runs and keeps standbys of (kcli Streams members), per input and repartition partition the committed offset, the end offset, the lag, its task and member, and the application's internal topics (<application.id>-...-changelog / -repartition).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --application-id wordcount', description: 'Members, tasks, lag and internal topics.'},
    {command: '<%= config.bin %> <%= command.id %> --application-id wordcount --json | jq .lag', description: 'Total input lag for a script.'},
  ]
  static override flags = {
    'application-id': Flags.string({helpValue: '<id>', required: true, summary: 'The application.id (its group id).'}),
  }
  static override summary = 'Describe a Streams application: group, members, tasks, lag, internal topics.'

  async run(): Promise<StreamsDescribeResult> {
    const applicationId = this.flags['application-id']
    const admin = new Admin(await this.kafka())
    const [group] = await this.withTimeout('describing the group', admin.describeGroups([applicationId]))
    if (group!.errorCode !== 0) throw KafkaError.fromCode(group!.errorCode, `application ${applicationId}`)
    const [lags, internal] = await this.withTimeout('reading offsets and topics', Promise.all([groupLag(admin, applicationId, group), internalTopics(admin, applicationId)]))
    const members: StreamsMember[] = group!.members.map((m) => {
      const tasks = memberTasks(m.memberAssignment)
      return {activeTasks: tasks?.active ?? null, clientId: m.clientId, groupInstanceId: m.groupInstanceId, host: m.clientHost, memberId: m.memberId, partitions: m.assignment, standbyTasks: tasks?.standby ?? null}
    })
    const topicToSub: Record<string, number> = {}
    for (const m of group!.members) Object.assign(topicToSub, memberTasks(m.memberAssignment)?.topics ?? {})
    const partitions: StreamsPartition[] = lags
      .filter((p) => !isInternalTopic(applicationId, p.topic) || p.topic.endsWith('-repartition'))
      .map((p) => ({
        clientId: p.clientId,
        currentOffset: p.currentOffset,
        endOffset: p.endOffset,
        kind: isInternalTopic(applicationId, p.topic) ? 'repartition' : 'input',
        lag: p.lag,
        memberId: p.memberId,
        partition: p.partition,
        task: topicToSub[p.topic] === undefined ? null : `${topicToSub[p.topic]}_${p.partition}`,
        topic: p.topic,
      }))
    const result: StreamsDescribeResult = {
      applicationId,
      coordinatorId: group!.coordinatorId,
      internalTopics: internal,
      lag: partitions.filter((p) => p.kind === 'input').reduce((sum, p) => sum + (p.lag ?? 0n), 0n),
      members,
      partitions,
      protocol: group!.protocol,
      state: group!.state,
    }
    this.out.keyValues([
      ['Application', applicationId],
      ['State', result.state],
      ['Protocol', result.protocol === '' ? '-' : result.protocol],
      ['Coordinator', result.coordinatorId],
      ['Members', members.length],
      ['Input lag', result.lag],
    ])
    if (members.length > 0) {
      this.out.line()
      this.out.table(
        [{header: 'Member'}, {header: 'Instance'}, {header: 'Client'}, {header: 'Host'}, {header: 'Active tasks'}, {header: 'Standby tasks'}],
        members.map((m) => [m.memberId, m.groupInstanceId ?? '-', m.clientId, m.host, m.activeTasks?.join(',') || '-', m.standbyTasks?.join(',') || '-']),
      )
    }
    if (partitions.length > 0) {
      this.out.line()
      this.out.table(
        [{header: 'Topic'}, {align: 'right', header: 'Partition'}, {header: 'Kind'}, {header: 'Task'}, {align: 'right', header: 'Current'}, {align: 'right', header: 'End'}, {align: 'right', header: 'Lag'}, {header: 'Member'}],
        partitions.map((p) => [p.topic, p.partition, p.kind, p.task ?? '-', p.currentOffset ?? '-', p.endOffset ?? '-', p.lag ?? '-', p.memberId ?? '-']),
      )
    }
    this.out.line()
    if (internal.length === 0) this.out.line('No internal topics.')
    else this.out.table([{header: 'Internal topic'}, {header: 'Kind'}, {align: 'right', header: 'Partitions'}], internal.map((t) => [t.name, t.kind, t.partitions]))
    return result
  }
}
