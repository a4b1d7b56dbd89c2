/**
 * The floor for issue 19's produce benchmark: the least a broker must do for librdkafka's produce
 * traffic. It frames requests, answers ApiVersions and Metadata (one broker leading every
 * partition of any topic asked for), and for Produce writes each partition's record bytes to a
 * file (one file per partition, appended, awaited before answering, as kcli's log does without
 * fsync) and answers success with running offsets. No validation, no index, no CRC check, no
 * state beyond the offsets: kcli's CPU per record divided by this one's is the overhead kcli adds.
 *
 *   node --import tsx bench/throughput/floor-broker.ts PORT DATA_DIR PARTITIONS
 *
 * Prints "listening" on stdout once it accepts connections.
 */
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {encodeResponse, peekRequestApi, registerApiCodecs, decodeRequest} from '../../src/lib/protocol/frame.js'
import {FrameReader} from '../../src/lib/protocol/frame-reader.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {API_CODECS} from '../../src/lib/protocol/generated/index.js'

registerApiCodecs(API_CODECS)

const [portArg, dataDir, partitionsArg] = process.argv.slice(2)
const PARTITIONS = Number(partitionsArg ?? 6)
fs.mkdirSync(dataDir!, {recursive: true})

const files = new Map<string, {fd: number; position: number; nextOffset: bigint}>()
function fileOf(topic: string, partition: number) {
  const key = `${topic}-${partition}`
  let f = files.get(key)
  if (!f) {
    f = {fd: fs.openSync(path.join(dataDir!, `${key}.log`), 'a'), position: 0, nextOffset: 0n}
    files.set(key, f)
  }
  return f
}

function write(fd: number, buffer: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => fs.write(fd, buffer, 0, buffer.length, position, (error) => (error ? reject(error) : resolve())))
}

const served = [ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.Produce] as const

async function handle(frame: Buffer, port: number): Promise<Buffer[] | null> {
  const {apiKey, apiVersion, correlationId} = peekRequestApi(frame)
  if (apiKey === ApiKey.ApiVersions) {
    const apiKeys = served.map((k) => ({apiKey: k, minVersion: API_CODECS[k].request.minVersion, maxVersion: API_CODECS[k].request.maxVersion}))
    return encodeResponse(ApiKey.ApiVersions, Math.min(apiVersion, 3), correlationId, {errorCode: 0, apiKeys, throttleTimeMs: 0})
  }
  const {body} = decodeRequest(frame) as {body: any}
  if (apiKey === ApiKey.Metadata) {
    const names: string[] = (body.topics ?? []).map((t: {name: string}) => t.name)
    const topics = names.map((name) => ({
      errorCode: 0,
      name,
      isInternal: false,
      partitions: Array.from({length: PARTITIONS}, (_, i) => ({errorCode: 0, partitionIndex: i, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: []})),
    }))
    return encodeResponse(ApiKey.Metadata, apiVersion, correlationId, {brokers: [{nodeId: 0, host: '127.0.0.1', port, rack: null}], clusterId: 'floor', controllerId: 0, topics} as never)
  }
  if (apiKey === ApiKey.Produce) {
    const responses = await Promise.all(
      (body.topicData as Array<{name: string; partitionData: Array<{index: number; records: Buffer | null}>}>).map(async (t) => ({
        name: t.name,
        partitionResponses: await Promise.all(
          t.partitionData.map(async (p) => {
            const f = fileOf(t.name, p.index)
            const records = p.records ?? Buffer.alloc(0)
            // Record count of each batch (int32 at 57), for the offsets librdkafka reports.
            let count = 0
            for (let at = 0; at + 61 <= records.length; at += 12 + records.readInt32BE(at + 8)) count += records.readInt32BE(at + 57)
            const baseOffset = f.nextOffset
            f.nextOffset += BigInt(count)
            const position = f.position
            f.position += records.length
            await write(f.fd, records, position)
            return {index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, errorMessage: null}
          }),
        ),
      })),
    )
    if (body.acks === 0) return null
    return encodeResponse(ApiKey.Produce, apiVersion, correlationId, {responses, throttleTimeMs: 0} as never)
  }
  throw new Error(`API ${apiKey} is not served by the floor`)
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  const queue: Buffer[] = []
  let busy = false
  const pump = async () => {
    if (busy) return
    busy = true
    while (queue.length > 0) {
      const out = await handle(queue.shift()!, (server.address() as net.AddressInfo).port)
      if (out) {
        socket.cork()
        for (const c of out) socket.write(c)
        socket.uncork()
      }
    }
    busy = false
  }
  const reader = new FrameReader({maxFrameSize: 100 * 1024 * 1024, onFrame: (f) => queue.push(f)})
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk)
    pump().catch((error) => {
      process.stderr.write(`${error}\n`)
      socket.destroy()
    })
  })
  socket.on('error', () => socket.destroy())
})
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write('listening\n'))
process.on('SIGTERM', () => process.exit(0))
