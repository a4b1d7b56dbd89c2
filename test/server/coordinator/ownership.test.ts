/**
 * Coordinators move with the leadership of their internal-topic partition (issue 13): leadership
 * changes are faked by calling what the replica manager's onLeadershipChange listener calls
 * (loadPartition / unloadPartition). The group coordinator runs over the in-memory log on a fake
 * clock; the transaction coordinator on a single in-process broker.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {LogError} from '../../../src/server/log/errors.js'
import {MemoryCoordinatorLog, type LoadedRecord} from '../../../src/server/coordinator/coordinator-log.js'
import {DEFAULT_GROUP_CONFIG} from '../../../src/server/coordinator/group-config.js'
import {GroupCoordinator, type OffsetCommitRequestData} from '../../../src/server/coordinator/group-coordinator.js'
import {partitionForGroup} from '../../../src/server/coordinator/records.js'
import {ManualTimer} from '../../../src/server/coordinator/timer.js'
import {OFFSETS_TOPIC} from '../../../src/server/coordinator/coordinator-log.js'
import {TransactionError, type TransactionCoordinator} from '../../../src/server/coordinator/transaction-coordinator.js'
import {TransactionState, transactionStatePartition} from '../../../src/server/coordinator/transaction-log.js'
import type {TestBroker} from '../../e2e/harness.js'
import {startTxnBroker} from '../../e2e/transactions-support.js'
import {joinNew, topicLookup} from './helpers.js'

const E = ErrorCode
const PARTITIONS = 4

/** An in-memory log whose loads wait for `release()` (a partition being read). */
class GatedLog extends MemoryCoordinatorLog {
  private gate?: Promise<void>
  private open?: () => void

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve))
  }

  release(): void {
    this.open?.()
    this.gate = undefined
  }

  override async *load(partition?: number): AsyncIterable<LoadedRecord> {
    if (this.gate) await this.gate
    yield* super.load(partition)
  }
}

function coordinatorOver(log: MemoryCoordinatorLog, timer = new ManualTimer()): GroupCoordinator {
  let n = 0
  return new GroupCoordinator({log, topics: topicLookup(), config: {...DEFAULT_GROUP_CONFIG, groupInitialRebalanceDelayMs: 0}, timer, newId: () => `id${++n}`})
}

function commit(groupId: string, offset: number): OffsetCommitRequestData {
  return {groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 9, topics: [{name: 'orders', partitions: [{partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null}]}]}
}

async function fetched(c: GroupCoordinator, groupId: string): Promise<{errorCode: number; offset?: bigint}> {
  const r = await c.fetchOffsets({groupId, memberId: null, memberEpoch: -1, topics: [{name: 'orders', partitionIndexes: [0]}]})
  return {errorCode: r.errorCode, offset: r.topics[0]?.partitions[0]?.committedOffset}
}

async function loadAll(c: GroupCoordinator, epoch = 0): Promise<void> {
  for (let p = 0; p < PARTITIONS; p++) await c.loadPartition(p, epoch)
}

describe('group coordinator: partitions of __consumer_offsets follow leadership', () => {
  it('owns nothing before a leadership change: every group request answers NOT_COORDINATOR', async () => {
    const c = coordinatorOver(new MemoryCoordinatorLog(PARTITIONS))
    await c.loadPartition(partitionForGroup('mine', PARTITIONS), 0)
    const other = ['a', 'b', 'c', 'd', 'e', 'f'].find((g) => partitionForGroup(g, PARTITIONS) !== partitionForGroup('mine', PARTITIONS))!
    expect((await c.commitOffsets(commit(other, 1))).topics[0]!.partitions[0]!.errorCode).toBe(E.NOT_COORDINATOR)
    expect((await fetched(c, other)).errorCode).toBe(E.NOT_COORDINATOR)
    expect(c.heartbeat({groupId: other, generationId: 1, memberId: 'm', groupInstanceId: null})).toBe(E.NOT_COORDINATOR)
    expect(c.describeGroup(other, 5).errorCode).toBe(E.NOT_COORDINATOR)
    expect((await c.joinGroup({groupId: other, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, clientId: 'c', clientHost: 'h', reason: null, requireKnownMemberId: true, supportsSkipAssignment: false})).errorCode).toBe(E.NOT_COORDINATOR)
    expect((await c.commitOffsets(commit('mine', 7))).topics[0]!.partitions[0]!.errorCode).toBe(E.NONE)
    expect(await fetched(c, 'mine')).toEqual({errorCode: E.NONE, offset: 7n})
  })

  it('losing a partition unloads its groups: members waiting in JoinGroup get NOT_COORDINATOR, later requests too; becoming leader again reloads the offsets', async () => {
    const log = new MemoryCoordinatorLog(PARTITIONS)
    const timer = new ManualTimer()
    const c = coordinatorOver(log, timer)
    await loadAll(c)
    const h = {coordinator: c, timer}
    // A stable one-member group, then a second member whose join waits for the first to rejoin.
    const a = await joinNew(h, {groupId: 'g'})
    const ja = await a.join
    await c.syncGroup({groupId: 'g', generationId: ja.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: []})
    expect((await c.commitOffsets({...commit('g', 42), generationIdOrMemberEpoch: ja.generationId, memberId: a.memberId})).topics[0]!.partitions[0]!.errorCode).toBe(E.NONE)
    const b = await joinNew(h, {groupId: 'g'})
    let bAnswer: number | undefined
    void b.join.then((r) => (bAnswer = r.errorCode))
    await Promise.resolve()
    expect(bAnswer).toBeUndefined()

    const partition = partitionForGroup('g', PARTITIONS)
    c.unloadPartition(partition, 0)
    await new Promise((resolve) => setImmediate(resolve))
    expect(bAnswer).toBe(E.NOT_COORDINATOR)
    expect(c.group('g')).toBeUndefined()
    expect(c.heartbeat({groupId: 'g', generationId: ja.generationId, memberId: a.memberId, groupInstanceId: null})).toBe(E.NOT_COORDINATOR)
    expect((await fetched(c, 'g')).errorCode).toBe(E.NOT_COORDINATOR)
    expect(c.listGroups({states: [], types: []}).map((g) => g.groupId)).not.toContain('g')
    // No timer of the unloaded group is left to fire.
    timer.advance(60_000)
    expect(c.group('g')).toBeUndefined()

    // Leader again (a later epoch): the group and its offset come back from the log.
    await c.loadPartition(partition, 1)
    expect(await fetched(c, 'g')).toEqual({errorCode: E.NONE, offset: 42n})
    expect(c.group('g')?.type).toBe('classic')
  })

  it('answers COORDINATOR_LOAD_IN_PROGRESS while a partition loads (Heartbeat: NONE, as Kafka), and serves once loaded', async () => {
    const log = new GatedLog(PARTITIONS)
    const first = coordinatorOver(log)
    await loadAll(first)
    await first.commitOffsets(commit('g', 9))
    const c = coordinatorOver(log)
    log.hold()
    const loading = c.loadPartition(partitionForGroup('g', PARTITIONS), 3)
    expect(c.ownedPartitions()?.get(partitionForGroup('g', PARTITIONS))).toBe('loading')
    expect((await fetched(c, 'g')).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS)
    expect((await c.commitOffsets(commit('g', 10))).topics[0]!.partitions[0]!.errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS)
    expect(c.heartbeat({groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null})).toBe(E.NONE)
    expect(c.loading).toBe(true)
    log.release()
    await loading
    expect(c.loading).toBe(false)
    expect(await fetched(c, 'g')).toEqual({errorCode: E.NONE, offset: 9n})
  })

  it('an unload during the load wins: nothing of the partition is left', async () => {
    const log = new GatedLog(PARTITIONS)
    const first = coordinatorOver(log)
    await loadAll(first)
    await first.commitOffsets(commit('g', 5))
    const c = coordinatorOver(log)
    log.hold()
    const partition = partitionForGroup('g', PARTITIONS)
    const loading = c.loadPartition(partition, 0)
    c.unloadPartition(partition)
    log.release()
    await loading
    expect(c.group('g')).toBeUndefined()
    expect((await fetched(c, 'g')).errorCode).toBe(E.NOT_COORDINATOR)
  })

  it("maps failed acks=all writes as Kafka's coordinators: NOT_ENOUGH_REPLICAS and timeouts -> COORDINATOR_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER -> NOT_COORDINATOR", async () => {
    const log = new MemoryCoordinatorLog(PARTITIONS)
    const c = coordinatorOver(log)
    await loadAll(c)
    const cases: Array<[LogError['code'], number]> = [
      ['NOT_ENOUGH_REPLICAS', E.COORDINATOR_NOT_AVAILABLE],
      ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', E.COORDINATOR_NOT_AVAILABLE],
      ['REQUEST_TIMED_OUT', E.COORDINATOR_NOT_AVAILABLE],
      ['NOT_LEADER_OR_FOLLOWER', E.NOT_COORDINATOR],
      ['KAFKA_STORAGE_ERROR', E.NOT_COORDINATOR],
      ['MESSAGE_TOO_LARGE', E.UNKNOWN_SERVER_ERROR],
    ]
    for (const [code, expected] of cases) {
      log.failAppends = new LogError(code, code)
      expect([code, (await c.commitOffsets(commit('g', 1))).topics[0]!.partitions[0]!.errorCode]).toEqual([code, expected])
    }
    log.failAppends = undefined
    expect(await fetched(c, 'g')).toEqual({errorCode: E.NONE, offset: -1n})
  })
})

describe('transaction coordinator: partitions of __transaction_state follow leadership', () => {
  const brokers: TestBroker[] = []
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.stop()
  })

  async function code(promise: Promise<unknown>): Promise<string> {
    try {
      await promise
      return 'NONE'
    } catch (error) {
      if (error instanceof TransactionError) return error.code
      throw error
    }
  }

  it('unloading answers NOT_COORDINATOR; loading again restores the open transaction, which then commits', async () => {
    const tb = await startTxnBroker({'transaction.state.log.num.partitions': '4'})
    brokers.push(tb)
    const tc = (tb.broker as unknown as {transactions: TransactionCoordinator}).transactions
    const {producerId, producerEpoch} = await tc.initProducerId('tx-move', 60_000, {producerId: -1, producerEpoch: -1})
    // A partition the store does not have: its marker is skipped, as Kafka skips a deleted one.
    await tc.addPartitions('tx-move', producerId, producerEpoch, [{topic: 'gone', partition: 0}])
    const index = transactionStatePartition('tx-move', 4)
    expect(tc.ownedPartitions().get(index)).toBe('active')

    tc.unloadPartition(index)
    expect(tc.transaction('tx-move')).toBeUndefined()
    expect(await code(tc.endTxn('tx-move', producerId, producerEpoch, true))).toBe('NOT_COORDINATOR')
    expect(await code(tc.initProducerId('tx-move', 60_000, {producerId: -1, producerEpoch: -1}))).toBe('NOT_COORDINATOR')
    expect(tc.verifyPartition('tx-move', producerId, producerEpoch, 't', 0)).toBe('NOT_COORDINATOR')

    await tc.loadPartition(index, 7)
    expect(tc.transaction('tx-move')).toMatchObject({producerId, producerEpoch, state: TransactionState.Ongoing})
    expect(await code(tc.endTxn('tx-move', producerId, producerEpoch, true))).toBe('NONE')
    expect(tc.transaction('tx-move')?.state).toBe(TransactionState.CompleteCommit)
  })

  it('a fenced producer\'s TxnOffsetCommit on a group coordinator that does not coordinate its transaction is refused INVALID_PRODUCER_EPOCH by the log', async () => {
    const tb = await startTxnBroker({'transaction.state.log.num.partitions': '4', 'offsets.topic.num.partitions': '4'})
    brokers.push(tb)
    const {transactions: tc, groups} = tb.broker as unknown as {transactions: TransactionCoordinator; groups: GroupCoordinator}
    await groups.ensureOffsetsTopic()
    const p = partitionForGroup('g-zombie', 4)
    const offset = (o: bigint) => [{topic: 'orders', partition: 0, offset: o, leaderEpoch: -1, metadata: ''}]
    const zombie = await tc.initProducerId('tx-zombie', 60_000, {producerId: -1, producerEpoch: -1})
    const successor = await tc.initProducerId('tx-zombie', 60_000, {producerId: -1, producerEpoch: -1})
    expect(successor).toMatchObject({producerId: zombie.producerId, producerEpoch: zombie.producerEpoch + 1})
    await tc.addPartitions('tx-zombie', successor.producerId, successor.producerEpoch, [{topic: OFFSETS_TOPIC, partition: p}])
    await tc.txnOffsetCommit('tx-zombie', successor.producerId, successor.producerEpoch, 'g-zombie', offset(7n))
    // The transactional id's coordinator is now another broker: this one checks nothing itself.
    tc.unloadPartition(transactionStatePartition('tx-zombie', 4))
    expect(await code(tc.txnOffsetCommit('tx-zombie', zombie.producerId, zombie.producerEpoch, 'g-zombie', offset(99n)))).toBe('INVALID_PRODUCER_EPOCH')
    expect(tc.hasPendingOffsets('g-zombie', 'orders', 0)).toBe(true) // the successor's, still open
  })

  it('a COMMIT marker for a __consumer_offsets partition that is loading waits for the load (COORDINATOR_LOAD_IN_PROGRESS, retried); the group then serves the committed offset', async () => {
    const tb = await startTxnBroker({'transaction.state.log.num.partitions': '4', 'offsets.topic.num.partitions': '4'})
    brokers.push(tb)
    const {transactions: tc, groups} = tb.broker as unknown as {transactions: TransactionCoordinator; groups: GroupCoordinator}
    await groups.ensureOffsetsTopic()
    const p = partitionForGroup('g-move', 4)
    const {producerId, producerEpoch} = await tc.initProducerId('tx-offsets', 60_000, {producerId: -1, producerEpoch: -1})
    await tc.addPartitions('tx-offsets', producerId, producerEpoch, [{topic: OFFSETS_TOPIC, partition: p}])
    await tc.txnOffsetCommit('tx-offsets', producerId, producerEpoch, 'g-move', [{topic: 'orders', partition: 0, offset: 42n, leaderEpoch: -1, metadata: ''}])
    const stable = async () => (await groups.fetchOffsets({groupId: 'g-move', memberId: null, memberEpoch: -1, topics: [{name: 'orders', partitionIndexes: [0]}]})).topics[0]!.partitions[0]!.committedOffset
    expect(await stable()).toBe(-1n)

    // The partition's leadership moves away and back: its groups and pending offsets are read again.
    groups.unloadPartition(p, 0)
    const loading = groups.loadPartition(p, 1)
    expect(groups.partitionState(p)).toBe('loading')
    await expect(tc.writeMarker(OFFSETS_TOPIC, p, producerId, producerEpoch, true)).rejects.toMatchObject({code: 'COORDINATOR_LOAD_IN_PROGRESS'})
    // The transaction commits while the load runs: its marker channel retries until the load ends.
    const ending = tc.endTxn('tx-offsets', producerId, producerEpoch, true)
    await loading
    await ending
    const deadline = Date.now() + 10_000
    while (tc.transaction('tx-offsets')?.state !== TransactionState.CompleteCommit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(tc.transaction('tx-offsets')?.state).toBe(TransactionState.CompleteCommit)
    expect(groups.partitionState(p)).toBe('active')
    expect(tc.hasPendingOffsets('g-move', 'orders', 0)).toBe(false)
    expect(await stable()).toBe(42n)
  })
})
