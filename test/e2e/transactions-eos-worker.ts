/**
 * Child process of transactions-eos.test.ts: an exactly-once consume-transform-produce loop with
 * kafkajs. Consumes <input> in group <group> (read_committed, no auto commit); for each message,
 * one transaction: produce `out-<value>` to <output> and sendOffsets for the input offset, then
 * commit. Runs until killed. Usage: tsx transactions-eos-worker.ts <bootstrap> <input> <output> <group>
 */
import {Kafka, logLevel} from 'kafkajs'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const [bootstrap, input, output, group] = process.argv.slice(2) as [string, string, string, string]
const kafka = new Kafka({brokers: [bootstrap], clientId: 'eos-worker', logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 100, maxRetryTime: 1000}})
const producer = kafka.producer({transactionalId: `eos-${group}`, idempotent: true, maxInFlightRequests: 1})
const consumer = kafka.consumer({groupId: group, readUncommitted: false, sessionTimeout: 1500, rebalanceTimeout: 1500, heartbeatInterval: 300, maxWaitTimeInMs: 100})
await producer.connect()
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
    } catch (error) {
      await txn.abort().catch(() => undefined)
      throw error
    }
  },
})
process.stdout.write('running\n')
