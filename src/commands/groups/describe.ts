import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin, type GroupMember} from '../../lib/client/admin.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import {groupLag, type PartitionLag} from '../../lib/client/group-lag.js'

export interface GroupsDescribeGroup {
  groupId: string
  state: string
  protocolType: string
  protocol: string
  coordinatorId: number
  members: GroupMember[]
  partitions: PartitionLag[]
  lag: bigint
  error: string
  errorCode: number
}

export interface GroupsDescribeResult {
  groups: GroupsDescribeGroup[]
}

export default class GroupsDescribe extends BaseCommand<typeof GroupsDescribe> {
  static override args = {
    group: Args.string({description: 'Group id(s).', required: true}),
  }
  static override description = `Shows a consumer group's state, members, and per partition the committed offset, the latest offset, the lag, and the member (client id, host) the partition is assigned to, as kafka-consumer-groups --describe does.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> billing', description: 'Offsets, lag and members of a group.'},
    {command: '<%= config.bin %> <%= command.id %> billing --json | jq ".groups[0].lag"', description: 'Total lag for a script.'},
  ]
  static override strict = false
  static override summary = 'Describe consumer groups: members, offsets, lag.'

  async run(): Promise<GroupsDescribeResult> {
    const admin = new Admin(await this.kafka())
    const described = await this.withTimeout('describing groups', admin.describeGroups(this.positionals))
    const groups: GroupsDescribeGroup[] = await this.withTimeout(
      'reading offsets',
      Promise.all(
        described.map(async (d) => {
          const partitions = d.errorCode === 0 ? await groupLag(admin, d.groupId, d) : []
          return {
            groupId: d.groupId,
            state: d.state,
            protocolType: d.protocolType,
            protocol: d.protocol,
            coordinatorId: d.coordinatorId,
            members: d.members,
            partitions,
            lag: partitions.reduce((sum, p) => sum + (p.lag ?? 0n), 0n),
            error: d.error,
            errorCode: d.errorCode,
          }
        }),
      ),
    )
    const c = this.out.color
    for (const [i, g] of groups.entries()) {
      if (i > 0) this.out.line()
      if (g.errorCode !== 0) {
        this.out.line(`${c.bold(g.groupId)}: ${c.red(g.error)}`)
        continue
      }
      this.out.keyValues([
        ['Group', g.groupId],
        ['State', g.state],
        ['Protocol', g.protocol === '' ? g.protocolType : `${g.protocolType}/${g.protocol}`],
        ['Coordinator', g.coordinatorId],
        ['Members', g.members.length],
        ['Lag', g.lag],
      ])
      if (g.partitions.length > 0) {
        this.out.line()
        this.out.table(
          [
            {header: 'Topic'},
            {align: 'right', header: 'Partition'},
            {align: 'right', header: 'Current'},
            {align: 'right', header: 'End'},
            {align: 'right', header: 'Lag'},
            {header: 'Member'},
            {header: 'Client'},
            {header: 'Host'},
          ],
          g.partitions.map((p) => [p.topic, p.partition, p.currentOffset ?? '-', p.endOffset ?? '-', p.lag ?? '-', p.memberId ?? '-', p.clientId ?? '-', p.host ?? '-']),
        )
      }
    }
    const result = {groups}
    failIfAny(groups.filter((g) => g.errorCode !== 0).map((g) => ({...g, item: `group ${g.groupId}`})), groups.length, 'groups', result)
    return result
  }
}
