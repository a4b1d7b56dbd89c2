import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ADMIN_HANDLERS} from '../../../src/server/handlers/admin.js'
import {REFERENCE_DIR} from '../../lib/protocol/reference.js'
import {useBroker} from './helpers.js'

const REFERENCE = join(REFERENCE_DIR, 'defaults/api-versions-4.0.0.txt')

/** Kafka 4.0's advertised ranges from `kafka-broker-api-versions` output: api key -> [min, max]. */
function kafkaRanges(): Map<number, [number, number]> {
  const ranges = new Map<number, [number, number]>()
  for (const m of readFileSync(REFERENCE, 'utf8').matchAll(/\((\d+)\): (\d+)(?: to (\d+))? \[usable/g)) {
    ranges.set(Number(m[1]), [Number(m[2]), Number(m[3] ?? m[2])])
  }
  return ranges
}

const ctx = useBroker()

describe('ADMIN_HANDLERS', () => {
  it.skipIf(!existsSync(REFERENCE))('are advertised by ApiVersions with exactly Kafka 4.0\'s version ranges', async () => {
    const res = await ctx.client.send(ApiKey.ApiVersions, 3, {clientSoftwareName: 'kcli-test', clientSoftwareVersion: '0'})
    const advertised = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]))
    const reference = kafkaRanges()
    expect(ADMIN_HANDLERS.map((h) => h.apiKey).sort((a, b) => a - b)).toEqual([ApiKey.DeleteTopics, ApiKey.AlterConfigs, ApiKey.CreatePartitions, ApiKey.ElectLeaders, ApiKey.IncrementalAlterConfigs, ApiKey.AlterPartitionReassignments, ApiKey.ListPartitionReassignments, ApiKey.DescribeCluster, ApiKey.DescribeTopicPartitions])
    for (const key of [...ADMIN_HANDLERS.map((h) => h.apiKey), ApiKey.CreateTopics, ApiKey.DescribeConfigs, ApiKey.Metadata]) {
      expect([key, advertised.get(key)]).toEqual([key, reference.get(key)])
    }
  })
})
