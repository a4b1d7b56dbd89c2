/**
 * Child of large-log.ts: opens the data dir (clean), appends `tailMiB` of 16 KiB
 * batches with the default flush policy (no fsync), prints "done", and waits to be SIGKILLed.
 * Usage: tsx bench/log/restart-writer.ts <dataDir> <tailMiB>
 */
import {NodeFileSystem} from '../../src/server/log/fs.js'
import {LogManager} from '../../src/server/log/log-manager.js'
import {DEFAULT_LOG_CONFIG} from '../../src/server/log/log-config.js'
import {makeBatches} from './common.js'

const [dataDir, tailMiB] = process.argv.slice(2)
const manager = await LogManager.open({fs: new NodeFileSystem(), dataDir: dataDir!, configFor: () => ({...DEFAULT_LOG_CONFIG, retentionMs: -1}), cleaner: false})
const log = manager.getLog('big', 0)!
const batches = await makeBatches(64, 16 * 1024)
let bytes = 0
for (let i = 0; bytes < Number(tailMiB) * 2 ** 20; i++) {
  const b = batches[i % batches.length]!
  await log.append(b)
  bytes += b.length
}
process.stdout.write(`done ${log.logEndOffset} ${log.recoveryPoint}\n`)
setInterval(() => undefined, 1000)
