/** A coordinator over an in-memory log with a fake clock and predictable member ids. */
import {MemoryCoordinatorLog} from '../../../src/server/coordinator/coordinator-log.js'
import {DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig} from '../../../src/server/coordinator/group-config.js'
import {GroupCoordinator, type JoinGroupRequestData, type TopicLookup} from '../../../src/server/coordinator/group-coordinator.js'
import {ManualTimer} from '../../../src/server/coordinator/timer.js'
import type {JoinResult} from '../../../src/server/coordinator/classic-group.js'
import {ConsumerProtocolSubscription} from '../../../src/lib/protocol/generated/consumer-protocol-subscription.js'

export const TOPICS = new Map([
  ['orders', {id: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: 6}],
  ['payments', {id: 'AAAAAAAAAAAAAAAAAAAAAg', partitions: 3}],
])

export function topicLookup(topics = TOPICS): TopicLookup {
  return {
    partitionCount: (name) => topics.get(name)?.partitions,
    topicId: (name) => topics.get(name)?.id,
    topicName: (id) => [...topics].find(([, t]) => t.id === id)?.[0],
    names: () => [...topics.keys()],
  }
}

export interface Harness {
  coordinator: GroupCoordinator
  timer: ManualTimer
  log: MemoryCoordinatorLog
  config: GroupCoordinatorConfig
  /** A new coordinator over the same log and clock (a broker restart). */
  restart(): Promise<GroupCoordinator>
}

export async function harness(overrides: Partial<GroupCoordinatorConfig> = {}, log = new MemoryCoordinatorLog(4), timer = new ManualTimer()): Promise<Harness> {
  const config = {...DEFAULT_GROUP_CONFIG, groupInitialRebalanceDelayMs: 0, ...overrides}
  let n = 0
  const make = async () => {
    const c = new GroupCoordinator({log, topics: topicLookup(), config, timer, newId: () => `id${++n}`})
    await c.load()
    return c
  }
  const h: Harness = {
    coordinator: await make(),
    timer,
    log,
    config,
    async restart() {
      await h.coordinator.shutdown()
      timer.cancelAll()
      h.coordinator = await make()
      return h.coordinator
    },
  }
  return h
}

/** A consumer-protocol subscription as clients put in JoinGroup (int16 version, then the struct). */
export function subscription(topics: string[], version = 1): Buffer {
  const body = ConsumerProtocolSubscription.encode({topics, userData: null, ownedPartitions: []}, version)
  const v = Buffer.alloc(2)
  v.writeInt16BE(version)
  return Buffer.concat([v, body])
}

export function joinRequest(overrides: Partial<JoinGroupRequestData> = {}): JoinGroupRequestData {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{name: 'range', metadata: subscription(['orders'])}],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    reason: null,
    requireKnownMemberId: true,
    supportsSkipAssignment: true,
    ...overrides,
  }
}

/** A promise's state without waiting: the value if settled by now (after microtasks), else undefined. */
export async function settled<T>(p: Promise<T>): Promise<T | undefined> {
  let value: T | undefined
  let done = false
  void p.then((v) => {
    value = v
    done = true
  })
  for (let i = 0; i < 10; i++) await Promise.resolve()
  return done ? value : undefined
}

/**
 * Joins a new dynamic member through MEMBER_ID_REQUIRED; returns its member id and the pending
 * join. Runs the timers due now (a zero initial rebalance delay).
 */
export async function joinNew(h: {coordinator: GroupCoordinator; timer: ManualTimer}, overrides: Partial<JoinGroupRequestData> = {}): Promise<{memberId: string; join: Promise<JoinResult>}> {
  const first = await h.coordinator.joinGroup(joinRequest(overrides))
  if (first.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`)
  const join = h.coordinator.joinGroup(joinRequest({...overrides, memberId: first.memberId}))
  h.timer.advance(0)
  return {memberId: first.memberId, join}
}
