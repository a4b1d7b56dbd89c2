/**
 * The `partition.metadata` file of a partition directory (Kafka's
 * PartitionMetadataFile, KIP-516):
 *
 *   version: 0
 *   topic_id: <topic id, 22 characters of URL-safe base64 without padding>
 *
 * Written atomically once the topic id is known (the contents fsynced before
 * the rename, so the file is whole or absent; the rename is made durable by the
 * caller's fsync of the partition directory); read when a partition is
 * created, to detect a directory left over from a deleted topic of the same name.
 */

import type {FileSystem} from './fs.js'
import {isNotFound, writeFileAtomic} from './fs.js'

export const PARTITION_METADATA_FILE = 'partition.metadata'

export class CorruptPartitionMetadataError extends Error {}

export function formatPartitionMetadata(topicId: string): Buffer {
  return Buffer.from(`version: 0\ntopic_id: ${topicId}`, 'utf8')
}

export function parsePartitionMetadata(data: Buffer, path: string): {version: number; topicId: string} {
  const match = /^version: (\d+)\ntopic_id: ([A-Za-z0-9_-]{22})\n?$/.exec(data.toString('utf8'))
  if (!match || match[1] !== '0') {
    throw new CorruptPartitionMetadataError(`Malformed partition metadata file ${path}`)
  }
  return {version: 0, topicId: match[2]!}
}

export async function readPartitionMetadata(fs: FileSystem, path: string): Promise<string | undefined> {
  try {
    return parsePartitionMetadata(await fs.readFile(path), path).topicId
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

export async function writePartitionMetadata(fs: FileSystem, path: string, topicId: string): Promise<void> {
  await writeFileAtomic(fs, path, formatPartitionMetadata(topicId), {syncDir: false})
}
