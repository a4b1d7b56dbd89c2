// Locates the partition directory written by Kafka 4.0 in ../shared/kafka-reference (never copied
// into the project). Tests using it skip with a message when it is absent.
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

export const GOLDEN_SEGMENTS_DIR = resolve(projectRoot, '../shared/kafka-reference/segments/golden-segments-0')
export const GOLDEN_RECORD_COUNT = 18_003
export const goldenAvailable = existsSync(GOLDEN_SEGMENTS_DIR)
export const goldenSkipReason = `golden segments not found at ${GOLDEN_SEGMENTS_DIR}`

/** The .log files of the golden partition, in offset order. */
export function goldenLogs(): {name: string; data: Buffer}[] {
  return readdirSync(GOLDEN_SEGMENTS_DIR)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => ({name, data: readFileSync(join(GOLDEN_SEGMENTS_DIR, name))}))
}
