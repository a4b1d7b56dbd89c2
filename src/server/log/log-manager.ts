/**
 * LogManager: all partition logs of one data directory (Kafka's LogManager).
 *
 * Data directory layout (Kafka's):
 *   <dataDir>/<topic>-<partition>/          one PartitionLog each
 *   <dataDir>/recovery-point-offset-checkpoint
 *   <dataDir>/log-start-offset-checkpoint
 *   <dataDir>/cleaner-offset-checkpoint      (log-cleaner.ts)
 *   <dataDir>/.kafka_cleanshutdown           present only between a clean
 *                                            shutdown and the next start
 *   <dataDir>/<topic>-<partition>.<id>-delete  a deleted partition, removed at start
 *
 * Start: reads the checkpoints and the clean-shutdown marker, opens every
 * partition (a few at a time) with its recovery point, then deletes the
 * marker, so a crash from then on means recovery at the next start. After a
 * clean shutdown a partition never written to costs one directory listing.
 * Create: getOrCreateLogs() creates a batch of new partitions a few at a time
 * with no fsync per file, then makes the batch durable at once: each new
 * partition.metadata is fsynced before its rename, then every new partition
 * directory is fsynced, then the data directory once.
 * Shutdown: closes every log (flush, indexes, snapshots: each only if changed
 * since its last sync, see PartitionLog.close), writes both checkpoints, then
 * writes the marker.
 *
 * Background work runs from tick() with an injectable clock (start() calls it
 * on a timer): flush.ms checks, retention (log.retention.check.interval.ms),
 * recovery-point and log-start-offset checkpoints
 * (log.flush.offset.checkpoint.interval.ms), unlinking `.deleted` files, and
 * the log cleaner. Ticks never overlap. One FileHandleCache caps open segment
 * files across all partitions (least recently used closed first).
 *
 * Concurrency: getOrCreateLog/deleteLog for the same partition must not race
 * (the replica manager owns partition lifecycle); everything else may be
 * called at any time.
 */

import * as nodePath from 'node:path'
import {CLEANER_OFFSET_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT, OffsetCheckpointFile, RECOVERY_POINT_CHECKPOINT, partitionKey} from './checkpoints.js'
import {storageError} from './errors.js'
import {FileHandleCache} from './file-handle-cache.js'
import type {FileSystem} from './fs.js'
import {isNotFound, writeFileAtomic} from './fs.js'
import {LogCleaner, type LogCleanerOptions} from './log-cleaner.js'
import {type Clock, DEFAULT_LOG_CONFIG, type LogConfig, isCompacted, systemClock} from './log-config.js'
import {parseTopicPartitionName} from './log-files.js'
import {PartitionLog} from './partition-log.js'

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'

export interface LogManagerOptions {
  fs: FileSystem
  dataDir: string
  /** Config of a topic; DEFAULT_LOG_CONFIG when not given. */
  configFor?: (topic: string) => LogConfig
  clock?: Clock
  /** Cap on open segment files across all partitions (default 4096). */
  maxOpenFiles?: number
  /**
   * Partitions opened concurrently at start and closed concurrently at shutdown (Kafka's
   * num.recovery.threads.per.data.dir; default 8), and created concurrently by getOrCreateLogs.
   */
  recoveryParallelism?: number
  /** log.retention.check.interval.ms (default 300000). */
  retentionCheckIntervalMs?: number
  /** log.flush.offset.checkpoint.interval.ms and log.flush.start.offset.checkpoint.interval.ms (default 60000). */
  checkpointIntervalMs?: number
  /** log.flush.scheduler.interval.ms: how often flush.ms is checked (default 1000 here; Kafka's default never). */
  flushCheckIntervalMs?: number
  /** Timer period of start() (default 1000). */
  tickIntervalMs?: number
  /** Enables the log cleaner for compacted topics (default enabled). */
  cleaner?: LogCleanerOptions | false
  /** Told the ms of every fsync of a log's data (issue 16: Kafka's LogFlushRateAndTimeMs). */
  onFlush?: (ms: number) => void
}

export class LogManager {
  private readonly logs = new Map<string, PartitionLog>()
  readonly handleCache: FileHandleCache
  readonly cleaner: LogCleaner | undefined
  private readonly clock: Clock
  private readonly recoveryPoints: OffsetCheckpointFile
  private readonly logStartOffsets: OffsetCheckpointFile
  private timer: NodeJS.Timeout | undefined
  private ticking: Promise<void> | undefined
  private lastRetention: number
  private lastCheckpoint: number
  private lastFlushCheck: number
  private shutDown = false
  /** Per-partition recovery reports from start. */
  readonly recoveryReports = new Map<string, PartitionLog['recoveryReport']>()
  hadCleanShutdown = false

  private constructor(private readonly opts: LogManagerOptions) {
    this.clock = opts.clock ?? systemClock
    this.handleCache = new FileHandleCache(opts.maxOpenFiles ?? 4096)
    this.recoveryPoints = new OffsetCheckpointFile(opts.fs, nodePath.join(opts.dataDir, RECOVERY_POINT_CHECKPOINT))
    this.logStartOffsets = new OffsetCheckpointFile(opts.fs, nodePath.join(opts.dataDir, LOG_START_OFFSET_CHECKPOINT))
    const now = this.clock.now()
    this.lastRetention = now
    this.lastCheckpoint = now
    this.lastFlushCheck = now
    this.cleaner =
      opts.cleaner === false
        ? undefined
        : new LogCleaner({
            ...(opts.cleaner ?? {}),
            fs: opts.fs,
            clock: this.clock,
            checkpoint: new OffsetCheckpointFile(opts.fs, nodePath.join(opts.dataDir, CLEANER_OFFSET_CHECKPOINT)),
          })
  }

  /** Opens the data directory and every partition in it. */
  static async open(opts: LogManagerOptions): Promise<LogManager> {
    const manager = new LogManager(opts)
    await manager.load()
    return manager
  }

  private configFor(topic: string): LogConfig {
    return this.opts.configFor?.(topic) ?? DEFAULT_LOG_CONFIG
  }

  private async load(): Promise<void> {
    const {fs, dataDir} = this.opts
    try {
      await fs.mkdir(dataDir)
      const markerPath = nodePath.join(dataDir, CLEAN_SHUTDOWN_FILE)
      this.hadCleanShutdown = (await fs.stat(markerPath)) !== undefined
      const recoveryPoints = await this.recoveryPoints.read()
      const logStartOffsets = await this.logStartOffsets.read()
      const dirs: {name: string; topic: string; partition: number}[] = []
      for (const name of await fs.readdir(dataDir)) {
        const path = nodePath.join(dataDir, name)
        if (name.endsWith('-delete')) {
          await fs.rmrf(path)
          continue
        }
        const parsed = parseTopicPartitionName(name)
        if (parsed) dirs.push({name, ...parsed})
      }
      await this.forEachConcurrently(dirs, async ({name, topic, partition}) => {
        const key = partitionKey(topic, partition)
        const dir = nodePath.join(dataDir, name)
        let log: PartitionLog
        try {
          log = await PartitionLog.open({
            fs,
            dir,
            config: this.configFor(topic),
            clock: this.clock,
            handleCache: this.handleCache,
            recoveryPoint: recoveryPoints.get(key)?.offset ?? 0,
            logStartOffset: logStartOffsets.get(key)?.offset ?? 0,
            hadCleanShutdown: this.hadCleanShutdown,
            createDir: false,
            onFlush: this.opts.onFlush,
          })
        } catch (error) {
          // A file named like a partition directory is not one (checked only here: a stat per directory costs 10,000 round trips).
          if ((await fs.stat(dir).catch(() => undefined))?.isDirectory === false) return
          throw error
        }
        this.logs.set(key, log)
        this.recoveryReports.set(key, log.recoveryReport)
      })
      // From here on a crash is an unclean shutdown.
      if (this.hadCleanShutdown) {
        await fs.unlink(markerPath).catch((error: unknown) => {
          if (!isNotFound(error)) throw error
        })
        await fs.syncDir(dataDir)
      }
      await this.checkpoint()
    } catch (error) {
      throw storageError(`Loading data directory ${dataDir}`, error)
    }
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionKey(topic, partition))
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()]
  }

  /** The log of a partition, created (empty, with partition.metadata when topicId is given) if missing. */
  async getOrCreateLog(topic: string, partition: number, opts: {topicId?: string; config?: LogConfig} = {}): Promise<PartitionLog> {
    const [log] = await this.getOrCreateLogs([{topic, partition, ...opts}])
    return log!
  }

  /**
   * The logs of these partitions, in order, creating the missing ones a few at a time. Nothing is
   * fsynced per file while creating; before this resolves, each new partition.metadata is durable
   * (fsynced before its rename), then each new partition directory and the data directory are
   * fsynced: when CreateTopics answers, its partitions survive a power loss, at two fsyncs per
   * partition (overlapping on the I/O thread pool) and one for the batch.
   */
  async getOrCreateLogs(specs: ReadonlyArray<{topic: string; partition: number; topicId?: string; config?: LogConfig}>): Promise<PartitionLog[]> {
    const created: PartitionLog[] = []
    const missing = new Map<string, (typeof specs)[number]>()
    for (const s of specs) {
      const key = partitionKey(s.topic, s.partition)
      if (!this.logs.has(key)) missing.set(key, s)
    }
    try {
      await this.forEachConcurrently([...missing], async ([key, {topic, topicId, config}]) => {
        const log = await PartitionLog.open({
          fs: this.opts.fs,
          dir: nodePath.join(this.opts.dataDir, key),
          config: config ?? this.configFor(topic),
          clock: this.clock,
          handleCache: this.handleCache,
          onFlush: this.opts.onFlush,
          ...(topicId !== undefined ? {topicId} : {}),
        })
        this.logs.set(key, log)
        created.push(log)
      })
    } finally {
      // Whatever was created is made durable, even when a later partition failed.
      if (created.length > 0) {
        await this.forEachConcurrently(created, (log) => log.syncDirectory())
        await this.opts.fs.syncDir(this.opts.dataDir)
      }
    }
    return specs.map((s) => this.logs.get(partitionKey(s.topic, s.partition))!)
  }

  /** Runs `fn` over `items`, recoveryParallelism at a time; the first failure rejects once the running calls end. */
  private async forEachConcurrently<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0
    let failed = false
    const worker = async (): Promise<void> => {
      while (next < items.length && !failed) {
        try {
          await fn(items[next++]!)
        } catch (error) {
          failed = true
          throw error
        }
      }
    }
    const results = await Promise.allSettled(Array.from({length: Math.min(this.opts.recoveryParallelism ?? 8, items.length)}, worker))
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (rejected) throw rejected.reason
  }

  /** Applies a topic's new config to its open logs. */
  updateTopicConfig(topic: string, config: LogConfig): void {
    for (const log of this.logs.values()) if (log.topic === topic) log.updateConfig(config)
  }

  /** Removes a partition's log and directory. */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition)
    const log = this.logs.get(key)
    if (!log) return
    this.logs.delete(key)
    this.cleaner?.forget(log)
    await log.delete()
    await this.checkpoint()
  }

  /** Writes recovery-point-offset-checkpoint and log-start-offset-checkpoint. */
  async checkpoint(): Promise<void> {
    const logs = [...this.logs.values()]
    await this.recoveryPoints.write(logs.map((l) => ({topic: l.topic, partition: l.partition, offset: l.recoveryPoint})))
    await this.logStartOffsets.write(logs.map((l) => ({topic: l.topic, partition: l.partition, offset: l.logStartOffset})))
  }

  /**
   * Runs the background tasks that are due. Errors are collected and returned
   * per partition rather than thrown, so one bad partition does not stop the rest.
   */
  tick(): Promise<void> {
    this.ticking ??= this.runTick().finally(() => {
      this.ticking = undefined
    })
    return this.ticking
  }

  /** Errors from background tasks, newest last (bounded). */
  readonly backgroundErrors: {key: string; error: unknown}[] = []

  private recordError(key: string, error: unknown): void {
    this.backgroundErrors.push({key, error})
    if (this.backgroundErrors.length > 100) this.backgroundErrors.shift()
  }

  private async runTick(): Promise<void> {
    if (this.shutDown) return
    const now = this.clock.now()
    const logs = [...this.logs.entries()]
    if (now - this.lastFlushCheck >= (this.opts.flushCheckIntervalMs ?? 1000)) {
      this.lastFlushCheck = now
      for (const [key, log] of logs) {
        if (log.config.flushMs === Infinity) continue
        await log.maybeFlushOnTime().catch((error: unknown) => this.recordError(key, error))
      }
    }
    if (now - this.lastRetention >= (this.opts.retentionCheckIntervalMs ?? 300_000)) {
      this.lastRetention = now
      for (const [key, log] of logs) await log.deleteOldSegments().catch((error: unknown) => this.recordError(key, error))
    } else {
      for (const [key, log] of logs) await log.deletePendingFiles().catch((error: unknown) => this.recordError(key, error))
    }
    if (this.cleaner) {
      const compacted = logs.filter(([, log]) => isCompacted(log.config)).map(([, log]) => log)
      if (compacted.length > 0) await this.cleaner.cleanOnce(compacted).catch((error: unknown) => this.recordError('cleaner', error))
    }
    if (now - this.lastCheckpoint >= (this.opts.checkpointIntervalMs ?? 60_000)) {
      this.lastCheckpoint = now
      await this.checkpoint().catch((error: unknown) => this.recordError('checkpoint', error))
    }
  }

  /** Runs tick() every tickIntervalMs until shutdown(). */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.tick(), this.opts.tickIntervalMs ?? 1000)
    this.timer.unref()
  }

  /** Clean shutdown: close every log, write checkpoints, then the clean-shutdown marker. */
  async shutdown(): Promise<void> {
    if (this.shutDown) return
    this.shutDown = true
    if (this.timer) clearInterval(this.timer)
    await this.ticking
    await this.cleaner?.stop()
    try {
      // Close a few logs at a time so their fsyncs overlap on the I/O thread pool.
      await this.forEachConcurrently([...this.logs.values()], (log) => log.close())
      await this.checkpoint()
      await writeFileAtomic(this.opts.fs, nodePath.join(this.opts.dataDir, CLEAN_SHUTDOWN_FILE), Buffer.from('{"version":0,"broker_epoch":-1}'))
    } catch (error) {
      throw storageError(`Shutting down data directory ${this.opts.dataDir}`, error)
    }
  }
}
