// The group commands need the broker's group coordinator (FindCoordinator, JoinGroup, ...,
// OffsetCommit/Fetch, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete); each test is
// skipped while the broker does not advertise the APIs it uses.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import Consume from '../../../src/commands/consume/index.js'
import GroupsDelete, {type GroupsDeleteResult} from '../../../src/commands/groups/delete.js'
import GroupsDeleteOffsets, {type GroupsDeleteOffsetsResult} from '../../../src/commands/groups/delete-offsets.js'
import GroupsDescribe, {type GroupsDescribeResult} from '../../../src/commands/groups/describe.js'
import GroupsList, {type GroupsListResult} from '../../../src/commands/groups/list.js'
import GroupsResetOffsets, {type GroupsResetOffsetsResult} from '../../../src/commands/groups/reset-offsets.js'
import Produce from '../../../src/commands/produce/index.js'
import TopicsCreate from '../../../src/commands/topics/create.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {advertisedApis, json, kcli, startBroker, type TestBroker} from '../helpers.js'

const apis = await advertisedApis()
const has = (...keys: number[]) => keys.every((k) => apis.has(k))
const classic = has(ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.OffsetCommit, ApiKey.OffsetFetch)
if (!classic) console.warn('test/commands/groups: the broker does not advertise the group APIs yet; group tests skipped')

let broker: TestBroker
beforeAll(async () => {
  broker = await startBroker()
  await kcli(TopicsCreate, broker.bootstrap, ['events', '-p', '2'])
  await kcli(Produce, broker.bootstrap, ['-t', 'events', '-K', ':'], {stdin: `${Array.from({length: 10}, (_, i) => `k${i}:v${i}`).join('\n')}\n`})
})
afterAll(async () => {
  await broker?.stop()
})

describe('kcli groups', () => {
  it.skipIf(!classic)('consume --group commits; a second run starts at the committed offsets', async () => {
    const first = await kcli(Consume, broker.bootstrap, ['-t', 'events', '-g', 'billing', '--from-beginning', '--exit'])
    expect(first.stderr).toBe('')
    expect(first.exitCode).toBe(0)
    expect(first.stdout.trimEnd().split('\n').sort()).toEqual(Array.from({length: 10}, (_, i) => `v${i}`).sort())
    await kcli(Produce, broker.bootstrap, ['-t', 'events', '-p', '0'], {stdin: 'late\n'})
    const second = await kcli(Consume, broker.bootstrap, ['-t', 'events', '-g', 'billing', '--exit'])
    expect(second.exitCode).toBe(0)
    expect(second.stdout).toBe('late\n')
  })

  it.skipIf(!has(ApiKey.ListGroups, ApiKey.DescribeGroups, ApiKey.OffsetFetch) || !classic)('lists and describes groups with lag', async () => {
    await kcli(Consume, broker.bootstrap, ['-t', 'events', '-g', 'lagging', '--from-beginning', '--count', '3'])
    const list = await kcli(GroupsList, broker.bootstrap, [])
    expect(list.exitCode).toBe(0)
    expect(list.stdout).toMatch(/^GROUP +STATE +MEMBERS +LAG$/m)
    expect(list.stdout).toMatch(/^lagging +Empty +0 +8$/m)
    const listed = json<GroupsListResult>(await kcli(GroupsList, broker.bootstrap, ['--json']))
    expect(listed.groups.find((g) => g.groupId === 'lagging')).toMatchObject({lag: 8, members: 0, protocolType: 'consumer', state: 'Empty'})

    const describe = await kcli(GroupsDescribe, broker.bootstrap, ['lagging'])
    expect(describe.exitCode).toBe(0)
    expect(describe.stdout).toMatch(/^Lag: +8$/m)
    expect(describe.stdout).toMatch(/^TOPIC +PARTITION +CURRENT +END +LAG +MEMBER +CLIENT +HOST$/m)
    const described = json<GroupsDescribeResult>(await kcli(GroupsDescribe, broker.bootstrap, ['lagging', '--json']))
    const partitions = described.groups[0]!.partitions
    expect(partitions.reduce((sum, p) => sum + Number(p.lag ?? 0), 0)).toBe(8)
    expect(partitions.every((p) => p.topic === 'events')).toBe(true)
  })

  it.skipIf(!classic || !has(ApiKey.DescribeGroups, ApiKey.ListOffsets))('reset-offsets: a dry run by default, --execute commits', async () => {
    await kcli(Consume, broker.bootstrap, ['-t', 'events', '-g', 'resettable', '--from-beginning', '--exit'])
    const dry = await kcli<GroupsResetOffsetsResult>(GroupsResetOffsets, broker.bootstrap, ['resettable', '--topic', 'events', '--to-earliest'])
    expect(dry.exitCode).toBe(0)
    expect(dry.stdout).toMatch(/Dry run: nothing committed/)
    expect(dry.result!.executed).toBe(false)
    expect(dry.result!.partitions.every((p) => p.newOffset === 0n)).toBe(true)

    const exec = json<GroupsResetOffsetsResult>(await kcli(GroupsResetOffsets, broker.bootstrap, ['resettable', '--topic', 'events:0', '--shift-by', '-1', '--execute', '--json']))
    expect(exec.executed).toBe(true)
    expect(exec.partitions).toHaveLength(1)
    const again = await kcli(Consume, broker.bootstrap, ['-t', 'events', '-g', 'resettable', '--exit'])
    expect(again.stdout.trimEnd().split('\n')).toHaveLength(1)

    const usage = await kcli(GroupsResetOffsets, broker.bootstrap, ['resettable', '--topic', 'events'])
    expect(usage.exitCode).toBe(2)
  })

  it.skipIf(!classic || !has(ApiKey.OffsetDelete, ApiKey.DeleteGroups))('deletes offsets, then the group', async () => {
    await kcli(Consume, broker.bootstrap, ['-t', 'events', '-g', 'doomed', '--from-beginning', '--exit'])
    const offsets = await kcli<GroupsDeleteOffsetsResult>(GroupsDeleteOffsets, broker.bootstrap, ['doomed', '--topic', 'events:0', '--json'])
    expect(offsets.exitCode).toBe(0)
    expect(json<GroupsDeleteOffsetsResult>(offsets).partitions).toEqual([expect.objectContaining({error: 'NONE', partition: 0, topic: 'events'})])
    const deleted = await kcli<GroupsDeleteResult>(GroupsDelete, broker.bootstrap, ['doomed', '--yes'])
    expect(deleted.exitCode).toBe(0)
    expect(deleted.stdout).toBe('GROUP   RESULT\ndoomed  deleted\n')
    const again = await kcli<GroupsDeleteResult>(GroupsDelete, broker.bootstrap, ['doomed', '--yes', '--json'])
    expect(again.exitCode).toBe(1)
    expect(json<GroupsDeleteResult>(again).groups[0]).toMatchObject({error: 'GROUP_ID_NOT_FOUND', groupId: 'doomed'})
  })
})
