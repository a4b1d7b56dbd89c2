import {describe, expect, it} from 'vitest'
import {DefaultReplicationPolicy, IdentityReplicationPolicy, MIRROR_CHECKPOINT_CONFIG, MIRROR_SOURCE_CONFIG, NameFilter, DEFAULT_TOPICS_EXCLUDE, DEFAULT_GROUPS_EXCLUDE} from '../../../../src/lib/connect/mirror/config.js'
import {decodeCheckpoint, decodeOffsetSync, encodeCheckpoint, encodeOffsetSync, OffsetSyncStore, PartitionState} from '../../../../src/lib/connect/mirror/offset-syncs.js'
import {mirrorSourceSettings, shouldReplicateTopic} from '../../../../src/lib/connect/mirror/source.js'

describe('MM2 record formats (Kafka protocol types, big-endian)', () => {
  it('offset sync: key {topic STRING, partition INT32}, value {upstreamOffset INT64, offset INT64}', () => {
    const {key, value} = encodeOffsetSync({topic: 'orders', partition: 2, upstreamOffset: 300n, downstreamOffset: 7n})
    expect(key.toString('hex')).toBe('00066f7264657273' + '00000002')
    expect(value.toString('hex')).toBe('000000000000012c' + '0000000000000007')
    expect(decodeOffsetSync(key, value)).toEqual({topic: 'orders', partition: 2, upstreamOffset: 300n, downstreamOffset: 7n})
  })
  it('checkpoint: key {group, topic, partition}, value {version INT16 0}{upstreamOffset, offset, metadata}', () => {
    const c = {group: 'g', topic: 'src.t', partition: 1, upstreamOffset: 5n, downstreamOffset: 4n, metadata: ''}
    const {key, value} = encodeCheckpoint(c)
    expect(key.toString('hex')).toBe('000167' + '0005' + Buffer.from('src.t').toString('hex') + '00000001')
    expect(value.toString('hex')).toBe('0000' + '0000000000000005' + '0000000000000004' + '0000')
    expect(decodeCheckpoint(key, value)).toEqual(c)
    expect(() => decodeCheckpoint(key, value.subarray(0, 5))).toThrow(/truncated at byte 2/)
  })
})

describe('PartitionState (when MirrorSourceTask emits an offset sync)', () => {
  it('syncs the first record, gaps, truncation and every offset.lag.max records', () => {
    const s = new PartitionState(3n)
    const synced: number[] = []
    const feed = (u: number, d: number) => { if (s.update(BigInt(u), BigInt(d))) { synced.push(u); s.reset() } }
    feed(0, 0) // first of this task's life
    feed(1, 1); feed(2, 2); feed(3, 3) // 3 - (0 + 1) < 3
    feed(4, 4) // 4 - 1 >= 3: too stale
    feed(10, 5) // upstream gap (compaction, markers)
    feed(11, 6)
    feed(12, 2) // downstream went back (remote topic truncated)
    expect(synced).toEqual([0, 4, 10, 12])
    expect(s.promoteLatest()).toBe(false) // the latest pair is the last sync
    feed(13, 3)
    expect(s.promoteLatest()).toBe(true)
    expect(s.sync()).toEqual({upstreamOffset: 13n, downstreamOffset: 3n})
  })
})

describe('OffsetSyncStore.translateDownstream (MM2 3.5+)', () => {
  it('translates exactly at a sync, one past the sync after it, nothing before the first sync', () => {
    const store = new OffsetSyncStore()
    expect(store.translateDownstream('t', 0, 5n)).toBeNull()
    store.add({topic: 't', partition: 0, upstreamOffset: 100n, downstreamOffset: 10n})
    store.add({topic: 't', partition: 0, upstreamOffset: 200n, downstreamOffset: 110n})
    expect(store.translateDownstream('t', 0, 99n)).toBe(-1n)
    expect(store.translateDownstream('t', 0, 100n)).toBe(10n)
    expect(store.translateDownstream('t', 0, 150n)).toBe(11n)
    expect(store.translateDownstream('t', 0, 200n)).toBe(110n)
    expect(store.translateDownstream('t', 0, 5000n)).toBe(111n)
    expect(store.translateDownstream('t', 1, 150n)).toBeNull()
  })
  it('a restarted replication replaces later syncs; memory stays bounded', () => {
    const store = new OffsetSyncStore()
    for (let i = 0; i < 1000; i++) store.add({topic: 't', partition: 0, upstreamOffset: BigInt(i * 10), downstreamOffset: BigInt(i * 10)})
    expect(store.translateDownstream('t', 0, 9990n)).toBe(9990n)
    expect(store.translateDownstream('t', 0, 9985n)).toBe(9981n)
    store.add({topic: 't', partition: 0, upstreamOffset: 5000n, downstreamOffset: 20000n})
    expect(store.translateDownstream('t', 0, 9990n)).toBe(20001n)
    const internal = (store as unknown as {syncs: Map<string, unknown[]>}).syncs.get('t\u00000')!
    expect(internal.length).toBeLessThanOrEqual(64)
  })
})

describe('config and naming', () => {
  const base = {'source.cluster.bootstrap.servers': '127.0.0.1:1', 'target.cluster.bootstrap.servers': '127.0.0.1:2'}
  it('remote topics are <source alias>.<topic>; internal topics and cycles are not mirrored', () => {
    const s = mirrorSourceSettings({...base, 'source.cluster.alias': 'east', 'target.cluster.alias': 'west', topics: 'orders.*, pay'})
    expect(s.policy.formatRemoteTopic('east', 'orders')).toBe('east.orders')
    expect(s.offsetSyncsTopic).toBe('mm2-offset-syncs.west.internal')
    expect(new DefaultReplicationPolicy().checkpointsTopic('east')).toBe('east.checkpoints.internal')
    expect(new IdentityReplicationPolicy().formatRemoteTopic('east', 'orders')).toBe('orders')
    expect(['orders', 'orders-eu', 'pay', 'payx', 'west.orders', '__consumer_offsets'].filter((t) => shouldReplicateTopic(s, t))).toEqual(['orders', 'orders-eu', 'pay'])
    const topics = new NameFilter(['.*'], DEFAULT_TOPICS_EXCLUDE.split(', '))
    expect(['a', 'x.internal', 'x-internal', 'x.replica', '__x'].filter((t) => topics.matches(t))).toEqual(['a'])
    const groups = new NameFilter(['.*'], DEFAULT_GROUPS_EXCLUDE.split(', '))
    expect(['billing', 'console-consumer-1', 'connect-x'].filter((g) => groups.matches(g))).toEqual(['billing'])
  })
  it('validate lists each bad field with Kafka-style messages', () => {
    const r = Object.fromEntries(MIRROR_SOURCE_CONFIG.validate({'source.cluster.bootstrap.servers': 'x:99999', topics: '(', 'replication.policy.class': 'com.example.Nope', 'offset-syncs.topic.location': 'moon'}).map((v) => [v.name, v.errors]))
    expect(r['target.cluster.bootstrap.servers']).toEqual(['Missing required configuration "target.cluster.bootstrap.servers" which has no default value.'])
    expect(r['source.cluster.bootstrap.servers']![0]).toMatch(/port must be 1-65535/)
    expect(r.topics![0]).toMatch(/^Invalid value \( for configuration topics/)
    expect(r['replication.policy.class']).toEqual(['Invalid value com.example.Nope for configuration replication.policy.class: Class com.example.Nope could not be found.'])
    expect(r['offset-syncs.topic.location']).toEqual(['Invalid value moon for configuration offset-syncs.topic.location: String must be one of: source, target'])
    expect(MIRROR_CHECKPOINT_CONFIG.validate({...base}).every((v) => v.errors.length === 0)).toBe(true)
  })
})

describe('task sharding (task.index / task.count)', () => {
  it('every name is owned by exactly one of the tasks', async () => {
    const {ownedBy, shardedTaskConfigs, taskShard} = await import('../../../../src/lib/connect/mirror/config.js')
    const configs = shardedTaskConfigs({topics: 'x'}, 3)
    expect(configs.map((c) => [c['task.index'], c['task.count'], c.topics])).toEqual([['0', '3', 'x'], ['1', '3', 'x'], ['2', '3', 'x']])
    const shards = configs.map(taskShard)
    const names = Array.from({length: 300}, (_, i) => `topic-${i % 17}-${i}`)
    for (const n of names) expect(shards.filter((s) => ownedBy(n, s.index, s.count))).toHaveLength(1)
    for (const s of shards) expect(names.filter((n) => ownedBy(n, s.index, s.count)).length).toBeGreaterThan(50)
    expect(() => taskShard({'task.index': '3', 'task.count': '3'})).toThrow(/Invalid task.index 3/)
  })
})
