/**
 * KIP-951 leader hints name each leader's endpoint on the listener the request came in on (from
 * its registration's listeners), leave out a leader registered without that listener, and without
 * a listener name give the first registered address.
 */
import {describe, expect, it} from 'vitest'
import type {BrokerRegistration, MetadataStore, TopicMetadata} from '../../../src/server/controller/metadata-store.js'
import {LeaderHints} from '../../../src/server/handlers/leader-hints.js'

const brokers: BrokerRegistration[] = [
  {nodeId: 1, host: 'b1', port: 19, rack: 'r1', listeners: [{name: 'REPLICATION', host: 'b1', port: 19, securityProtocol: 'SSL'}, {name: 'CLIENT', host: 'b1', port: 29, securityProtocol: 'PLAINTEXT'}]},
  {nodeId: 2, host: 'b2', port: 39, rack: null, listeners: [{name: 'REPLICATION', host: 'b2', port: 39, securityProtocol: 'SSL'}]},
  {nodeId: 3, host: 'b3', port: 49, rack: null},
]
const store = {brokers: () => brokers} as unknown as MetadataStore
const topic: TopicMetadata = {
  name: 't',
  topicId: 'id',
  configs: {},
  internal: false,
  partitions: [1, 2, 3].map((leader, partition) => ({partition, replicas: [leader], leader, leaderEpoch: 5, isr: [leader]})),
}

describe('LeaderHints', () => {
  it("gives the leaders' endpoints on the request's listener", () => {
    const hints = new LeaderHints(store, 'CLIENT')
    expect([0, 1, 2].map((p) => hints.currentLeader(topic, p))).toEqual([1, 2, 3].map((leaderId) => ({leaderId, leaderEpoch: 5})))
    expect(hints.nodeEndpoints()).toEqual([
      {nodeId: 1, host: 'b1', port: 29, rack: 'r1'},
      {nodeId: 3, host: 'b3', port: 49, rack: null},
    ])
  })

  it('without a listener name, the first registered address', () => {
    const hints = new LeaderHints(store)
    for (const p of [0, 1, 2]) hints.currentLeader(topic, p)
    expect(hints.nodeEndpoints().map((e) => [e.nodeId, e.port])).toEqual([
      [1, 19],
      [2, 39],
      [3, 49],
    ])
  })
})
