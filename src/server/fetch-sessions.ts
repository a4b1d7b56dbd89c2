/**
 * Incremental fetch sessions (KIP-227). A consumer's first fetch (session id 0, epoch 0) creates
 * a session holding the partitions it asked for; its later fetches (the session id, epoch n) carry
 * only the partitions whose fetch offset or max bytes changed, plus the ones to forget, and the
 * response carries only the partitions with something new: records, a changed high watermark,
 * last stable offset or log start offset, or an error. Epoch -1 fetches without a session (and
 * closes the one named).
 *
 * The cache holds at most `maxSessions` sessions (Kafka's max.incremental.fetch.session.cache.slots,
 * 1000); the least recently used is evicted, and its consumer gets FETCH_SESSION_ID_NOT_FOUND and
 * starts over with a full fetch.
 */
import {ErrorCode} from '../lib/protocol/generated/errors.js'

export const INITIAL_EPOCH = 0
export const FINAL_EPOCH = -1

export interface SessionPartition {
  /** The topic name, or for v13+ sessions the topic id. */
  topicKey: string
  partition: number
  fetchOffset: number
  partitionMaxBytes: number
  currentLeaderEpoch: number
  /** What the last response said, to tell whether anything changed since. */
  lastHighWatermark: number
  lastLogStartOffset: number
}

export class FetchSession {
  /** Insertion order is the order partitions are fetched and returned in. */
  readonly partitions = new Map<string, SessionPartition>()
  epoch = 1

  constructor(readonly id: number) {}

  static key(topicKey: string, partition: number): string {
    return `${topicKey}\u0000${partition}`
  }
}

export type SessionLookup =
  | {kind: 'sessionless'}
  | {kind: 'new'; session: FetchSession}
  | {kind: 'incremental'; session: FetchSession}
  | {kind: 'error'; errorCode: number}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>()
  private nextId = 1

  constructor(private readonly maxSessions = 1000) {}

  get size(): number {
    return this.sessions.size
  }

  /** Decides what a request's session id and epoch mean, per KIP-227. */
  lookup(sessionId: number, sessionEpoch: number): SessionLookup {
    if (sessionEpoch === FINAL_EPOCH) {
      if (sessionId !== 0) this.sessions.delete(sessionId)
      return {kind: 'sessionless'}
    }
    if (sessionEpoch === INITIAL_EPOCH) {
      if (sessionId !== 0) this.sessions.delete(sessionId)
      return {kind: 'new', session: this.create()}
    }
    const session = this.sessions.get(sessionId)
    if (!session) return {kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND}
    if (session.epoch !== sessionEpoch) return {kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH}
    // Most recently used last.
    this.sessions.delete(sessionId)
    this.sessions.set(sessionId, session)
    return {kind: 'incremental', session}
  }

  private create(): FetchSession {
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!)
    let id = this.nextId
    while (id === 0 || this.sessions.has(id)) id = (id % 0x7fffffff) + 1
    this.nextId = (id % 0x7fffffff) + 1
    const session = new FetchSession(id)
    this.sessions.set(id, session)
    return session
  }

  /** A session that could not be served (e.g. its first fetch failed) is dropped. */
  remove(sessionId: number): void {
    this.sessions.delete(sessionId)
  }
}
