/**
 * Standalone mode's source offsets in a local file (`offset.storage.file.filename`), keyed as
 * Kafka Connect keys them: the JSON of [connector name, source partition] -> the JSON of the
 * source offset (what JsonConverter with schemas.enable=false writes to an offset topic). The
 * file is our own JSON document, not Kafka's Java-serialized HashMap, so a file written by Apache
 * Kafka's worker is not read. Every write is atomic: a temporary file, fsync, rename, fsync of
 * the directory — a crash leaves either the previous offsets or the new ones.
 */
import {mkdir, open, readFile, rename} from 'node:fs/promises'
import {dirname} from 'node:path'
import type {OffsetMap} from './api.js'

export interface OffsetEntry {partition: OffsetMap; offset: OffsetMap | null}

/**
 * Where source offsets live (Kafka's OffsetBackingStore): a local file in standalone mode
 * (FileOffsetStore), the offsets topic in distributed mode (distributed/offset-backing-store.ts).
 * Reads are from memory; writes resolve once durable.
 */
export interface OffsetBackingStore {
  get(connector: string, partition: OffsetMap): OffsetMap | null
  /** Every partition and offset of a connector (GET /connectors/{name}/offsets). */
  offsets(connector: string): OffsetEntry[]
  set(connector: string, entries: OffsetEntry[]): Promise<void>
  /** Forgets a connector's offsets (DELETE /connectors/{name}/offsets). */
  reset(connector: string): Promise<void>
  /** Offsets an exactly-once task already wrote to the offsets topic in its transaction. */
  committed(connector: string, entries: OffsetEntry[]): Promise<void>
}

/**
 * Source offsets in memory, keyed as Kafka Connect keys them: the JSON of [connector name,
 * source partition] -> the JSON of the source offset (null: none). Subclasses persist them.
 */
export abstract class MemoryOffsetStore implements OffsetBackingStore {
  protected readonly data = new Map<string, string>()

  static key(connector: string, partition: OffsetMap): string {
    return JSON.stringify([connector, partition])
  }

  get(connector: string, partition: OffsetMap): OffsetMap | null {
    const v = this.data.get(MemoryOffsetStore.key(connector, partition))
    return v === undefined ? null : (JSON.parse(v) as OffsetMap | null)
  }

  offsets(connector: string): OffsetEntry[] {
    const out: OffsetEntry[] = []
    for (const [k, v] of this.data) {
      const [name, partition] = JSON.parse(k) as [string, OffsetMap]
      if (name === connector) out.push({partition, offset: JSON.parse(v) as OffsetMap | null})
    }
    return out
  }

  /** The connectors that have offsets. */
  connectors(): string[] {
    return [...new Set([...this.data.keys()].map(k => (JSON.parse(k) as [string])[0]))]
  }

  /** The keys of a connector's offsets. */
  protected keysOf(connector: string): string[] {
    return [...this.data.keys()].filter(k => (JSON.parse(k) as [string])[0] === connector)
  }

  protected remember(connector: string, entries: OffsetEntry[]): void {
    for (const e of entries) this.data.set(MemoryOffsetStore.key(connector, e.partition), JSON.stringify(e.offset))
  }

  abstract set(connector: string, entries: OffsetEntry[]): Promise<void>
  abstract reset(connector: string): Promise<void>
  abstract committed(connector: string, entries: OffsetEntry[]): Promise<void>
}

export class FileOffsetStore extends MemoryOffsetStore {
  constructor(readonly filename: string) {
    super()
  }

  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.filename, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    const doc = JSON.parse(text) as {offsets: Array<[string, string]>}
    for (const [k, v] of doc.offsets) this.data.set(k, v)
  }

  /** Sets the offsets and writes the whole file atomically before resolving. */
  async set(connector: string, entries: OffsetEntry[]): Promise<void> {
    this.remember(connector, entries)
    await this.write()
  }

  /** The file is where standalone mode keeps them, also after a transaction wrote them to the topic. */
  committed(connector: string, entries: OffsetEntry[]): Promise<void> {
    return this.set(connector, entries)
  }

  /** Forgets a connector's offsets (DELETE /connectors/{name}/offsets) and writes the file. */
  async reset(connector: string): Promise<void> {
    for (const k of this.keysOf(connector)) this.data.delete(k)
    await this.write()
  }

  private async write(): Promise<void> {
    await writeAtomically(this.filename, JSON.stringify({offsets: [...this.data]}))
  }
}

/** Writes `filename` so that a crash leaves the old content or the new: temporary file, fsync, rename, fsync of the directory. */
export async function writeAtomically(filename: string, text: string): Promise<void> {
  await mkdir(dirname(filename), {recursive: true})
  const tmp = filename + '.tmp'
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(text, 'utf8')
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, filename)
  const dir = await open(dirname(filename), 'r')
  try { await dir.sync() } finally { await dir.close() }
}
