/**
 * Child process of transactions-eos.test.ts: an exactly-once consume-transform-produce loop with
 * kafkajs. Consumes <input> in group <group> (read_committed, no auto commit); for each message,
 * one transaction: produce `out-<value>` to <output> and sendOffsets for the input offset, then
 * commit. Runs until killed; exits 1 when a transaction fails (its runner starts it again). Usage: tsx transactions-eos-worker.ts <bootstrap[,bootstrap...]> <input> <output> <group>
 */
import {Kafka, logLevel} from 'kafkajs'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const [bootstrap, input, output, group] = process.argv.slice(2) as [string, string, string, string]
const debug = process.env.EOS_DEBUG ? (m: string) => process.stderr.write(`${new Date().toISOString()} worker ${process.pid} ${m}\n`) : () => undefined
const kafka = new Kafka({brokers: bootstrap.split(','), clientId: 'eos-worker', logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 100, maxRetryTime: 1000}})
const producer = kafka.producer({transactionalId: `eos-${group}`, idempotent: true, maxInFlightRequests: 1})
const consumer = kafka.consumer({groupId: group, readUncommitted: false, sessionTimeout: 1500, rebalanceTimeout: 1500, heartbeatInterval: 300, maxWaitTimeInMs: 100})
await producer.connect()
// kafkajs sends the transactional InitProducerId only at the first transaction(), not at connect.
// Do it before consuming, as a Java application's initTransactions() does: it fences the loop this
// one replaces and completes (aborts) that loop's open transaction, so the committed offset this
// consumer fetches is no longer pending. Without it, the consumer could start from an offset the
// old loop was still committing, and process a record twice.
await (await producer.transaction()).abort()
await consumer.connect()
await consumer.subscribe({topic: input, fromBeginning: true})
await consumer.run({
  autoCommit: false,
  eachMessage: async ({topic, partition, message}) => {
    const txn = await producer.transaction()
    try {
      await txn.send({topic: output, messages: [{key: message.key, value: `out-${message.value?.toString() ?? ''}`}]})
      await txn.sendOffsets({consumerGroupId: group, topics: [{topic, partitions: [{partition, offset: String(BigInt(message.offset) + 1n)}]}]})
      await txn.commit()
      debug(`committed ${topic}-${partition}@${message.offset} value ${message.value?.toString()}`)
    } catch (error) {
      debug(`failed ${topic}-${partition}@${message.offset} value ${message.value?.toString()}: ${String(error)}`)
      // A transactional producer that failed (its coordinator or a leader went away) is not
      // reused: abort what can be aborted and exit, so the supervisor starts a new loop, whose
      // InitProducerId fences this one and aborts its open transaction.
      await txn.abort().catch(() => undefined)
      process.exit(1)
    }
  },
})
process.stdout.write('running\n')
