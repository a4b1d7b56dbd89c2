// Benchmarks of src/lib/records: the broker's hot path (readBatchHeader, validateBatch with CRC-32C)
// on 16 KiB and 1 MiB batches, each codec's compress/decompress, and the full record decode/encode.
// Run: npx tsx bench/records.ts   (prints a markdown table and writes bench/results-records.md)
import {writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {CompressionType, readBatchHeader, validateBatch} from '../src/lib/records/batch.js'
import {codecName, compress, decompress} from '../src/lib/records/compression.js'
import {type RecordInput, buildRecordBatch, decodeRecordBatch} from '../src/lib/records/record.js'

const COMMAND = 'npx tsx bench/records.ts'
const MIN_SECONDS = 1

/** Runs `fn` until MIN_SECONDS have passed (after a short warm-up); returns operations per second. */
async function measure(fn: () => unknown): Promise<number> {
  // Synchronous functions run in batches without awaiting, so the figure is not the cost of a microtask.
  const isAsync = fn() instanceof Promise
  const batch = isAsync ? 10 : 1000
  const run = async (): Promise<void> => {
    if (isAsync) for (let i = 0; i < batch; i++) await fn()
    else for (let i = 0; i < batch; i++) fn()
  }
  await run()
  let ops = 0
  const start = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < MIN_SECONDS) {
    await run()
    ops += batch
    elapsed = Number(process.hrtime.bigint() - start) / 1e9
  }
  return ops / elapsed
}

/** Log-like records: a short key and a ~120-byte value with some repetition, like JSON events. */
function records(totalBytes: number): RecordInput[] {
  const out: RecordInput[] = []
  let size = 0
  for (let i = 0; size < totalBytes; i++) {
    const value = Buffer.from(
      JSON.stringify({id: i, user: `user-${i % 977}`, event: ['click', 'view', 'buy'][i % 3], ts: 1_700_000_000_000 + i}),
    )
    out.push({key: Buffer.from(`key-${i % 1000}`), value, timestamp: 1_700_000_000_000 + i})
    size += value.length + 20
  }
  return out
}

const loadAtStart = loadavg()[0]!.toFixed(2)
const mb = (bytesPerSecond: number): string => (bytesPerSecond / 1e6).toFixed(0)
const rows: string[][] = []

for (const [label, size] of [
  ['16 KiB', 16 * 1024],
  ['1 MiB', 1024 * 1024],
] as const) {
  const batch = await buildRecordBatch({records: records(size - 200)})
  const count = readBatchHeader(batch).recordCount
  const headerOps = await measure(() => readBatchHeader(batch))
  const validateOps = await measure(() => validateBatch(batch))
  const decodeOps = await measure(() => decodeRecordBatch(batch))
  const input = records(size - 200)
  const buildOps = await measure(() => buildRecordBatch({records: input}))
  rows.push([`readBatchHeader, ${label} batch`, `${(headerOps / 1e6).toFixed(2)} M batches/s`, '—'])
  rows.push([`validateBatch (header + CRC-32C), ${label} batch (${batch.length} B)`, `${Math.round(validateOps)} batches/s`, `${mb(validateOps * batch.length)} MB/s`])
  rows.push([`decodeRecordBatch, ${label} uncompressed (${count} records)`, `${((decodeOps * count) / 1e6).toFixed(2)} M records/s`, `${mb(decodeOps * batch.length)} MB/s`])
  rows.push([`buildRecordBatch, ${label} uncompressed (${count} records)`, `${((buildOps * count) / 1e6).toFixed(2)} M records/s`, `${mb(buildOps * batch.length)} MB/s`])
}

// Codecs on the records section of a 1 MiB batch (what a producer compresses).
const payload = (await buildRecordBatch({records: records(1024 * 1024 - 200)})).subarray(61)
for (const type of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
  const compressed = await compress(type, payload)
  const compressOps = await measure(() => compress(type, payload))
  const decompressOps = await measure(() => decompress(type, compressed))
  const ratio = (payload.length / compressed.length).toFixed(2)
  rows.push([`${codecName(type)} compress, 1 MiB of records (ratio ${ratio})`, `${compressOps.toFixed(0)} ops/s`, `${mb(compressOps * payload.length)} MB/s`])
  rows.push([`${codecName(type)} decompress, 1 MiB of records`, `${decompressOps.toFixed(0)} ops/s`, `${mb(decompressOps * payload.length)} MB/s (uncompressed bytes)`])
}

const table = [
  '| operation | rate | throughput |',
  '| --- | ---: | ---: |',
  ...rows.map((row) => `| ${row.join(' | ')} |`),
].join('\n')
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}, ${process.platform}/${process.arch}`
console.log(table)
console.log(`\n${machine}`)

const report = `# Records benchmarks (src/lib/records)

Command: \`${COMMAND}\` (from the project root). Each figure runs for at least ${MIN_SECONDS} s after a warm-up, single thread
(gzip and zstd use the libuv thread pool but are awaited one at a time). MB = 10^6 bytes.
Data: log-like JSON values of ~100 bytes with short keys; codecs compress the records section of a 1 MiB batch;
gzip level 6, zstd level 3 (the Java client's defaults); snappy with xerial framing; lz4 frame with 64 KiB blocks.

Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}. 1-minute load average at start: ${loadAtStart}
(on a shared machine with a high load the figures vary by up to 3x between runs; compare runs on an idle machine).

${table}
`
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'results-records.md'), report)
