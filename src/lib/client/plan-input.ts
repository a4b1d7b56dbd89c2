// Input and output helpers of the `reassign`, `preferred-election` and `cluster drain` commands
// (not commands themselves): a JSON document from a file or standard input, Kafka's partition
// lists, and the shared checks against the cluster — broker ids and partitions that must exist,
// with the messages of Kafka's kafka-reassign-partitions.sh.

import {readFileSync} from 'node:fs'

import {NotFoundError, UsageError} from '../cli/errors.js'
import type {ClusterMetadata} from './metadata.js'
import {partitionName, type PlannedPartition} from './reassignment-plan.js'

/** Reads `path` ('-' or undefined: standard input, which must not be a terminal); `flag` names it in messages. */
export async function readDocument(path: string | undefined, flag: string): Promise<{text: string; what: string}> {
  if (path !== undefined && path !== '-') {
    try {
      return {text: readFileSync(path, 'utf8'), what: path}
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  if (process.stdin.isTTY) throw new UsageError(`give ${flag} <file>, or pipe the JSON into standard input`)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') throw new UsageError(`${flag}: standard input is empty`)
  return {text, what: 'standard input'}
}

/** Kafka's verifyBrokerIds: the first broker a plan names that the cluster does not have. */
export function checkBrokersExist(plan: readonly PlannedPartition[], brokers: readonly number[]): void {
  const known = new Set(brokers)
  for (const p of plan) {
    const unknown = p.replicas.find((r) => !known.has(r))
    if (unknown !== undefined) throw new NotFoundError(`Unknown broker id ${unknown} (in ${partitionName(p.topic, p.partition)}; the cluster's brokers are ${brokers.join(',')})`)
  }
}

/** Kafka's getReplicaAssignmentForPartitions: every partition of the plan must exist; returns their current replicas. */
export function currentReplicasOf(plan: readonly {topic: string; partition: number}[], metadata: ClusterMetadata): Map<string, number[]> {
  const current = new Map<string, number[]>()
  for (const t of metadata.topics) for (const p of t.partitions) current.set(partitionName(t.name, p.partition), p.replicas)
  const missing = plan.map((p) => partitionName(p.topic, p.partition)).filter((name) => !current.has(name))
  if (missing.length > 0) throw new NotFoundError(`Unable to find partition: ${missing.join(', ')}`)
  return current
}

/** `s` when `n` is not 1 (Kafka's messages pluralize so). */
export function plural(n: number): string {
  return n === 1 ? '' : 's'
}
