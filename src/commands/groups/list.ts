import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {Admin} from '../../lib/client/admin.js'
import {groupLag} from '../../lib/client/group-lag.js'

export interface GroupSummary {
  groupId: string
  state: string
  protocolType: string
  type: string | null
  members: number
  /** Sum over the group's partitions of (latest offset - committed offset); null when unknown. */
  lag: bigint | null
  coordinatorId: number
}

export interface GroupsListResult {
  groups: GroupSummary[]
}

export default class GroupsList extends BaseCommand<typeof GroupsList> {
  static override description = `Lists the consumer groups of the cluster (ListGroups on every broker) with their state, number of members and total lag (latest offset minus committed offset, summed over the group's partitions). --no-lag skips the offset lookups.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Groups with state, members and lag.'},
    {command: '<%= config.bin %> <%= command.id %> --state Empty --json', description: 'Groups without members, as JSON.'},
  ]
  static override flags = {
    lag: Flags.boolean({allowNo: true, default: true, summary: 'Compute each group\'s total lag.'}),
    state: Flags.string({helpValue: '<state>', multiple: true, summary: 'Only groups in this state (Stable, Empty, PreparingRebalance, ...).'}),
  }
  static override summary = 'List consumer groups.'

  async run(): Promise<GroupsListResult> {
    const admin = new Admin(await this.kafka())
    const listed = await this.withTimeout('listing groups', admin.listGroups())
    const ids = listed.map((g) => g.groupId)
    const described = ids.length > 0 ? await this.withTimeout('describing groups', admin.describeGroups(ids)) : []
    let groups: GroupSummary[] = listed.map((g, i) => ({
      groupId: g.groupId,
      state: described[i]?.errorCode === 0 ? described[i]!.state : (g.state ?? 'Unknown'),
      protocolType: g.protocolType,
      type: g.type,
      members: described[i]?.members.length ?? 0,
      lag: null,
      coordinatorId: g.coordinatorId,
    }))
    if (this.flags.state) groups = groups.filter((g) => this.flags.state!.some((s) => s.toLowerCase() === g.state.toLowerCase()))
    if (this.flags.lag) {
      await this.withTimeout(
        'computing lag',
        Promise.all(
          groups.map(async (g) => {
            if (g.protocolType !== 'consumer' && g.protocolType !== '') return
            const partitions = await groupLag(admin, g.groupId)
            g.lag = partitions.length === 0 ? null : partitions.reduce((sum, p) => sum + (p.lag ?? 0n), 0n)
          }),
        ),
      )
    }
    const c = this.out.color
    this.out.table(
      [{header: 'Group'}, {header: 'State'}, {align: 'right', header: 'Members'}, {align: 'right', header: 'Lag'}],
      groups.map((g) => [g.groupId, g.state === 'Stable' ? c.green(g.state) : g.state === 'Dead' ? c.red(g.state) : c.yellow(g.state), g.members, g.lag ?? '']),
    )
    return {groups}
  }
}
