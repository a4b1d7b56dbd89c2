/**
 * Standalone mode's source offsets in a local file (`offset.storage.file.filename`), keyed as
 * Kafka Connect keys them: the JSON of [connector name, source partition] -> the JSON of the
 * source offset (what JsonConverter with schemas.enable=false writes to an offset topic). The
 * file is our own JSON document, not Kafka's Java-serialized HashMap, so a file written by Apache
 * Kafka's worker is not read. Every write is atomic: a temporary file, fsync, rename, fsync of
 * the directory — a crash leaves either the previous offsets or the new ones.
 */
import {mkdir, open, readFile, rename} from 'node:fs/promises'
import {dirname} from 'node:path'
import type {Logger} from 'pino'
import {Admin} from '../client/admin.js'
import {KafkaClient} from '../client/client.js'
import {Consumer} from '../client/consumer.js'
import {ErrorCode} from '../client/errors.js'
import type {OffsetMap} from './api.js'
import type {WorkerConfig} from './worker-config.js'

export interface OffsetEntry {partition: OffsetMap; offset: OffsetMap | null}

/**
 * Where source offsets live (Kafka's OffsetBackingStore): a local file in standalone mode
 * (FileOffsetStore), the offsets topic in distributed mode (distributed/offset-backing-store.ts).
 * Reads are from memory; writes resolve once durable.
 */
export interface OffsetBackingStore {
  get(connector: string, partition: OffsetMap): OffsetMap | null
  /** Every partition and offset of a connector (GET /connectors/{name}/offsets). */
  offsets(connector: string): OffsetEntry[]
  set(connector: string, entries: OffsetEntry[]): Promise<void>
  /** Forgets a connector's offsets (DELETE /connectors/{name}/offsets). */
  reset(connector: string): Promise<void>
  /** Offsets an exactly-once task already wrote to the offsets topic in its transaction. */
  committed(connector: string, entries: OffsetEntry[]): Promise<void>
}

export class FileOffsetStore implements OffsetBackingStore {
  private readonly data = new Map<string, string>()
  constructor(readonly filename: string) {}

  static key(connector: string, partition: OffsetMap): string {
    return JSON.stringify([connector, partition])
  }

  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.filename, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    const doc = JSON.parse(text) as {offsets: Array<[string, string]>}
    for (const [k, v] of doc.offsets) this.data.set(k, v)
  }

  get(connector: string, partition: OffsetMap): OffsetMap | null {
    const v = this.data.get(FileOffsetStore.key(connector, partition))
    return v === undefined ? null : (JSON.parse(v) as OffsetMap | null)
  }

  /** Every partition and offset of a connector (GET /connectors/{name}/offsets). */
  offsets(connector: string): Array<{partition: OffsetMap; offset: OffsetMap | null}> {
    const out: Array<{partition: OffsetMap; offset: OffsetMap | null}> = []
    for (const [k, v] of this.data) {
      const [name, partition] = JSON.parse(k) as [string, OffsetMap]
      if (name === connector) out.push({partition, offset: JSON.parse(v) as OffsetMap | null})
    }
    return out
  }

  /** Sets the offsets and writes the whole file atomically before resolving. */
  async set(connector: string, entries: Array<{partition: OffsetMap; offset: OffsetMap | null}>): Promise<void> {
    for (const e of entries) this.data.set(FileOffsetStore.key(connector, e.partition), JSON.stringify(e.offset))
    await this.write()
  }

  /** The file is where standalone mode keeps them, also after a transaction wrote them to the topic. */
  committed(connector: string, entries: OffsetEntry[]): Promise<void> {
    return this.set(connector, entries)
  }

  /** Forgets a connector's offsets (DELETE /connectors/{name}/offsets) and writes the file. */
  async reset(connector: string): Promise<void> {
    for (const k of [...this.data.keys()]) if ((JSON.parse(k) as [string])[0] === connector) this.data.delete(k)
    await this.write()
  }

  private async write(): Promise<void> {
    await writeAtomically(this.filename, JSON.stringify({offsets: [...this.data]}))
  }
}

/** Writes `filename` so that a crash leaves the old content or the new: temporary file, fsync, rename, fsync of the directory. */
export async function writeAtomically(filename: string, text: string): Promise<void> {
  await mkdir(dirname(filename), {recursive: true})
  const tmp = filename + '.tmp'
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(text, 'utf8')
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, filename)
  const dir = await open(dirname(filename), 'r')
  try { await dir.sync() } finally { await dir.close() }
}

/**
 * Exactly-once sources in standalone mode: the offsets topic (created compacted when missing),
 * read to its stable end (read_committed), as entries by connector.
 */
export async function readOffsetsTopic(config: WorkerConfig, logger: Logger): Promise<Map<string, OffsetEntry[]>> {
  const topic = config.offsetTopic
  const byConnector = new Map<string, OffsetEntry[]>()
  const client = new KafkaClient({bootstrapServers: config.bootstrapServers, clientId: 'connect-offsets-reader'})
  try {
    const admin = new Admin(client)
    const [created] = await admin.createTopics([{configs: {'cleanup.policy': 'compact'}, name: topic, numPartitions: 1, replicationFactor: Number(config.props['offset.storage.replication.factor'] ?? -1)}])
    if (created && created.errorCode !== 0 && created.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`Could not create the offsets topic ${topic}: ${created.errorMessage ?? created.error}`)
    const meta = await admin.describeTopics([topic])
    const partitions = meta.topics[0]?.partitions.map(p => p.partition) ?? [0]
    const ends = await admin.listOffsets(partitions.map(partition => ({partition, timestamp: -1n, topic})), {isolationLevel: 1})
    const end = new Map(ends.map(l => [l.partition, l.offset]))
    const pending = new Set(partitions.filter(p => (end.get(p) ?? 0n) > 0n))
    if (pending.size === 0) return byConnector
    const consumer = new Consumer(client, {isolationLevel: 1})
    consumer.assign(partitions.map(partition => ({offset: 0n, partition, topic})))
    const latest = new Map<string, string | null>()
    const deadline = Date.now() + 60_000
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) if (r.key) latest.set(r.key.toString(), r.value === null ? null : r.value.toString())
      if (batch.nextOffset >= (end.get(batch.partition) ?? 0n)) pending.delete(batch.partition)
      if (pending.size === 0) break
      if (Date.now() > deadline) throw new Error(`reading the offsets topic ${topic} took over 60 s`)
    }
    await consumer.close()
    for (const [k, v] of latest) {
      try {
        const [connector, partition] = JSON.parse(k) as [string, OffsetMap]
        const list = byConnector.get(connector) ?? []
        list.push({offset: v === null ? null : (JSON.parse(v) as OffsetMap), partition})
        byConnector.set(connector, list)
      } catch {
        logger.warn(`ignoring a record of ${topic} whose key is not [connector, partition] JSON: ${k}`)
      }
    }
    return byConnector
  } finally {
    await client.close()
  }
}
