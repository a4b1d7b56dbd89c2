/**
 * Hands out producer ids for idempotent producers from blocks reserved in the metadata store
 * (Kafka reserves blocks of 1000 from the controller), so ids stay unique across restarts.
 */
import type {MetadataStore} from './metadata-store.js'

const BLOCK_SIZE = 1000

export class ProducerIdManager {
  private next = 0
  private end = 0
  private pending: Promise<void> | null = null

  constructor(private readonly store: MetadataStore) {}

  async generate(): Promise<number> {
    while (this.next >= this.end) {
      this.pending ??= this.store.allocateProducerIds(BLOCK_SIZE).then((first) => {
        this.next = first
        this.end = first + BLOCK_SIZE
        this.pending = null
      })
      await this.pending
    }
    return this.next++
  }
}
