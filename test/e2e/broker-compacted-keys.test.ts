/**
 * Issue 12: produce to a compacted topic with several keyless records in one batch. Kafka's
 * LogValidator rejects the batch with INVALID_RECORD and a record error for every keyless record
 * (KIP-467); kcli reported only the first, so a client that reads record_errors (librdkafka 2.4+,
 * Produce v8+) failed the wrong records. @platformatic/kafka 1.35 sends Produce v11 and decodes
 * record_errors: 100 records, one partition, one batch; every fifth without a key.
 *
 * Debian's librdkafka 2.0.2 (kcat, confluent-kafka-python 1.7) and kafkajs 2.2.4 use Produce v7 at
 * most, which has no record_errors: they fail the whole batch with INVALID_RECORD, from Kafka as
 * from kcli, so they cannot show this.
 */
import {Admin, Producer, type ProtocolError, ResponseError, stringSerializers} from '@platformatic/kafka'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {startBroker, type TestBroker} from './harness.js'
import {kafkajsReadAll} from './peers.js'

interface PartitionAnswer {
  index: number
  errorCode: number
  baseOffset: bigint
  logStartOffset: bigint
  recordErrors: Array<{batchIndex: number; batchIndexErrorMessage: string | null}>
  errorMessage: string | null
}

/** The ResponseError inside what a platformatic send() rejects with. */
function responseError(error: unknown): ResponseError | undefined {
  if (error instanceof ResponseError) return error
  const inner = (error as {errors?: unknown[]; cause?: unknown} | null) ?? {}
  for (const e of [...(inner.errors ?? []), inner.cause]) {
    const found = responseError(e)
    if (found) return found
  }
  return undefined
}

describe('Produce to a compacted topic with keyless records (@platformatic/kafka, Produce v11)', () => {
  let tb: TestBroker

  beforeAll(async () => {
    tb = await startBroker()
  })

  afterAll(async () => {
    await tb?.stop()
  })

  it('reports every keyless record of the batch in record_errors, with Kafka 4.0 message', async () => {
    const producer = new Producer<string, string, string, string>({clientId: 'plt-compacted', bootstrapBrokers: [tb.bootstrap], serializers: stringSerializers, timeout: 10_000, retries: 0})
    try {
      const admin = new Admin({clientId: 'plt-compacted-admin', bootstrapBrokers: [tb.bootstrap]})
      await admin.createTopics({topics: ['compacted-keys'], partitions: 1, replicas: 1, configs: [{name: 'cleanup.policy', value: 'compact'}]}).finally(() => admin.close())
      const keyless = (i: number) => i % 5 === 2
      let failure: unknown
      await producer
        .send({messages: Array.from({length: 100}, (_, i) => ({topic: 'compacted-keys', partition: 0, ...(keyless(i) ? {} : {key: `k${i}`}), value: `v${i}`}))})
        .catch((error: unknown) => (failure = error))
      const error = responseError(failure)
      expect(error, String(failure)).toBeDefined()
      const answer = (error!.response as {responses: Array<{partitionResponses: PartitionAnswer[]}>}).responses[0]!.partitionResponses[0]!
      const message = 'Compacted topic cannot accept message without key in topic partition compacted-keys-0'
      const expected = Array.from({length: 100}, (_, i) => i).filter(keyless)
      expect(answer.recordErrors).toEqual(expected.map((batchIndex) => ({batchIndex, batchIndexErrorMessage: message})))
      expect(answer).toMatchObject({index: 0, errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1n, logStartOffset: 0n})
      expect(answer.errorMessage).toBe(
        `One or more records have been rejected due to 20 record errors in total, and only showing the first three errors at most: [${expected
          .slice(0, 3)
          .map((i) => `RecordError(batchIndex=${i}, message='${message}')`)
          .join(', ')}]`,
      )
      // The client's own reading: a ProtocolError per record error and one for the partition.
      const reported = (error!.errors as ProtocolError[]).map((e) => ({path: e.path as string, apiId: e.apiId, serverErrorMessage: e.serverErrorMessage as string}))
      expect(reported.filter((e) => e.path.includes('/record_errors/')).map((e) => e.serverErrorMessage)).toEqual(expected.map(() => message))
      expect(reported.find((e) => e.path === '/responses/0/partition_responses/0')?.apiId).toBe('INVALID_RECORD')
      // Nothing of the batch was appended.
      const stored = await kafkajsReadAll(tb.bootstrap, 'compacted-keys', [0], {maxFetches: 2})
      expect(stored.get(0) ?? []).toHaveLength(0)
    } finally {
      await producer.close(true)
    }
  }, 60_000)
})
