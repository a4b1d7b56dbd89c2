/**
 * Shared by the transaction end-to-end tests: a broker with every handler (data path, admin,
 * groups, transactions), in process or as a child process that can be SIGKILLed
 * (transactions-broker-main.ts), and a kafkajs reader.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {GROUP_HANDLERS} from '../../src/server/handlers/groups.js'
import type {ApiHandler} from '../../src/server/handlers/handler.js'
import {HANDLERS} from '../../src/server/handlers/index.js'
import {TXN_HANDLERS} from '../../src/server/handlers/transactions.js'
import {PROJECT_ROOT, startBroker, tempDir, type TestBroker} from './harness.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

export function allHandlers(): ApiHandler[] {
  const byKey = new Map<number, ApiHandler>()
  for (const h of [...HANDLERS, ...GROUP_HANDLERS, ...TXN_HANDLERS]) byKey.set(h.apiKey, h)
  return [...byKey.values()]
}

export function startTxnBroker(overrides: Record<string, string> = {}, dataDir = tempDir('kcli-txn-')): Promise<TestBroker> {
  return startBroker({'transaction.state.log.num.partitions': '4', 'offsets.topic.num.partitions': '4', ...overrides}, dataDir, allHandlers())
}

export interface TxnBrokerProcess {
  child: ChildProcess
  port: number
  bootstrap: string
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** A broker child process (all handlers) on `port` (0: ephemeral) over `dataDir`. */
export async function spawnTxnBroker(dataDir: string, port = 0, overrides: Record<string, string> = {}): Promise<TxnBrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/e2e/transactions-broker-main.ts'), dataDir, String(port), JSON.stringify(overrides)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const boundPort = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`broker did not start in 30 s: ${stderr}`)), 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolve(Number(JSON.parse(out.slice(0, nl)).port))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`broker exited with ${code}: ${stderr}`))
    })
  })
  return {
    child,
    port: boundPort,
    bootstrap: `127.0.0.1:${boundPort}`,
    kill(signal = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill(signal)
      })
    },
  }
}

export function kafkaFor(bootstrap: string, clientId = 'txn-test'): Kafka {
  return new Kafka({brokers: bootstrap.split(','), clientId, logLevel: logLevel.NOTHING, retry: {retries: 8, initialRetryTime: 100, maxRetryTime: 1000}})
}

/**
 * Reads `topic` from the beginning with a kafkajs group consumer until `expected` values arrived
 * (or `timeoutMs`), returns the values in order per partition, concatenated by partition.
 */
export async function readValues(bootstrap: string, topic: string, opts: {readUncommitted: boolean; expected: number; timeoutMs?: number; groupId?: string}): Promise<string[]> {
  const kafka = kafkaFor(bootstrap, 'txn-reader')
  const consumer = kafka.consumer({groupId: opts.groupId ?? `reader-${Math.random().toString(36).slice(2)}`, readUncommitted: opts.readUncommitted, maxWaitTimeInMs: 200, sessionTimeout: 10_000})
  const byPartition = new Map<number, string[]>()
  let count = 0
  await consumer.connect()
  try {
    await consumer.subscribe({topic, fromBeginning: true})
    let done!: () => void
    const finished = new Promise<void>((resolve) => (done = resolve))
    await consumer.run({
      eachMessage: async ({partition, message}) => {
        let list = byPartition.get(partition)
        if (!list) byPartition.set(partition, (list = []))
        list.push(message.value?.toString() ?? '')
        if (++count >= opts.expected) done()
      },
    })
    await Promise.race([finished, new Promise((r) => setTimeout(r, opts.timeoutMs ?? 15_000))])
    // A little longer, to catch records beyond the expected count.
    await new Promise((r) => setTimeout(r, 500))
  } finally {
    await consumer.disconnect()
  }
  return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!)
}
