/**
 * Names of the files in a partition directory, as Kafka spells them:
 * `<20-digit zero-padded base offset>.<suffix>`, suffixes `.log`, `.index`,
 * `.timeindex`, `.snapshot`, `.txnindex`; plus `.deleted` (scheduled for
 * deletion), `.cleaned` and `.swap` (compaction in progress) appended to a
 * segment file name.
 */

import * as nodePath from 'node:path'

export const LOG_FILE_SUFFIX = '.log'
export const INDEX_FILE_SUFFIX = '.index'
export const TIME_INDEX_FILE_SUFFIX = '.timeindex'
export const TXN_INDEX_FILE_SUFFIX = '.txnindex'
export const DELETED_FILE_SUFFIX = '.deleted'
export const CLEANED_FILE_SUFFIX = '.cleaned'
export const SWAP_FILE_SUFFIX = '.swap'

export function filenamePrefixFromOffset(offset: number): string {
  return String(offset).padStart(20, '0')
}

/** The offset a file name starts with (20 digits), or undefined. */
export function offsetFromFilename(name: string): number | undefined {
  const match = /^(\d{20})\./.exec(name)
  if (!match) return undefined
  const value = Number(match[1])
  return Number.isSafeInteger(value) ? value : undefined
}

export function logFile(dir: string, baseOffset: number, suffix = ''): string {
  return nodePath.join(dir, filenamePrefixFromOffset(baseOffset) + LOG_FILE_SUFFIX + suffix)
}

export function offsetIndexFile(dir: string, baseOffset: number, suffix = ''): string {
  return nodePath.join(dir, filenamePrefixFromOffset(baseOffset) + INDEX_FILE_SUFFIX + suffix)
}

export function timeIndexFile(dir: string, baseOffset: number, suffix = ''): string {
  return nodePath.join(dir, filenamePrefixFromOffset(baseOffset) + TIME_INDEX_FILE_SUFFIX + suffix)
}

export function txnIndexFile(dir: string, baseOffset: number, suffix = ''): string {
  return nodePath.join(dir, filenamePrefixFromOffset(baseOffset) + TXN_INDEX_FILE_SUFFIX + suffix)
}

/** `topic-partition` -> {topic, partition}; undefined for names that are not partition directories. */
export function parseTopicPartitionName(name: string): {topic: string; partition: number} | undefined {
  const match = /^(.+)-(\d+)$/.exec(name)
  if (!match) return undefined
  const partition = Number(match[2])
  return Number.isSafeInteger(partition) && partition <= 0x7fffffff ? {topic: match[1]!, partition} : undefined
}
