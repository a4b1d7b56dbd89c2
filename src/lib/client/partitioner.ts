// Partitioners as the Java client's producer has them (KIP-794's built-in partitioner):
// - an explicit partition wins;
// - a record with a key goes to toPositive(murmur2(key)) % numPartitions (murmur2.ts);
// - a record without a key goes to the topic's "sticky" partition, which changes (at random,
//   among the partitions that have a leader, never to the same one when there is another) once
//   batch.size bytes have gone to it, so that null-key records form full batches.

import {partitionForKey} from './murmur2.js'

export interface PartitionerTopic {
  name: string
  /** Every partition, and those with a leader now. */
  partitionCount: number
  available: readonly number[]
}

export class StickyPartitioner {
  private readonly sticky = new Map<string, {partition: number; bytes: number}>()

  constructor(
    private readonly batchSize: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The partition of a record of `size` bytes (key and value) for `topic`. */
  partition(topic: PartitionerTopic, key: Buffer | null | undefined, size: number, explicit?: number): number {
    if (explicit !== undefined) return explicit
    if (key !== null && key !== undefined) return partitionForKey(key, topic.partitionCount)
    let state = this.sticky.get(topic.name)
    if (!state || state.bytes >= this.batchSize || state.partition >= topic.partitionCount) {
      state = {partition: this.next(topic, state?.partition), bytes: 0}
      this.sticky.set(topic.name, state)
    }
    state.bytes += size
    return state.partition
  }

  /** Forget the sticky partition of a topic (its leader went away, or a batch was sealed early). */
  reset(topic: string): void {
    this.sticky.delete(topic)
  }

  private next(topic: PartitionerTopic, previous: number | undefined): number {
    const candidates = topic.available.length > 0 ? topic.available : Array.from({length: topic.partitionCount}, (_, i) => i)
    const others = candidates.length > 1 && previous !== undefined ? candidates.filter((p) => p !== previous) : candidates
    return others[Math.floor(this.random() * others.length)]!
  }
}
