/**
 * The controller's election rules (decidePartitionState), one case per rule: a valid leader keeps
 * leading and loses dead followers from the ISR; a dead or restarted leader is replaced by the
 * first live ISR member in replica order with the next leader epoch; with no live ISR member
 * the partition goes offline keeping its last ISR, unless unclean election is on.
 */
import {describe, expect, it} from 'vitest'
import {cancelReassignment, completeReassignment, decidePartitionState, electLeader, imbalancedPartitions, startReassignment} from '../../../src/server/controller/cluster-controller.js'
import type {PartitionAssignment} from '../../../src/server/controller/metadata-store.js'

const state = (over: Partial<PartitionAssignment> = {}): PartitionAssignment => ({partition: 0, replicas: [1, 2, 3], leader: 1, leaderEpoch: 5, isr: [1, 2, 3], partitionEpoch: 9, leaderBrokerEpoch: 100, ...over})
const live = (entries: Array<[number, number]>) => new Map(entries)

describe('decidePartitionState', () => {
  it('leaves a partition whose leader and ISR are alive', () => {
    expect(decidePartitionState(state(), live([[1, 100], [2, 200], [3, 300]]), false)).toBeNull()
  })

  it('removes a dead follower from the ISR without a new leader epoch', () => {
    expect(decidePartitionState(state(), live([[1, 100], [2, 200]]), false)).toEqual({leader: 1, leaderEpoch: 5, isr: [1, 2], leaderBrokerEpoch: 100})
  })

  it('elects the first live ISR member in replica order when the leader is gone', () => {
    expect(decidePartitionState(state({isr: [1, 3, 2]}), live([[2, 200], [3, 300]]), false)).toEqual({leader: 2, leaderEpoch: 6, isr: [3, 2], leaderBrokerEpoch: 200})
  })

  it('treats a leader registered in another broker epoch as restarted: another ISR member leads and it leaves the ISR', () => {
    expect(decidePartitionState(state(), live([[1, 101], [2, 200], [3, 300]]), false)).toEqual({leader: 2, leaderEpoch: 6, isr: [2, 3], leaderBrokerEpoch: 200})
  })

  it('re-elects a restarted leader in its new epoch when it is the only ISR member alive', () => {
    expect(decidePartitionState(state({isr: [1]}), live([[1, 101], [2, 200]]), false)).toEqual({leader: 1, leaderEpoch: 6, isr: [1], leaderBrokerEpoch: 101})
  })

  it('takes a partition offline with its last ISR when no ISR member is alive, and leaves it so', () => {
    const offline = decidePartitionState(state({isr: [1]}), live([[2, 200]]), false)
    expect(offline).toEqual({leader: -1, leaderEpoch: 6, isr: [1]})
    expect(decidePartitionState(state({leader: -1, leaderEpoch: 6, isr: [1], leaderBrokerEpoch: undefined}), live([[2, 200]]), false)).toBeNull()
  })

  it('elects the last ISR member when it comes back', () => {
    expect(decidePartitionState(state({leader: -1, leaderEpoch: 6, isr: [1], leaderBrokerEpoch: undefined}), live([[1, 150], [2, 200]]), false)).toEqual({leader: 1, leaderEpoch: 7, isr: [1], leaderBrokerEpoch: 150})
  })

  it('with unclean.leader.election.enable elects a live replica outside the ISR', () => {
    expect(decidePartitionState(state({isr: [1]}), live([[3, 300]]), true)).toEqual({leader: 3, leaderEpoch: 6, isr: [3], leaderBrokerEpoch: 300})
  })

  it('controlled shutdown of the leader: the next eligible ISR member leads and the leaving broker leaves the ISR', () => {
    expect(decidePartitionState(state(), live([[1, 100], [2, 200], [3, 300]]), false, new Set([1]))).toEqual({leader: 2, leaderEpoch: 6, isr: [2, 3], leaderBrokerEpoch: 200})
  })

  it('controlled shutdown of a follower: it leaves the ISR; of the only ISR member: it keeps leading', () => {
    expect(decidePartitionState(state(), live([[1, 100], [2, 200], [3, 300]]), false, new Set([3]))).toEqual({leader: 1, leaderEpoch: 5, isr: [1, 2], leaderBrokerEpoch: 100})
    expect(decidePartitionState(state({isr: [1]}), live([[1, 100], [2, 200], [3, 300]]), false, new Set([1]))).toBeNull()
  })
})

describe('electLeader', () => {
  const all = live([[1, 100], [2, 200], [3, 300]])
  it('PREFERRED: moves leadership to the first replica when it is alive and in sync, else says why not', () => {
    expect(electLeader(state({leader: 2, leaderBrokerEpoch: 200}), 'preferred', all)).toEqual({leader: 1, leaderEpoch: 6, isr: [1, 2, 3], leaderBrokerEpoch: 100})
    expect(electLeader(state(), 'preferred', all)).toBe('ELECTION_NOT_NEEDED')
    expect(electLeader(state({leader: 2, leaderBrokerEpoch: 200, isr: [2, 3]}), 'preferred', all)).toBe('PREFERRED_LEADER_NOT_AVAILABLE')
    expect(electLeader(state({leader: 2, leaderBrokerEpoch: 200}), 'preferred', live([[2, 200], [3, 300]]))).toBe('PREFERRED_LEADER_NOT_AVAILABLE')
  })

  it('UNCLEAN: only for a partition without a live leader; an out-of-sync replica when no ISR member lives', () => {
    expect(electLeader(state(), 'unclean', all)).toBe('ELECTION_NOT_NEEDED')
    expect(electLeader(state({replicas: [2, 3], leader: -1, isr: [2], leaderBrokerEpoch: undefined}), 'unclean', live([[3, 300]]))).toEqual({leader: 3, leaderEpoch: 6, isr: [3], leaderBrokerEpoch: 300})
    expect(electLeader(state({replicas: [2, 3], leader: -1, isr: [2], leaderBrokerEpoch: undefined}), 'unclean', live([[1, 100]]))).toBe('ELIGIBLE_LEADERS_NOT_AVAILABLE')
  })
})

describe('imbalancedPartitions', () => {
  it('picks, on brokers above the imbalance threshold, the partitions whose in-sync preferred replica does not lead', () => {
    const topic = {name: 't', topicId: 'x', configs: {}, internal: false, partitions: [
      state({partition: 0, replicas: [1, 2, 3], leader: 2}),
      state({partition: 1, replicas: [1, 2, 3], leader: 1}),
      state({partition: 2, replicas: [2, 3, 1], leader: 2}),
      state({partition: 3, replicas: [3, 1, 2], leader: 1, isr: [1, 2]}),
    ]}
    const picked = imbalancedPartitions([topic], live([[1, 100], [2, 200], [3, 300]]), new Set(), 10)
    // Broker 1: 1 of 2 not led (50%) -> partition 0. Broker 3: 1 of 1, but not in the ISR -> nothing.
    expect(picked.map((x) => x.partition.partition)).toEqual([0])
    expect(imbalancedPartitions([topic], live([[1, 100], [2, 200], [3, 300]]), new Set(), 60)).toEqual([])
  })
})

describe('the end of a reassignment', () => {
  const live = new Map([[1, 10], [2, 20], [3, 30]])
  // big partition 0 of tool-captures/cluster-tools.jsonl: [1,2] -> [1,3], then [1,3] -> [2,3] cancelled.
  it('bumps the leader epoch when the completed reassignment removes a replica, the leader staying (Kafka 1 -> ... epoch 1)', () => {
    const moving: PartitionAssignment = {partition: 0, replicas: [1, 3, 2], leader: 1, leaderEpoch: 0, isr: [1, 2, 3], addingReplicas: [3], removingReplicas: [2]}
    expect(startReassignment({partition: 0, replicas: [1, 2], leader: 1, leaderEpoch: 0, isr: [1, 2]}, [1, 3])).toMatchObject({leaderEpoch: 0, replicas: [1, 3, 2]})
    expect(completeReassignment(moving, live)).toMatchObject({leader: 1, leaderEpoch: 1, replicas: [1, 3], isr: [1, 3]})
  })

  it('bumps it when a cancel drops the replicas being added', () => {
    const moving: PartitionAssignment = {partition: 0, replicas: [2, 3, 1], leader: 1, leaderEpoch: 1, isr: [1, 3], addingReplicas: [2], removingReplicas: [1]}
    expect(cancelReassignment(moving, live)).toMatchObject({leader: 1, leaderEpoch: 2, replicas: [3, 1], isr: [1, 3]})
  })
})
