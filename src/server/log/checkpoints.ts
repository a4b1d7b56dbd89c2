/**
 * Kafka's text checkpoint files (CheckpointFile / OffsetCheckpointFile).
 *
 * Format, ASCII, '\n'-terminated lines:
 *   <version>          always 0
 *   <count>            number of entry lines that follow
 *   <entry>            `count` lines, fields separated by one space
 *
 * Data-directory files using it, with entries `<topic> <partition> <offset>`:
 *   recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 *   cleaner-offset-checkpoint (and replication-offset-checkpoint, owned by replication).
 * Per-partition `leader-epoch-checkpoint` uses it with entries `<epoch> <startOffset>`.
 *
 * Writes are atomic (tmp file, fsync, rename, directory fsync). Callers
 * serialize writes to one file; reads may run any time.
 */

import type {FileSystem} from './fs.js'
import {isNotFound, writeFileAtomic} from './fs.js'

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint'
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint'
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint'

export class CorruptCheckpointError extends Error {
  constructor(message: string, readonly path: string) {
    super(`${message} in checkpoint file ${path}`)
    this.name = 'CorruptCheckpointError'
  }
}

const CHECKPOINT_VERSION = 0

/** Serializes entries, each already a list of fields. */
export function formatCheckpoint(entries: ReadonlyArray<ReadonlyArray<string | number>>): Buffer {
  const lines = [String(CHECKPOINT_VERSION), String(entries.length), ...entries.map((e) => e.join(' '))]
  return Buffer.from(lines.join('\n') + '\n', 'ascii')
}

/** Parses a checkpoint into rows of `fields` fields each; throws CorruptCheckpointError. */
export function parseCheckpoint(data: Buffer, fields: number, path: string): string[][] {
  const lines = data.toString('ascii').split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  if (lines.length < 2) throw new CorruptCheckpointError('Missing version or count line', path)
  if (Number(lines[0]) !== CHECKPOINT_VERSION || lines[0]!.trim() !== lines[0]) {
    throw new CorruptCheckpointError(`Unsupported version ${JSON.stringify(lines[0])}`, path)
  }
  const count = Number(lines[1])
  if (!Number.isSafeInteger(count) || count < 0 || lines.length - 2 !== count) {
    throw new CorruptCheckpointError(`Expected ${lines[1]} entries, found ${lines.length - 2}`, path)
  }
  return lines.slice(2).map((line, i) => {
    const parts = line.split(' ')
    if (parts.length !== fields || parts.some((p) => p === '')) {
      throw new CorruptCheckpointError(`Malformed entry line ${i + 3}: ${JSON.stringify(line)}`, path)
    }
    return parts
  })
}

export function parseOffset(text: string, path: string): number {
  const value = Number(text)
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new CorruptCheckpointError(`Bad number ${JSON.stringify(text)}`, path)
  }
  return value
}

/** Key of a partition in the maps below: `${topic}-${partition}`, the partition directory name. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`
}

export interface PartitionOffset {
  topic: string
  partition: number
  offset: number
}

/** A `<topic> <partition> <offset>` checkpoint file in the data directory. */
export class OffsetCheckpointFile {
  constructor(
    private readonly fs: FileSystem,
    readonly path: string,
  ) {}

  async write(entries: Iterable<PartitionOffset>): Promise<void> {
    const rows = [...entries].map((e) => [e.topic, e.partition, e.offset])
    await writeFileAtomic(this.fs, this.path, formatCheckpoint(rows))
  }

  /** Entries keyed by partitionKey(); empty when the file is missing. */
  async read(): Promise<Map<string, PartitionOffset>> {
    let data: Buffer
    try {
      data = await this.fs.readFile(this.path)
    } catch (error) {
      if (isNotFound(error)) return new Map()
      throw error
    }
    const result = new Map<string, PartitionOffset>()
    for (const [topic, partition, offset] of parseCheckpoint(data, 3, this.path)) {
      const entry = {topic: topic!, partition: parseOffset(partition!, this.path), offset: parseOffset(offset!, this.path)}
      result.set(partitionKey(entry.topic, entry.partition), entry)
    }
    return result
  }
}
