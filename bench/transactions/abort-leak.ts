// Issue 12's exactly-once check, long form: aborted records handed to read_committed consumers.
//
//   npx tsx bench/transactions/abort-leak.ts [--runs 10] [--rounds 200] [--records-per-txn 200]
//       [--partitions 1] [--consumers 2] [--bootstrap host:port]
//
// Each run (test/e2e/abort-leak-scenario.ts): a new topic; kafkajs 2.2.4 read_committed group
// consumers poll it from the beginning while a kafkajs transactional producer writes
// `records-per-txn` records and aborts, `rounds` times over; then one committed `end` record per
// partition. Everything a consumer is handed before the `end` records is an aborted record that
// leaked; Apache Kafka hands over 0. The figure: aborted records seen per run (summed over the
// consumers), and whether every consumer reached the end.
//
// The broker is a `kcli server start` child process from this checkout (spawnBroker, a new data
// directory under /tmp, removed at the end), or the one at --bootstrap (e.g. an older checkout's,
// for a before/after comparison). Prints a table and one JSON line; exits 1 if any run saw an
// aborted record or did not finish.

import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {runAbortLeakScenario, type AbortLeakResult} from '../../test/e2e/abort-leak-scenario.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from '../../test/e2e/harness.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const {values: options} = parseArgs({
  options: {
    runs: {default: '10', type: 'string'},
    rounds: {default: '200', type: 'string'},
    'records-per-txn': {default: '200', type: 'string'},
    partitions: {default: '1', type: 'string'},
    consumers: {default: '2', type: 'string'},
    bootstrap: {type: 'string'},
  },
})

const runs = Number(options.runs)
const dataDir = options.bootstrap ? undefined : tempDir('kcli-abort-leak-')
let broker: BrokerProcess | undefined
const results: AbortLeakResult[] = []
try {
  if (dataDir) broker = await spawnBroker(dataDir, {'transaction.state.log.num.partitions': '4', 'offsets.topic.num.partitions': '4', 'group.initial.rebalance.delay.ms': '0'})
  const bootstrap = options.bootstrap ?? broker!.bootstrap
  const kafka = new Kafka({brokers: [bootstrap], clientId: 'abort-leak', logLevel: logLevel.NOTHING, retry: {retries: 8, initialRetryTime: 100, maxRetryTime: 1000}})
  const tag = Date.now().toString(36)
  console.log('run  aborted written  aborted seen  consumers finished  seconds  load average')
  for (let run = 0; run < runs; run++) {
    const result = await runAbortLeakScenario(kafka, {
      topic: `abort-leak-${tag}-${run}`,
      partitions: Number(options.partitions),
      rounds: Number(options.rounds),
      recordsPerTxn: Number(options['records-per-txn']),
      consumers: Number(options.consumers),
      timeoutMs: 600_000,
    })
    results.push(result)
    console.log(
      `${String(run + 1).padStart(3)}  ${String(result.abortedRecordsWritten).padStart(15)}  ${String(result.abortedRecordsSeen).padStart(12)}  ${String(result.consumersFinished).padStart(18)}  ${(result.elapsedMs / 1000).toFixed(1).padStart(7)}  ${loadavg()[0]!.toFixed(2)}`,
    )
  }
} finally {
  await broker?.kill('SIGTERM')
  if (dataDir) removeDir(dataDir)
}
const seen = results.reduce((sum, r) => sum + r.abortedRecordsSeen, 0)
const unfinished = results.filter((r) => r.consumersFinished !== Number(options.consumers)).length
console.log(JSON.stringify({runs: results.length, abortedRecordsWritten: results.reduce((s, r) => s + r.abortedRecordsWritten, 0), abortedRecordsSeen: seen, perRun: results.map((r) => r.abortedRecordsSeen), unfinishedRuns: unfinished}))
process.exitCode = seen === 0 && unfinished === 0 ? 0 : 1
