/**
 * Child process for crash.test.ts: appends deterministic batches to
 * <dataDir>/crash-0 through a LogManager with flush.messages=1 and prints
 * "synced <lastOffset>" after each append resolves (so the bytes are fsynced).
 * Runs until killed. Batch i holds RECORDS_PER_BATCH records and content that
 * depends only on i, so the parent can regenerate the expected log.
 *
 * Usage: node crash-writer.(ts|cjs) <dataDir> <segmentBytes>
 */

import {NodeFileSystem} from '../../../src/server/log/fs.js'
import {LogManager} from '../../../src/server/log/log-manager.js'
import {crashBatch, crashConfig, RECORDS_PER_BATCH} from './crash-batches.js'

async function main(): Promise<void> {
  const [dataDir, segmentBytes] = process.argv.slice(2)
  const config = crashConfig(Number(segmentBytes))
  const manager = await LogManager.open({
    fs: new NodeFileSystem(),
    dataDir: dataDir!,
    configFor: () => config,
    checkpointIntervalMs: 20,
    tickIntervalMs: 10,
    cleaner: false,
  })
  manager.start()
  const log = await manager.getOrCreateLog('crash', 0)
  process.stdout.write(`ready ${log.logEndOffset}\n`)
  for (let i = log.logEndOffset / RECORDS_PER_BATCH; ; i++) {
    const result = await log.append(await crashBatch(i))
    process.stdout.write(`synced ${result.lastOffset}\n`)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`crash-writer failed: ${String((error as Error)?.stack ?? error)}\n`)
  process.exit(1)
})
