/**
 * The records of __consumer_offsets, encoded as Kafka 4.0 writes them, so that a data directory
 * written by kcli reads in Kafka's tools (kafka-console-consumer with the offsets formatter) and
 * the other way round.
 *
 * Every record key starts with an int16 "version" that is really the record type; the value
 * starts with its own int16 version. Keys and values of one type:
 *
 *   type 0, 1  OffsetCommitKey      group string, topic string, partition int32
 *              OffsetCommitValue    v0: offset int64, metadata string, commitTimestamp int64
 *                                   v1: + expireTimestamp int64 (after commitTimestamp)
 *                                   v2: as v0
 *                                   v3: offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
 *                                   v4: v3, flexible (compact strings, tagged fields)
 *   type 2     GroupMetadataKey     group string
 *              GroupMetadataValue   protocolType string, generation int32, protocol string?,
 *                                   leader string?, currentStateTimestamp int64 (v2+),
 *                                   members [memberId, groupInstanceId? (v3+), clientId,
 *                                   clientHost, rebalanceTimeout int32 (v1+), sessionTimeout int32,
 *                                   subscription bytes, assignment bytes]; v4 flexible
 *   type 3     ConsumerGroupMetadataKey           group string
 *              ConsumerGroupMetadataValue (v0)    epoch int32 (flexible)
 *
 * A null value is a tombstone: the offset, or the whole group, was deleted (compaction drops it
 * after delete.retention.ms).
 *
 * kcli writes what Kafka 4.0 writes: OffsetCommitValue v3 (v1 when the commit carries an expire
 * timestamp, OffsetCommit v2-v4's retention time) and GroupMetadataValue v3. It reads every
 * version above. Records of types it does not know (KIP-848 member and assignment records, share
 * and streams groups) decode as `unknown` and are skipped on load.
 */
import {Reader} from '../../lib/protocol/reader.js'
import {Writer} from '../../lib/protocol/writer.js'

export const OFFSET_COMMIT_KEY_VERSION = 1
export const GROUP_METADATA_KEY_VERSION = 2
export const CONSUMER_GROUP_METADATA_KEY_VERSION = 3

export interface OffsetCommitKey {
  type: 'offset'
  group: string
  topic: string
  partition: number
}

export interface GroupMetadataKey {
  type: 'group'
  group: string
}

export interface ConsumerGroupMetadataKey {
  type: 'consumer-group'
  group: string
}

export type CoordinatorKey = OffsetCommitKey | GroupMetadataKey | ConsumerGroupMetadataKey | {type: 'unknown'; version: number}

export interface OffsetCommitValue {
  offset: bigint
  /** -1 when unknown (values before v3). */
  leaderEpoch: number
  metadata: string
  commitTimestamp: number
  /** Only in v1 values; -1 otherwise. */
  expireTimestamp: number
}

export interface GroupMetadataMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeout: number
  sessionTimeout: number
  subscription: Buffer
  assignment: Buffer
}

export interface GroupMetadataValue {
  protocolType: string
  generation: number
  protocol: string | null
  leader: string | null
  /** -1 when unknown (values before v2). */
  currentStateTimestamp: number
  members: GroupMetadataMember[]
}

export interface ConsumerGroupMetadataValue {
  epoch: number
}

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(64)
  w.int16(OFFSET_COMMIT_KEY_VERSION)
  w.string(group, false)
  w.string(topic, false)
  w.int32(partition)
  return w.toBuffer()
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new Writer(64)
  w.int16(GROUP_METADATA_KEY_VERSION)
  w.string(group, false)
  return w.toBuffer()
}

export function encodeConsumerGroupMetadataKey(group: string): Buffer {
  const w = new Writer(64)
  w.int16(CONSUMER_GROUP_METADATA_KEY_VERSION)
  w.string(group, false)
  return w.toBuffer()
}

/** Decodes a record key; throws ProtocolDecodeError when malformed. */
export function decodeCoordinatorKey(key: Buffer): CoordinatorKey {
  const r = new Reader(key)
  const version = r.int16('CoordinatorKey.version')
  switch (version) {
    case 0:
    case 1:
      return {type: 'offset', group: r.string('OffsetCommitKey.group', false), topic: r.string('OffsetCommitKey.topic', false), partition: r.int32('OffsetCommitKey.partition')}
    case 2:
      return {type: 'group', group: r.string('GroupMetadataKey.group', false)}
    case 3:
      return {type: 'consumer-group', group: r.string('ConsumerGroupMetadataKey.group', false)}
    default:
      return {type: 'unknown', version}
  }
}

/** Kafka 4.0's choice: v1 when the commit expires at a fixed time, else v3. */
export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const w = new Writer(64)
  if (value.expireTimestamp >= 0) {
    w.int16(1)
    w.int64(value.offset)
    w.string(value.metadata, false)
    w.int64(BigInt(value.commitTimestamp))
    w.int64(BigInt(value.expireTimestamp))
  } else {
    w.int16(3)
    w.int64(value.offset)
    w.int32(value.leaderEpoch)
    w.string(value.metadata, false)
    w.int64(BigInt(value.commitTimestamp))
  }
  return w.toBuffer()
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf)
  const version = r.int16('OffsetCommitValue.version')
  if (version < 0 || version > 4) r.fail(`unknown version ${version}`, 'OffsetCommitValue.version', 0)
  const flexible = version >= 4
  const offset = r.int64('OffsetCommitValue.offset')
  const leaderEpoch = version >= 3 ? r.int32('OffsetCommitValue.leaderEpoch') : -1
  const metadata = r.string('OffsetCommitValue.metadata', flexible)
  const commitTimestamp = Number(r.int64('OffsetCommitValue.commitTimestamp'))
  const expireTimestamp = version === 1 ? Number(r.int64('OffsetCommitValue.expireTimestamp')) : -1
  if (flexible) r.taggedFields('OffsetCommitValue', () => false)
  return {offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp}
}

/** GroupMetadataValue v3, as Kafka 4.0 writes it. */
export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const w = new Writer(256)
  w.int16(3)
  w.string(value.protocolType, false)
  w.int32(value.generation)
  w.nullableString(value.protocol, false)
  w.nullableString(value.leader, false)
  w.int64(BigInt(value.currentStateTimestamp))
  w.int32(value.members.length)
  for (const m of value.members) {
    w.string(m.memberId, false)
    w.nullableString(m.groupInstanceId, false)
    w.string(m.clientId, false)
    w.string(m.clientHost, false)
    w.int32(m.rebalanceTimeout)
    w.int32(m.sessionTimeout)
    w.bytes(m.subscription, false)
    w.bytes(m.assignment, false)
  }
  return w.toBuffer()
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf)
  const version = r.int16('GroupMetadataValue.version')
  if (version < 0 || version > 4) r.fail(`unknown version ${version}`, 'GroupMetadataValue.version', 0)
  const flexible = version >= 4
  const protocolType = r.string('GroupMetadataValue.protocolType', flexible)
  const generation = r.int32('GroupMetadataValue.generation')
  const protocol = r.nullableString('GroupMetadataValue.protocol', flexible)
  const leader = r.nullableString('GroupMetadataValue.leader', flexible)
  const currentStateTimestamp = version >= 2 ? Number(r.int64('GroupMetadataValue.currentStateTimestamp')) : -1
  const count = r.arrayLength('GroupMetadataValue.members', flexible, false, 16)
  const members: GroupMetadataMember[] = []
  for (let i = 0; i < count; i++) {
    const memberId = r.string('GroupMetadataValue.members.memberId', flexible)
    const groupInstanceId = version >= 3 ? r.nullableString('GroupMetadataValue.members.groupInstanceId', flexible) : null
    const clientId = r.string('GroupMetadataValue.members.clientId', flexible)
    const clientHost = r.string('GroupMetadataValue.members.clientHost', flexible)
    const rebalanceTimeout = version >= 1 ? r.int32('GroupMetadataValue.members.rebalanceTimeout') : -1
    const sessionTimeout = r.int32('GroupMetadataValue.members.sessionTimeout')
    const subscription = Buffer.from(r.bytes('GroupMetadataValue.members.subscription', flexible))
    const assignment = Buffer.from(r.bytes('GroupMetadataValue.members.assignment', flexible))
    if (flexible) r.taggedFields('GroupMetadataValue.members', () => false)
    members.push({memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout: rebalanceTimeout < 0 ? sessionTimeout : rebalanceTimeout, sessionTimeout, subscription, assignment})
  }
  if (flexible) r.taggedFields('GroupMetadataValue', () => false)
  return {protocolType, generation, protocol, leader, currentStateTimestamp, members}
}

/** ConsumerGroupMetadataValue v0 (flexible). */
export function encodeConsumerGroupMetadataValue(value: ConsumerGroupMetadataValue): Buffer {
  const w = new Writer(16)
  w.int16(0)
  w.int32(value.epoch)
  w.unknownTaggedFields(undefined)
  return w.toBuffer()
}

export function decodeConsumerGroupMetadataValue(buf: Buffer): ConsumerGroupMetadataValue {
  const r = new Reader(buf)
  r.int16('ConsumerGroupMetadataValue.version')
  const epoch = r.int32('ConsumerGroupMetadataValue.epoch')
  r.taggedFields('ConsumerGroupMetadataValue', () => false)
  return {epoch}
}

/**
 * Java's String.hashCode (over UTF-16 code units) and Kafka's Utils.abs, so a group lives in the
 * same __consumer_offsets partition as on Apache Kafka: abs(hashCode(groupId)) % partitions.
 */
export function javaStringHashCode(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId)
  const abs = h === -2147483648 ? 0 : Math.abs(h)
  return abs % partitions
}
