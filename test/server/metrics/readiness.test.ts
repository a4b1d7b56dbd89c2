/**
 * Issue 16: /readyz's conditions one by one (src/server/metrics/readiness.ts), over a fake store
 * and replica manager: starting, stopping, session lost, a partition the store names this broker
 * leader of not led here, coordinator partitions loading, a followed partition whose ISR lacks
 * this broker (unless its leader is gone or it is a reassignment's adding replica).
 */
import {describe, expect, it} from 'vitest'
import type {MetadataStore, PartitionAssignment} from '../../../src/server/controller/metadata-store.js'
import type {ReplicaManager} from '../../../src/server/replica-manager.js'
import {evaluateReadiness} from '../../../src/server/metrics/readiness.js'

const ME = 1

function store(partitions: Array<Partial<PartitionAssignment> & {partition: number}>, opts: {live?: number[]; sessionAlive?: boolean; brokerEpoch?: number} = {}): MetadataStore {
  const live = opts.live ?? [1, 2, 3]
  return {
    topics: () => [{name: 't', topicId: 'id', configs: {}, internal: false, partitions: partitions.map((p) => ({replicas: [1, 2], leader: 1, leaderEpoch: 0, isr: [1, 2], ...p}))}],
    brokers: () => live.map((nodeId) => ({nodeId, host: '127.0.0.1', port: 9092, rack: null})),
    ...(opts.sessionAlive === undefined ? {} : {sessionAlive: () => opts.sessionAlive!}),
    ...(opts.brokerEpoch === undefined ? {} : {brokerEpoch: () => opts.brokerEpoch!}),
  } as unknown as MetadataStore
}

/** Hosted partitions by index, and which of them this broker leads. */
function replicas(hosted: Record<number, boolean>): ReplicaManager {
  return {
    get: (_topic: string, p: number) => (p in hosted ? {partition: p, isLeader: hosted[p]} : undefined),
    leads: (p: {isLeader: boolean}) => p.isLeader,
  } as unknown as ReplicaManager
}

describe('readiness', () => {
  it('is not ready while starting or stopping', () => {
    expect(evaluateReadiness({phase: 'starting', nodeId: ME})).toEqual({ready: false, reasons: [expect.stringMatching(/^starting/)]})
    expect(evaluateReadiness({phase: 'stopping', nodeId: ME, metadata: store([]), replicas: replicas({})})).toEqual({ready: false, reasons: ['shutting down']})
  })

  it('is ready serving its leaderships, in every ISR it belongs to', () => {
    const r = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([{partition: 0}, {partition: 1, leader: 2}]), replicas: replicas({0: true, 1: false})})
    expect(r).toEqual({ready: true})
  })

  it('is not ready with its session lost (fenced)', () => {
    const r = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([], {sessionAlive: false}), replicas: replicas({})})
    expect(r.ready).toBe(false)
    expect(r.reasons).toEqual([expect.stringMatching(/^not joined/)])
  })

  it('is not ready while a partition the store gives it to lead is not led here (in its broker epoch)', () => {
    const notYet = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([{partition: 0}, {partition: 1}]), replicas: replicas({0: true, 1: false})})
    expect(notYet).toEqual({ready: false, reasons: ['partitions the metadata store names this broker leader of are not led here yet: t-1']})
    // Elected in an older registration of this broker: the controller will elect again, not this broker's to serve.
    const stale = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([{partition: 0, leaderBrokerEpoch: 5}], {brokerEpoch: 9}), replicas: replicas({0: false})})
    expect(stale).toEqual({ready: true})
  })

  it('is not ready while coordinator partitions load', () => {
    const r = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([]), replicas: replicas({}), coordinatorsLoading: () => ['__consumer_offsets-3']})
    expect(r).toEqual({ready: false, reasons: ['coordinator partitions still loading: __consumer_offsets-3']})
  })

  it('is not ready until it is back in the ISR of the partitions it follows, unless their leader is gone or it is being added', () => {
    const behind = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([{partition: 0, leader: 2, isr: [2]}]), replicas: replicas({0: false})})
    expect(behind).toEqual({ready: false, reasons: ['not caught up: followed partitions whose ISR does not include this broker yet: t-0']})
    const leaderGone = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([{partition: 0, leader: 2, isr: [2]}], {live: [1]}), replicas: replicas({0: false})})
    expect(leaderGone).toEqual({ready: true})
    const adding = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store([{partition: 0, leader: 2, isr: [2], addingReplicas: [1]}]), replicas: replicas({0: false})})
    expect(adding).toEqual({ready: true})
    const many = evaluateReadiness({phase: 'serving', nodeId: ME, metadata: store(Array.from({length: 12}, (_, i) => ({partition: i, leader: 2, isr: [2]}))), replicas: replicas({})})
    expect(many.reasons).toEqual([expect.stringMatching(/: t-0, t-1, .*, t-9 and 2 more$/)])
  })
})
