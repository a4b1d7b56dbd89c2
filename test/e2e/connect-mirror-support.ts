/**
 * A small stand-in for the Connect worker's source-task loop, for the mirror connector tests that
 * drive a task step by step (connect-mirror-worker.test.ts runs them on the worker): poll() → produce each record to the target
 * (acks=all) → commitRecord(record, metadata) → keep the record's source offset; commitOffsets()
 * calls the task's commit() as the worker does after an offset flush. Offsets live in a map that
 * outlives the task, so a new task started with the same driver offsets resumes as after a restart.
 */
import type {KafkaClient} from '../../src/lib/client/client.js'
import {Producer} from '../../src/lib/client/producer.js'
import type {OffsetMap, SourceTask, SourceTaskContext} from '../../src/lib/connect/api.js'

export class SourceTaskDriver {
  readonly producer: Producer
  /** JSON of the source partition -> the last acknowledged source offset. */
  readonly offsets: Map<string, OffsetMap>
  produced = 0

  constructor(readonly task: SourceTask, targetClient: KafkaClient, offsets = new Map<string, OffsetMap>()) {
    this.producer = new Producer(targetClient, {acks: -1, allowAutoTopicCreation: false, lingerMs: 1})
    this.offsets = offsets
  }

  context(): SourceTaskContext {
    return {offsetStorageReader: {offset: (p) => this.offsets.get(JSON.stringify(p)) ?? null}}
  }

  /** One poll and the delivery of what it returned; the number of records. */
  async pollOnce(): Promise<number> {
    const records = (await this.task.poll()) ?? []
    const metadata = await Promise.all(records.map((r) => this.producer.send({
      topic: r.topic,
      partition: r.partition ?? undefined,
      key: (r.key as Buffer | null | undefined) ?? null,
      value: r.value as Buffer | null,
      headers: r.headers,
      timestamp: r.timestamp ?? undefined,
    })))
    for (const [i, r] of records.entries()) {
      await this.task.commitRecord?.(r, metadata[i]!)
      this.offsets.set(JSON.stringify(r.sourcePartition), r.sourceOffset)
    }
    this.produced += records.length
    return records.length
  }

  /** Polls until `done()` holds (checked after each poll), at most `timeoutMs`; commits offsets every poll. */
  async runUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      await this.pollOnce()
      await this.commitOffsets()
      if (await done()) return
      if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`)
    }
  }

  async commitOffsets(): Promise<void> {
    await this.task.commit?.()
  }

  async close(): Promise<void> {
    await this.task.stop()
    await this.producer.close()
  }
}
