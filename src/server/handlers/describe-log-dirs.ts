// DescribeLogDirs: v1-4
//
// Behaviour: the broker's one data directory with the size of each partition it hosts (all
// topics when `topics` is null), and (v4) the file system's total and usable bytes.
// Not implemented: offsetLag is always 0 (no future replicas / intra-broker moves).
import {statfs} from 'node:fs/promises'
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

export const describeLogDirs = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 1,
  maxVersion: 4,
  async handle(request, ctx) {
    const {replicas} = ctx.broker
    // Authorization (issue 15): DESCRIBE on the cluster.
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: []}
    const wanted = request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]))
    const byTopic = new Map<string, Array<{partitionIndex: number; partitionSize: bigint; offsetLag: bigint; isFutureKey: boolean}>>()
    for (const p of replicas.all()) {
      if (wanted && !wanted.get(p.topic)?.has(p.partition)) continue
      const list = byTopic.get(p.topic) ?? []
      list.push({partitionIndex: p.partition, partitionSize: BigInt(p.log.size), offsetLag: 0n, isFutureKey: false})
      byTopic.set(p.topic, list)
    }
    let totalBytes = -1n
    let usableBytes = -1n
    try {
      const s = await statfs(ctx.broker.dataDir)
      totalBytes = BigInt(s.blocks) * BigInt(s.bsize)
      usableBytes = BigInt(s.bavail) * BigInt(s.bsize)
    } catch {
      // Sizes stay unknown (-1).
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{errorCode: ErrorCode.NONE, logDir: ctx.broker.dataDir, topics: [...byTopic].map(([name, partitions]) => ({name, partitions})), totalBytes, usableBytes}],
    }
  },
})
