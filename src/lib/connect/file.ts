/**
 * FileStreamSource / FileStreamSink (Kafka's connect/file) with Kafka's names and configs.
 * Source: one task reads `file` line by line (\n, \r or \r\n), at most `batch.size` lines per
 * poll, each line a string record to `topic` with a null key; its source partition is
 * {filename} and its offset {position}, the position counted as Kafka's (a Java char reader):
 * UTF-16 code units after the line terminator. A restarted task skips to the committed position;
 * an incomplete last line waits for its terminator. Sink: appends each record's value and a
 * newline to `file`; flush() writes and fsyncs, so consumer offsets committed after it cover only
 * lines on disk (at-least-once: lines written after the last commit are written again after a crash).
 * Reading standard input / writing standard output (no `file`) is not supported yet.
 */
import {open, readFile, type FileHandle} from 'node:fs/promises'
import {writeAtomically} from './offset-store.js'
import {StringDecoder} from 'node:string_decoder'
import {type ConfigValue, ConfigDef, nonEmptyString, atLeast, type SinkConnector, type SinkRecord, type SinkTask, type SinkTaskContext, type SourceConnector, type SourceRecord, type SourceTask, type SourceTaskContext} from './api.js'
import {Schemas} from './data.js'

export const VERSION = '4.0.0'

export const FILE_SOURCE_CONFIG = new ConfigDef()
  .define({name: 'file', type: 'STRING', defaultValue: null, importance: 'HIGH', documentation: 'Source filename. If not specified, the standard input will be used'})
  .define({name: 'topic', type: 'STRING', importance: 'HIGH', documentation: 'The topic to publish data to', validator: nonEmptyString})
  .define({name: 'batch.size', type: 'INT', defaultValue: '2000', importance: 'LOW', documentation: 'The maximum number of records the source task can read from the file each time it is polled', validator: atLeast(1)})

export const FILE_SINK_CONFIG = new ConfigDef()
  .define({name: 'file', type: 'STRING', defaultValue: null, importance: 'HIGH', documentation: 'Destination filename. If not specified, the standard output will be used'})

export class FileStreamSourceConnector implements SourceConnector {
  readonly type = 'source' as const
  private props: Record<string, string> = {}
  version(): string { return VERSION }
  config(): ConfigDef { return FILE_SOURCE_CONFIG }
  start(props: Record<string, string>): void {
    FILE_SOURCE_CONFIG.parse(props)
    this.props = props
  }

  /** One task only, as Kafka's: a file is read by a single reader. */
  taskConfigs(_maxTasks: number): Array<Record<string, string>> {
    const c: Record<string, string> = {topic: this.props.topic, 'batch.size': this.props['batch.size'] ?? '2000'}
    if (this.props.file !== undefined) c.file = this.props.file
    return [c]
  }

  stop(): void {}
  validate(props: Record<string, string>): ConfigValue[] { return FILE_SOURCE_CONFIG.validate(props) }
  createTask(): SourceTask { return new FileStreamSourceTask() }
}

export class FileStreamSourceTask implements SourceTask {
  private context?: SourceTaskContext
  private fh?: FileHandle
  private filename = ''
  private topic = ''
  private batchSize = 2000
  private decoder = new StringDecoder('utf8')
  private buffer = ''
  private position = 0 // UTF-16 code units consumed up to the end of the last emitted line
  private skip = 0 // code units still to skip to reach the committed position
  private eof = false
  private stopped = false
  private readBuf = Buffer.allocUnsafe(64 * 1024)
  private wake?: () => void

  version(): string { return VERSION }
  initialize(context: SourceTaskContext): void { this.context = context }

  async start(props: Record<string, string>): Promise<void> {
    const parsed = FILE_SOURCE_CONFIG.parse(props)
    if (parsed.file === null) throw new Error('FileStreamSourceTask: reading standard input is not supported')
    this.filename = parsed.file as string
    this.topic = parsed.topic as string
    this.batchSize = parsed['batch.size'] as number
    const offset = this.context?.offsetStorageReader.offset({filename: this.filename})
    if (offset && offset.position !== undefined && offset.position !== null) {
      if (typeof offset.position !== 'number') throw new Error('Offset position is the incorrect type')
      this.position = offset.position
      this.skip = offset.position
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null
    if (!this.fh) {
      try {
        this.fh = await open(this.filename, 'r')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        await this.pause(1000) // Kafka waits for the file to appear
        return null
      }
    }
    const records: SourceRecord[] = []
    for (;;) {
      this.extractLines(records)
      if (records.length >= this.batchSize) break
      if (!(await this.readMore())) break
    }
    if (records.length === 0) await this.pause(1000)
    return records
  }

  private extractLines(out: SourceRecord[]): void {
    let start = 0
    while (out.length < this.batchSize) {
      let i = start
      const n = this.buffer.length
      while (i < n && this.buffer.charCodeAt(i) !== 10 && this.buffer.charCodeAt(i) !== 13) i++
      if (i >= n) break
      let end = i + 1
      if (this.buffer.charCodeAt(i) === 13) {
        if (i + 1 >= n && !this.eof) break // a \r at the end of what was read: wait for a possible \n
        if (this.buffer.charCodeAt(i + 1) === 10) end++
      }
      const line = this.buffer.slice(start, i)
      this.position += end - start
      out.push({sourcePartition: {filename: this.filename}, sourceOffset: {position: this.position}, topic: this.topic, partition: null, valueSchema: Schemas.STRING, value: line})
      start = end
    }
    if (start > 0) this.buffer = this.buffer.slice(start)
  }

  private async readMore(): Promise<boolean> {
    const {bytesRead} = await this.fh!.read(this.readBuf, 0, this.readBuf.length, null)
    if (bytesRead === 0) { this.eof = true; return false }
    this.eof = false
    let text = this.decoder.write(this.readBuf.subarray(0, bytesRead))
    if (this.skip > 0) {
      const k = Math.min(this.skip, text.length)
      text = text.slice(k)
      this.skip -= k
    }
    this.buffer += text
    return true
  }

  private pause(ms: number): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(() => { this.wake = undefined; resolve() }, ms)
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve() }
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    const fh = this.fh
    this.fh = undefined
    await fh?.close()
  }
}

export class FileStreamSinkConnector implements SinkConnector {
  readonly type = 'sink' as const
  private props: Record<string, string> = {}
  version(): string { return VERSION }
  config(): ConfigDef { return FILE_SINK_CONFIG }
  start(props: Record<string, string>): void { FILE_SINK_CONFIG.parse(props); this.props = props }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({length: maxTasks}, (): Record<string, string> => (this.props.file === undefined ? {} : {file: this.props.file}))
  }

  stop(): void {}
  validate(props: Record<string, string>): ConfigValue[] { return FILE_SINK_CONFIG.validate(props) }
  createTask(): SinkTask { return new FileStreamSinkTask() }
}

/**
 * Appends each record's value and a newline. Beyond Kafka's sink, it keeps `<file>.connect-offsets`
 * (written atomically after each fsync of the data: the file's size and the next offset of each
 * partition it holds), so a crash between the fsync and the runtime's offset commit writes no line
 * twice: a restarted task cuts the file back to that size and asks the runtime (open() ->
 * context.offset) to resume from those offsets.
 */
export class FileStreamSinkTask implements SinkTask {
  private fh?: FileHandle
  private pending: string[] = []
  private context?: SinkTaskContext
  private stateFile = ''
  private state: {size: number; offsets: Record<string, number>} = {size: 0, offsets: {}}
  version(): string { return VERSION }
  initialize(context: SinkTaskContext): void { this.context = context }

  async start(props: Record<string, string>): Promise<void> {
    const parsed = FILE_SINK_CONFIG.parse(props)
    if (parsed.file === null) throw new Error('FileStreamSinkTask: writing standard output is not supported')
    const file = parsed.file as string
    this.stateFile = file + '.connect-offsets'
    try {
      this.state = JSON.parse(await readFile(this.stateFile, 'utf8')) as typeof this.state
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    this.fh = await open(file, 'a')
    const {size} = await this.fh.stat()
    if (this.state.size > 0 && size > this.state.size) {
      await this.fh.truncate(this.state.size)
      await this.fh.datasync()
    } else if (Object.keys(this.state.offsets).length === 0) {
      this.state.size = size
    }
  }

  open(partitions: Array<{topic: string; partition: number}>): void {
    for (const p of partitions) {
      const next = this.state.offsets[`${p.topic}:${p.partition}`]
      if (next !== undefined) this.context?.offset(p.topic, p.partition, next)
    }
  }

  put(records: SinkRecord[]): void {
    for (const r of records) this.pending.push(valueToString(r.value) + '\n')
  }

  async flush(currentOffsets?: Map<string, number>): Promise<void> {
    if (!this.fh) return
    if (this.pending.length > 0) {
      const data = this.pending.join('')
      this.pending = []
      await this.fh.appendFile(data, 'utf8')
    }
    await this.fh.datasync()
    if (currentOffsets && currentOffsets.size > 0) {
      const {size} = await this.fh.stat()
      this.state = {size, offsets: {...this.state.offsets, ...Object.fromEntries(currentOffsets)}}
      await writeAtomically(this.stateFile, JSON.stringify(this.state))
    }
  }

  async stop(): Promise<void> {
    const fh = this.fh
    this.fh = undefined
    this.pending = []
    await fh?.close()
  }
}

/** String.valueOf as the Java sink prints a value. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'string') return v
  if (v instanceof Map) return '{' + [...v].map(([k, x]) => `${String(k)}=${valueToString(x)}`).join(', ') + '}'
  if (Array.isArray(v)) return '[' + v.map(valueToString).join(', ') + ']'
  return String(v)
}
