/**
 * Global stores (GlobalKTable): every instance of the application holds the whole of each global
 * topic, all partitions, in memory, keyed by the record key's bytes. start() reads each topic from
 * its beginning to its end offsets (the last stable offsets under exactly_once_v2) before the
 * application processes anything, as Kafka's GlobalStreamThread bootstraps; then a background
 * reader applies new records in offset order (a null value deletes) until close(). The topic is
 * the store's changelog: nothing is written anywhere, and a restart reads the topic again.
 * Tasks read the stores (Task.getStateStore); nothing but the reader writes them.
 */
import {Admin, LATEST_TIMESTAMP} from '../lib/client/admin.js'
import type {KafkaClient} from '../lib/client/client.js'
import {Consumer} from '../lib/client/consumer.js'
import type {KeyValueStore, StreamsLogger, Topology} from './topology.js'

type Row = {key: Buffer; value: Buffer; timestamp: number}

class GlobalStore implements KeyValueStore {
  readonly rows = new Map<string, Row>()
  constructor(readonly name: string) {}
  get(key: Buffer): {value: Buffer; timestamp: number} | undefined {
    return this.rows.get(key.toString('hex'))
  }
  put(): void {
    throw new Error(`global store ${this.name} is read-only for processors`)
  }
  range(from?: Buffer, to?: Buffer): Row[] {
    return [...this.rows.values()].filter((r) => (!from || Buffer.compare(r.key, from) >= 0) && (!to || Buffer.compare(r.key, to) < 0)).sort((a, b) => Buffer.compare(a.key, b.key))
  }
  apply(key: Buffer | null, value: Buffer | null, timestamp: number): void {
    if (key === null) return
    const hex = key.toString('hex')
    if (value === null) this.rows.delete(hex)
    else this.rows.set(hex, {key: Buffer.from(key), timestamp, value: Buffer.from(value)})
  }
}

export class GlobalStores {
  private readonly stores = new Map<string, GlobalStore>()
  /** Topic → store. */
  private readonly byTopic = new Map<string, GlobalStore>()
  private consumer: Consumer | undefined
  private loop: Promise<void> | undefined
  /** The reader's failure, which fails the application. */
  error: Error | undefined
  /** Records applied since start (tests wait on it). */
  applied = 0

  constructor(
    private readonly client: KafkaClient,
    topology: Topology,
    private readonly isolationLevel: number,
    private readonly log: StreamsLogger,
  ) {
    for (const def of topology.stores.values()) {
      if (!def.global) continue
      const store = new GlobalStore(def.name)
      this.stores.set(def.name, store)
      this.byTopic.set(def.global.topic, store)
    }
  }

  get size(): number {
    return this.stores.size
  }

  store(name: string): KeyValueStore | undefined {
    return this.stores.get(name)
  }

  /** Reads every global topic to its end, then keeps reading in the background. */
  async start(): Promise<void> {
    if (this.stores.size === 0) return
    const admin = new Admin(this.client)
    const partitions: {topic: string; partition: number}[] = []
    for (const topic of this.byTopic.keys()) {
      const info = await this.client.topic(topic)
      for (const p of info.partitions) partitions.push({partition: p.partition, topic})
    }
    const ends = await admin.listOffsets(partitions.map((p) => ({...p, timestamp: LATEST_TIMESTAMP})), {isolationLevel: this.isolationLevel})
    const left = new Map(ends.filter((e) => e.offset > 0n).map((e) => [`${e.topic}\u0000${e.partition}`, e.offset]))
    const consumer = new Consumer(this.client, {autoOffsetReset: 'earliest', isolationLevel: this.isolationLevel, maxWaitMs: 100})
    consumer.assign(partitions.map((p) => ({...p, offset: 0n})))
    this.consumer = consumer
    const batches = consumer.batches()[Symbol.asyncIterator]()
    let restored = 0
    while (left.size > 0) {
      const next = await batches.next()
      if (next.done) break
      const batch = next.value
      const store = this.byTopic.get(batch.topic)!
      for (const r of batch.records) store.apply(r.key, r.value, r.timestamp)
      restored += batch.records.length
      this.applied += batch.records.length
      const tp = `${batch.topic}\u0000${batch.partition}`
      if (left.has(tp) && batch.nextOffset >= left.get(tp)!) left.delete(tp)
    }
    this.log.info(`global stores: read ${restored} records of ${[...this.byTopic.keys()].join(', ')}`)
    this.loop = (async () => {
      try {
        for (;;) {
          const next = await batches.next()
          if (next.done) return
          const store = this.byTopic.get(next.value.topic)!
          for (const r of next.value.records) store.apply(r.key, r.value, r.timestamp)
          this.applied += next.value.records.length
        }
      } catch (error) {
        this.error = error as Error
        this.log.error(`global store reader failed: ${(error as Error).message}`)
      }
    })()
  }

  async close(): Promise<void> {
    this.consumer?.stop()
    await this.loop
    await this.consumer?.close().catch(() => undefined)
  }
}
