import {Args, Flags} from '@oclif/core'

import {KcliCommand} from '../../lib/cli/base-command.js'
import {KcliError, UsageError} from '../../lib/cli/errors.js'
import type {DumpedBatch, DumpedFile} from '../../lib/client/segment-dump.js'

export interface LogDumpResult {
  files: DumpedFile[]
}

function batchLine(b: DumpedBatch): string {
  return (
    `baseOffset: ${b.baseOffset} lastOffset: ${b.lastOffset} count: ${b.count} baseSequence: ${b.baseSequence} lastSequence: ${b.lastSequence} ` +
    `producerId: ${b.producerId} producerEpoch: ${b.producerEpoch} partitionLeaderEpoch: ${b.partitionLeaderEpoch} isTransactional: ${b.isTransactional} ` +
    `isControl: ${b.isControl} position: ${b.position} ${b.timestampType}: ${b.maxTimestamp} size: ${b.size} magic: ${b.magic} ` +
    `compresscodec: ${b.compression} crc: ${b.crc} isvalid: ${b.isValid}`
  )
}

export default class LogDump extends KcliCommand<typeof LogDump> {
  static override args = {
    file: Args.string({description: 'Segment (.log), offset index (.index), time index (.timeindex), producer snapshot (.snapshot) or transaction index (.txnindex) files.', required: true}),
  }
  static override description = `Decodes a partition's files offline, like kafka-dump-log.sh: the batches of a .log segment (offsets, producer, sequence, timestamps, codec, CRC check), with --records every record (--print-data for keys and values), the entries of .index and .timeindex files, the producers of a .snapshot and the aborted transactions of a .txnindex. Reads the files directly; no broker is involved. A torn or corrupt tail is reported with its byte position and makes the exit code 1.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> /var/lib/kafka/orders-0/00000000000000000000.log', description: 'The batches of a segment.'},
    {command: '<%= config.bin %> <%= command.id %> 00000000000000000000.log --records --print-data', description: 'Every record with its key and value.'},
    {command: '<%= config.bin %> <%= command.id %> 00000000000000000000.index 00000000000000000000.timeindex --json', description: 'Index entries as JSON.'},
    {command: '<%= config.bin %> <%= command.id %> 00000000000000018003.snapshot 00000000000000000000.txnindex', description: 'Producer state and aborted transactions.'},
  ]
  static override flags = {
    limit: Flags.integer({min: 1, summary: 'At most this many batches or index entries per file.'}),
    'print-data': Flags.boolean({summary: 'With --records, print keys and values (text, or base64 when not UTF-8).'}),
    records: Flags.boolean({aliases: ['deep-iteration'], summary: 'Decode every record of every batch.'}),
  }
  static override strict = false
  static override summary = 'Decode log segments and index files offline.'

  async run(): Promise<LogDumpResult> {
    const {dumpFile, fileType} = await import('../../lib/client/segment-dump.js')
    for (const path of this.positionals) if (!fileType(path)) throw new UsageError(`${path}: expected a .log, .index, .timeindex, .snapshot or .txnindex file`)
    const files: DumpedFile[] = []
    for (const path of this.positionals) {
      let file: DumpedFile
      try {
        file = await dumpFile(path, {limit: this.flags.limit, payloads: this.flags['print-data'], records: this.flags.records || this.flags['print-data']})
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        throw new KcliError(code === 'ENOENT' ? `${path}: no such file` : `${path}: ${(error as Error).message}`, 'not-found', 1)
      }
      files.push(file)
      this.print(file)
    }
    const result = {files}
    const broken = files.filter((f) => f.error !== undefined || f.batches?.some((b) => !b.isValid))
    if (broken.length > 0) {
      const {PartialFailureError} = await import('../../lib/cli/errors.js')
      throw new PartialFailureError(
        `${broken.length} of ${files.length} files are damaged: ${broken.map((f) => `${f.path}${f.error ? ` at byte ${f.error.position}: ${f.error.message}` : ': a batch fails its CRC check'}`).join('; ')}`,
        broken.map((f) => ({errorCode: 2, errorName: 'CORRUPT_MESSAGE', item: f.path, message: f.error?.message ?? 'CRC mismatch'})),
        result,
      )
    }
    return result
  }

  private print(file: DumpedFile): void {
    const c = this.out.color
    this.out.line(`Dumping ${file.path}`)
    if (file.type === 'log') {
      this.out.line(`Log starting offset: ${file.baseOffset}`)
      for (const batch of file.batches!) {
        this.out.line(batch.isValid ? batchLine(batch) : c.red(batchLine(batch)))
        for (const r of batch.records ?? []) {
          let line = `| offset: ${r.offset} ${batch.timestampType}: ${r.timestamp} keySize: ${r.keySize} valueSize: ${r.valueSize} sequence: ${r.sequence} headerKeys: [${r.headerKeys.join(',')}]`
          if (r.key !== undefined) line += ` key: ${r.key === null ? '' : String(r.key)}`
          if (r.value !== undefined) line += ` payload: ${r.value === null ? '' : String(r.value)}`
          this.out.line(line)
        }
      }
    } else if (file.type === 'index') {
      for (const e of file.entries!) this.out.line(`offset: ${e.offset} position: ${e.position}`)
    } else if (file.type === 'snapshot') {
      for (const p of file.producers!) {
        this.out.line(
          `producerId: ${p.producerId} producerEpoch: ${p.producerEpoch} coordinatorEpoch: ${p.coordinatorEpoch} currentTxnFirstOffset: ${p.currentTxnFirstOffset} lastTimestamp: ${p.lastTimestamp} ` +
            `firstSequence: ${p.firstSequence} lastSequence: ${p.lastSequence} lastOffset: ${p.lastOffset} offsetDelta: ${p.offsetDelta}`,
        )
      }
    } else if (file.type === 'txnindex') {
      for (const t of file.abortedTransactions!) this.out.line(`version: 0 producerId: ${t.producerId} firstOffset: ${t.firstOffset} lastOffset: ${t.lastOffset} lastStableOffset: ${t.lastStableOffset}`)
    } else {
      for (const e of file.entries!) this.out.line(`timestamp: ${e.timestamp} offset: ${e.offset}`)
    }
    if (file.error) this.out.line(c.red(`Found ${file.error.message} at byte position ${file.error.position}`))
  }
}
