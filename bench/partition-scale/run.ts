// Partition scale (issue 12): a real `kcli server start` process, its data directory on a real
// disk (not tmpfs), and
//   1. CreateTopics: --topics topics of --partitions partitions each, one request per topic, timed
//      from sending the request to its response;
//   2. clean shutdown: SIGTERM until the process has exited;
//   3. restart: spawn until the broker prints its listeners (listening), and until a Metadata
//      request for every topic answers every partition without error (serving);
//   4. a second clean shutdown (of the restarted broker, nothing changed since it started).
// The targets of issue 12: 2,000 partitions created in < 2 s; 10,000-partition clean shutdown and
// restart each < 3 s.
//
//   npx tsx bench/partition-scale/run.ts [--topics 5] [--partitions 2000] [--json]
//        [--kcli bin/run.js] [--data-root $TMPDIR] [--timeout-s 300]
//
// --kcli picks the built CLI to run (default this checkout's bin/run.js: `npm run build` first),
// so the same bench measures another commit's build. The data directory is a new temporary
// directory under --data-root, removed at the end; the broker is killed if anything fails.

import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, realpathSync, rmSync} from 'node:fs'
import {cpus, freemem, loadavg, tmpdir, totalmem} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {Admin} from '../../src/lib/client/admin.js'
import {KafkaClient} from '../../src/lib/client/client.js'

const ROOT = resolve(import.meta.dirname, '../..')

const {values: options} = parseArgs({
  options: {
    topics: {default: '5', type: 'string'},
    partitions: {default: '2000', type: 'string'},
    kcli: {default: join(ROOT, 'bin/run.js'), type: 'string'},
    'data-root': {default: tmpdir(), type: 'string'},
    'timeout-s': {default: '300', type: 'string'},
    json: {default: false, type: 'boolean'},
  },
})
const topicCount = Number(options.topics)
const partitionCount = Number(options.partitions)
const timeoutMs = Number(options['timeout-s']) * 1000
const total = topicCount * partitionCount

/** The file system the data directory is on, from /proc/self/mountinfo (longest mount point that is a prefix). */
function fileSystemOf(path: string): {mountPoint: string; type: string; source: string} {
  const real = realpathSync(path)
  let best = {mountPoint: '', type: 'unknown', source: ''}
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ')
    const dash = fields.indexOf('-')
    if (dash < 0) continue
    const mountPoint = fields[4]!
    const under = mountPoint === '/' || real === mountPoint || real.startsWith(`${mountPoint}/`)
    if (under && mountPoint.length >= best.mountPoint.length) best = {mountPoint, type: fields[dash + 1]!, source: fields[dash + 2]!}
  }
  return best
}

interface Broker {
  child: ChildProcess
  port: number
  /** ms from spawn until the broker printed its JSON status (it listens). */
  listeningMs: number
  started: number
}

function startBroker(dataDir: string): Promise<Broker> {
  const started = performance.now()
  const child = spawn(process.execPath, [options.kcli, 'server', 'start', '--data-dir', dataDir, '--port', '0', '--json', '--log-level', 'warn'], {
    env: {...process.env, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolvePromise, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`broker did not start in ${timeoutMs} ms: ${stderr}`))
    }, timeoutMs)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      const status = JSON.parse(out.slice(0, nl)) as {listeners: Array<{port: number}>}
      resolvePromise({child, port: status.listeners[0]!.port, listeningMs: performance.now() - started, started})
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`broker exited with ${code}: ${stderr}`))
    })
  })
}

/** SIGTERM; resolves with the ms until the process exited (exit code 0 required). */
function stopBroker(broker: Broker): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now()
    const timer = setTimeout(() => {
      broker.child.kill('SIGKILL')
      reject(new Error(`broker did not stop in ${timeoutMs} ms`))
    }, timeoutMs)
    broker.child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`broker exited with ${code ?? signal} on SIGTERM`))
      else resolvePromise(performance.now() - started)
    })
    broker.child.kill('SIGTERM')
  })
}

function client(port: number): KafkaClient {
  return new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port}], clientId: 'partition-scale-bench', requestTimeoutMs: timeoutMs, retries: 0})
}

const topicNames = Array.from({length: topicCount}, (_, i) => `scale-${i}`)

/** Partitions without error in a Metadata response for every bench topic. */
async function servedPartitions(kafka: KafkaClient): Promise<number> {
  const metadata = await kafka.refreshMetadata(topicNames)
  let ok = 0
  for (const topic of metadata.topics) {
    if (topic.errorCode !== 0) continue
    for (const p of topic.partitions) if (p.errorCode === 0 && p.leaderId >= 0) ok++
  }
  return ok
}

interface Result {
  machine: {nproc: number; cpu: string; memTotalGiB: number; memFreeGiB: number; node: string; dataRoot: string; fileSystem: string; device: string}
  loadAverage: {start: number[]; end: number[]}
  topics: number
  partitionsPerTopic: number
  createMs: number[]
  createTotalMs: number
  shutdownMs: number
  restartListeningMs: number
  restartServingMs: number
  secondShutdownMs: number
}

async function main(): Promise<Result> {
  const dataRoot = resolve(options['data-root'])
  const fsInfo = fileSystemOf(dataRoot)
  if (fsInfo.type === 'tmpfs' || fsInfo.type === 'ramfs') console.error(`warning: ${dataRoot} is on ${fsInfo.type}, not a disk`)
  const dataDir = mkdtempSync(join(dataRoot, 'kcli-partition-scale-'))
  const result: Result = {
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memTotalGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      memFreeGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
      node: process.version,
      dataRoot,
      fileSystem: fsInfo.type,
      device: fsInfo.source,
    },
    loadAverage: {start: loadavg(), end: []},
    topics: topicCount,
    partitionsPerTopic: partitionCount,
    createMs: [],
    createTotalMs: 0,
    shutdownMs: 0,
    restartListeningMs: 0,
    restartServingMs: 0,
    secondShutdownMs: 0,
  }
  let broker: Broker | undefined
  try {
    broker = await startBroker(dataDir)
    let kafka = client(broker.port)
    try {
      const admin = new Admin(kafka)
      for (const name of topicNames) {
        const t = performance.now()
        const [created] = await admin.createTopics([{name, numPartitions: partitionCount, replicationFactor: 1}], {timeoutMs})
        result.createMs.push(performance.now() - t)
        if (!created || created.errorCode !== 0) throw new Error(`CreateTopics ${name}: ${JSON.stringify(created)}`)
      }
      result.createTotalMs = result.createMs.reduce((a, b) => a + b, 0)
      const served = await servedPartitions(kafka)
      if (served !== total) throw new Error(`Metadata lists ${served} of ${total} partitions after creation`)
    } finally {
      await kafka.close()
    }
    result.shutdownMs = await stopBroker(broker)
    broker = undefined

    broker = await startBroker(dataDir)
    result.restartListeningMs = broker.listeningMs
    kafka = client(broker.port)
    try {
      const served = await servedPartitions(kafka)
      result.restartServingMs = performance.now() - broker.started
      if (served !== total) throw new Error(`Metadata lists ${served} of ${total} partitions after the restart`)
    } finally {
      await kafka.close()
    }
    result.secondShutdownMs = await stopBroker(broker)
    broker = undefined
    result.loadAverage.end = loadavg()
    return result
  } finally {
    if (broker) broker.child.kill('SIGKILL')
    rmSync(dataDir, {recursive: true, force: true})
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2)
}

const result = await main()
if (options.json) {
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`)
} else {
  const m = result.machine
  const rows: Array<[string, string]> = [
    ...result.createMs.map((ms, i): [string, string] => [`CreateTopics ${topicNames[i]} (${partitionCount} partitions)`, seconds(ms)]),
    [`CreateTopics, all ${total} partitions`, seconds(result.createTotalMs)],
    [`clean shutdown (SIGTERM to exit), ${total} partitions`, seconds(result.shutdownMs)],
    ['restart: spawn to listening', seconds(result.restartListeningMs)],
    [`restart: spawn to Metadata answering all ${total} partitions`, seconds(result.restartServingMs)],
    ['clean shutdown after the restart', seconds(result.secondShutdownMs)],
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  console.log(`${m.nproc} x ${m.cpu}, ${m.memTotalGiB} GiB RAM (${m.memFreeGiB} free), Node ${m.node}`)
  console.log(`data directory under ${m.dataRoot}: ${m.fileSystem} on ${m.device}`)
  console.log(`load average at start ${result.loadAverage.start.map((l) => l.toFixed(2)).join(' ')}, at end ${result.loadAverage.end.map((l) => l.toFixed(2)).join(' ')}`)
  console.log(`${'measure'.padEnd(width)}  seconds`)
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(7)}`)
}
