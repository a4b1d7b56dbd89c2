/**
 * Source offsets in the offsets topic (Kafka's KafkaOffsetBackingStore): `offset.storage.topic`,
 * compacted, `offset.storage.partitions` partitions (default 25), keys the JSON of
 * ["<connector>", {source partition}] and values the JSON of the source offset (a null value
 * forgets it), as Kafka's JsonConverter with schemas.enable=false writes them; records are
 * partitioned by key hash, as Kafka's producer does. Read with read_committed: exactly-once
 * source tasks write their offsets in their transactions.
 */
import type {Logger} from 'pino'
import type {OffsetMap} from '../api.js'
import {MemoryOffsetStore, type OffsetEntry} from '../offset-store.js'
import type {WorkerConfig} from '../worker-config.js'
import {KafkaBasedLog, type LogRecord, type TopicSettings} from './kafka-based-log.js'

export class KafkaOffsetBackingStore extends MemoryOffsetStore {
  readonly log: KafkaBasedLog

  constructor(config: WorkerConfig, logger: Logger, clientId: string) {
    super()
    this.log = new KafkaBasedLog({bootstrapServers: config.bootstrapServers, clientId, isolationLevel: 1, logger, onRecord: (r) => this.apply(r), topic: config.offsetTopic})
  }

  private apply(r: LogRecord): void {
    if (!r.key) return
    const key = r.key.toString()
    const parsed = JSON.parse(key) as unknown
    if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string') throw new Error(`the key is not ["<connector>", {partition}]: ${key}`)
    // Our keys are re-serialized so that equal partitions written by another writer match.
    const normalized = MemoryOffsetStore.key(parsed[0], parsed[1] as OffsetMap)
    if (r.value === null) this.data.delete(normalized)
    else this.data.set(normalized, r.value.toString())
  }

  async start(settings: TopicSettings): Promise<void> {
    await this.log.ensureTopic(settings)
    await this.log.start()
  }

  /** Offsets written by other workers since, for a task about to start. */
  readToEnd(): Promise<void> {
    return this.log.readToEnd()
  }

  async set(connector: string, entries: OffsetEntry[]): Promise<void> {
    await Promise.all(entries.map(e => this.log.send(MemoryOffsetStore.key(connector, e.partition), e.offset === null ? null : JSON.stringify(e.offset))))
    this.remember(connector, entries)
  }

  async reset(connector: string): Promise<void> {
    const keys = this.keysOf(connector)
    await Promise.all(keys.map(k => this.log.send(k, null)))
    for (const k of keys) this.data.delete(k)
  }

  /** The transaction wrote them to the topic; this worker's copy follows at once. */
  async committed(connector: string, entries: OffsetEntry[]): Promise<void> {
    this.remember(connector, entries)
  }

  stop(): Promise<void> {
    return this.log.stop()
  }
}

/**
 * Exactly-once sources in standalone mode: the offsets topic (created compacted, 1 partition,
 * when missing) read to its stable end, as entries by connector; the topic is not followed after.
 */
export async function readOffsetsTopic(config: WorkerConfig, logger: Logger): Promise<Map<string, OffsetEntry[]>> {
  const store = new KafkaOffsetBackingStore(config, logger, 'connect-offsets-reader')
  try {
    await store.start({partitions: 1, replicationFactor: Number(config.props['offset.storage.replication.factor'] ?? -1)})
  } finally {
    await store.stop()
  }
  const byConnector = new Map<string, OffsetEntry[]>()
  for (const connector of new Set(store.connectors())) byConnector.set(connector, store.offsets(connector))
  return byConnector
}
