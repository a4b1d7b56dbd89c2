/**
 * Issue 12's exactly-once scenario with kafkajs: a transactional producer writes `recordsPerTxn`
 * records and aborts, `rounds` times over, while read_committed consumers poll the same topic;
 * then one committed `end` record per partition. Every record a consumer hands over before `end`
 * is an aborted one that leaked (Kafka hands over 0).
 *
 * The leak it pins: a fetch that ran while an ABORT marker was being appended saw the last stable
 * offset already past the aborted batches but not yet the aborted transaction that covers them.
 * Used by test/e2e/transactions-abort-leak.test.ts (short form) and bench/transactions/abort-leak.ts
 * (long form).
 */
import type {Kafka} from 'kafkajs'

export interface AbortLeakOptions {
  topic: string
  partitions: number
  rounds: number
  recordsPerTxn: number
  /** read_committed consumers polling while the producer works (each in its own group). */
  consumers: number
  /** Give up waiting for the `end` records after this long. */
  timeoutMs: number
}

export interface AbortLeakResult {
  abortedRecordsWritten: number
  /** Aborted records handed to a read_committed consumer, summed over consumers (must be 0). */
  abortedRecordsSeen: number
  /** Consumers that read every partition's `end` record before the deadline. */
  consumersFinished: number
  elapsedMs: number
}

export async function runAbortLeakScenario(kafka: Kafka, opts: AbortLeakOptions): Promise<AbortLeakResult> {
  const started = Date.now()
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({topics: [{topic: opts.topic, numPartitions: opts.partitions}], waitForLeaders: true})
  } finally {
    await admin.disconnect()
  }

  let abortedRecordsSeen = 0
  let consumersFinished = 0
  const consumers = []
  const finished: Array<Promise<void>> = []
  for (let c = 0; c < opts.consumers; c++) {
    const consumer = kafka.consumer({groupId: `${opts.topic}-reader-${c}`, readUncommitted: false, maxWaitTimeInMs: 50, sessionTimeout: 10_000})
    consumers.push(consumer)
    await consumer.connect()
    await consumer.subscribe({topic: opts.topic, fromBeginning: true})
    const endsSeen = new Set<number>()
    let done!: () => void
    finished.push(new Promise<void>((resolve) => (done = resolve)))
    await consumer.run({
      eachMessage: async ({partition, message}) => {
        if (message.value?.toString() === 'end') {
          endsSeen.add(partition)
          if (endsSeen.size === opts.partitions) {
            consumersFinished++
            done()
          }
        } else abortedRecordsSeen++
      },
    })
  }

  const producer = kafka.producer({transactionalId: `${opts.topic}-producer`, idempotent: true, maxInFlightRequests: 1})
  await producer.connect()
  try {
    const values = Array.from({length: opts.recordsPerTxn}, (_, i) => ({value: `aborted-${i}`, partition: i % opts.partitions}))
    for (let round = 0; round < opts.rounds && Date.now() - started < opts.timeoutMs; round++) {
      const txn = await producer.transaction()
      await txn.send({topic: opts.topic, messages: values})
      await txn.abort()
    }
    const txn = await producer.transaction()
    await txn.send({topic: opts.topic, messages: Array.from({length: opts.partitions}, (_, partition) => ({value: 'end', partition}))})
    await txn.commit()
  } finally {
    await producer.disconnect()
  }

  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, opts.timeoutMs - (Date.now() - started)))))
  await Promise.race([Promise.all(finished), deadline])
  clearTimeout(timer)
  await Promise.all(consumers.map((c) => c.disconnect()))
  return {abortedRecordsWritten: opts.rounds * opts.recordsPerTxn, abortedRecordsSeen, consumersFinished, elapsedMs: Date.now() - started}
}
