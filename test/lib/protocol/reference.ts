/** Where the Kafka reference data lives (../shared/kafka-reference); tests skip when it is absent. */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const REFERENCE_DIR = process.env.KAFKA_REFERENCE_DIR ?? resolve(PROJECT_ROOT, '../shared/kafka-reference')
export const HAVE_REFERENCE = existsSync(join(REFERENCE_DIR, 'messages'))

export interface CapturedFrame {
  client: string
  connection: number
  direction: 'request' | 'response'
  apiKey: number
  api: string
  apiVersion: number
  correlationId: number
  frameHex: string
}

export function loadCaptures(): CapturedFrame[] {
  const dir = join(REFERENCE_DIR, 'captures')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as CapturedFrame),
    )
}
