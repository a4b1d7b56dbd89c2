/**
 * Kafka's LogValidator rule for compacted topics: every record needs a key, since compaction keeps
 * the latest record per key. Checking it means decoding the records (decompressing if needed),
 * which Kafka also does; only produce requests to compacted topics pay for it.
 *
 * Like Kafka (KIP-467), every offending record is reported, not just the first: a RecordError per
 * keyless record (its index in its batch) and one message for the partition, so clients fail
 * exactly those records with INVALID_RECORD and the rest of the batch with their "different
 * record" error (librdkafka's _INVALID_DIFFERENT_RECORD, the Java client's KafkaException).
 */
import {iterateBatches} from '../lib/records/batch.js'
import {decodeRecordBatch} from '../lib/records/record.js'

/** ProduceResponse's RecordError (batch_index, batch_index_error_message). */
export interface RecordError {
  batchIndex: number
  batchIndexErrorMessage: string
}

/**
 * The records without a key, as Kafka's LogValidator reports them (index within the record's
 * batch, "Compacted topic cannot accept message without key in topic partition t-0"); empty if
 * every record has one. Control batches are skipped.
 */
export async function recordsWithoutKey(records: Buffer, topicPartition: string): Promise<RecordError[]> {
  const errors: RecordError[] = []
  for (const {position, header} of iterateBatches(records)) {
    if (header.isControl) continue
    const {records: decoded} = await decodeRecordBatch(records.subarray(position, position + header.sizeInBytes))
    decoded.forEach((r, batchIndex) => {
      if (r.key === null) errors.push({batchIndex, batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${topicPartition}`})
    })
  }
  return errors
}

/**
 * The partition's error message for record errors: Kafka's LogValidator.processRecordErrors
 * (InvalidRecordException's message, with Java's List and RecordError toString).
 */
export function recordErrorsMessage(errors: readonly RecordError[]): string {
  const shown = errors.slice(0, 3).map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`)
  return `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown.join(', ')}]`
}
