/**
 * Issue 12: InitProducerId for a brand-new transactional id with a producer id and epoch other
 * than -1/-1. @platformatic/kafka 1.35's transactional producer sends producer id 0, epoch 0 in
 * its first InitProducerId (its default for "no producer yet"); kcli answered
 * INVALID_PRODUCER_ID_MAPPING, so beginTransaction() failed. Kafka 4.0 accepts it: metadata created
 * for a new transactional id has no epoch yet, so nothing can mismatch (TransactionCoordinator's
 * isValidProducerId). The raw requests pin the same bytes and Kafka's other KIP-360 answers:
 * PRODUCER_FENCED once the id has another producer id (INVALID_PRODUCER_EPOCH before v4), and
 * INVALID_REQUEST for an id without an epoch or the reverse (KafkaApis).
 */
import {Producer, stringSerializers} from '@platformatic/kafka'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import type {InitProducerIdRequest} from '../../src/lib/protocol/generated/init-producer-id-request.js'
import type {ApiHandler} from '../../src/server/handlers/handler.js'
import {startBroker, tempDir, type TestBroker} from './harness.js'
import {RawClient} from './peers.js'
import {allHandlers, kafkaFor, readValues} from './transactions-support.js'

describe('InitProducerId with a producer id and epoch for a new transactional id', () => {
  let tb: TestBroker
  /** Every InitProducerId the broker received, as decoded. */
  const received: Array<{apiVersion: number; request: InitProducerIdRequest}> = []

  beforeAll(async () => {
    const handlers = allHandlers().map((h): ApiHandler => {
      if (h.apiKey !== ApiKey.InitProducerId) return h
      const init = h as ApiHandler<typeof ApiKey.InitProducerId>
      const recording: ApiHandler<typeof ApiKey.InitProducerId> = {
        ...init,
        handle(request, ctx) {
          received.push({apiVersion: ctx.apiVersion, request})
          return init.handle(request, ctx)
        },
      }
      return recording as unknown as ApiHandler
    })
    tb = await startBroker({'transaction.state.log.num.partitions': '4', 'offsets.topic.num.partitions': '4'}, tempDir('kcli-kip360-'), handlers)
    const admin = kafkaFor(tb.bootstrap).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'plt-new-txn', numPartitions: 1}]})
    await admin.disconnect()
  }, 30_000)

  afterAll(async () => {
    await tb?.stop()
  })

  it('@platformatic/kafka: a transactional producer with a new transactional id (pid 0, epoch 0) commits', async () => {
    const producer = new Producer<string, string, string, string>({
      clientId: 'plt-kip360',
      bootstrapBrokers: [tb.bootstrap],
      serializers: stringSerializers,
      transactionalId: 'plt-new-id',
      idempotent: true,
      acks: -1,
      timeout: 10_000,
      retries: 2,
      retryDelay: 100,
    })
    try {
      const tx = await producer.beginTransaction()
      await tx.send({messages: ['a', 'b', 'c'].map((value) => ({topic: 'plt-new-txn', partition: 0, key: value, value}))})
      await tx.commit()
    } finally {
      await producer.close(true)
    }
    const init = received.find((r) => r.request.transactionalId === 'plt-new-id')
    expect(init?.request).toMatchObject({producerId: 0n, producerEpoch: 0})
    expect(await readValues(tb.bootstrap, 'plt-new-txn', {readUncommitted: false, expected: 3})).toEqual(['a', 'b', 'c'])
  }, 60_000)

  it('raw requests: Kafka 4.0 answers for a passed producer id and epoch', async () => {
    const client = await RawClient.connect(tb.port)
    try {
      const init = (apiVersion: number, transactionalId: string | null, producerId: bigint, producerEpoch: number) =>
        client.request(ApiKey.InitProducerId, apiVersion, {transactionalId, transactionTimeoutMs: 60_000, producerId, producerEpoch})
      // An idempotent producer takes a producer id first, so the transactional id's is not 0.
      const idempotent = await init(5, null, 0n, 0)
      expect(idempotent).toMatchObject({errorCode: ErrorCode.NONE, producerEpoch: 0})
      // What @platformatic/kafka sends for a new transactional id.
      const first = await init(5, 'raw-new-id', 0n, 0)
      expect(first).toMatchObject({errorCode: ErrorCode.NONE, producerEpoch: 0})
      expect(first.producerId).not.toBe(0n)
      // The same again: the id now has another producer id, so producer 0 is a zombie.
      expect(await init(5, 'raw-new-id', 0n, 0)).toMatchObject({errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1})
      expect(await init(3, 'raw-new-id', 0n, 0)).toMatchObject({errorCode: ErrorCode.INVALID_PRODUCER_EPOCH})
      // The current id and epoch bump it (KIP-360); the epoch before the bump is a retry of it.
      expect(await init(5, 'raw-new-id', first.producerId, 0)).toMatchObject({errorCode: ErrorCode.NONE, producerId: first.producerId, producerEpoch: 1})
      expect(await init(5, 'raw-new-id', first.producerId, 0)).toMatchObject({errorCode: ErrorCode.NONE, producerId: first.producerId, producerEpoch: 1})
      expect(await init(5, 'raw-new-id', first.producerId, 7)).toMatchObject({errorCode: ErrorCode.PRODUCER_FENCED})
      // An id without an epoch, or the reverse, with or without a transactional id.
      for (const transactionalId of ['raw-new-id', 'raw-other-id', null]) {
        expect(await init(5, transactionalId, -1n, 0)).toMatchObject({errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1})
        expect(await init(5, transactionalId, 5n, -1)).toMatchObject({errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1})
      }
    } finally {
      client.close()
    }
  })
})
