import {describe, expect, it} from 'vitest'
import {isCompacted, isDeleteEnabled, logConfigFromTopicConfigs} from '../../../src/server/log/log-config.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import {ManualClock, makeBatch, testConfig} from './helpers.js'

describe('cleanup.policy in the log config', () => {
  it('reads the list as Kafka 4.0: any order, duplicates, and the empty list (neither policy)', () => {
    const policy = (value: string) => logConfigFromTopicConfigs({'cleanup.policy': value}).cleanupPolicy
    expect(policy('delete')).toBe('delete')
    expect(policy(' delete , compact')).toBe('compact,delete')
    expect(policy('compact,compact')).toBe('compact')
    expect(policy('')).toBe('')
    expect(() => logConfigFromTopicConfigs({'cleanup.policy': 'sometimes'})).toThrow(RangeError)
    const flags = (value: string) => {
      const config = logConfigFromTopicConfigs({'cleanup.policy': value})
      return {compact: isCompacted(config), delete: isDeleteEnabled(config)}
    }
    expect(flags('delete')).toEqual({compact: false, delete: true})
    expect(flags('compact')).toEqual({compact: true, delete: false})
    expect(flags('compact,delete')).toEqual({compact: true, delete: true})
    expect(flags('')).toEqual({compact: false, delete: false})
  })

  // Issue 12: Kafka 4.0 keeps every segment of a log whose cleanup.policy is empty (UnifiedLog
  // deletes by retention only with delete); only the log start offset still removes segments.
  it('an empty cleanup.policy keeps segments past retention.ms and retention.bytes', async () => {
    const clock = new ManualClock()
    const log = await PartitionLog.open({fs: new MemoryFileSystem(), dir: '/data/t-0', config: testConfig({cleanupPolicy: '', segmentBytes: 1000, retentionMs: 1000, retentionBytes: 500, fileDeleteDelayMs: 0}), clock})
    for (let i = 0; i < 6; i++) await log.append(await makeBatch(1, {valueSize: 400, timestamp: clock.now()}))
    clock.advance(10_000)
    const segments = log.segmentBaseOffsets()
    expect(segments.length).toBeGreaterThan(1)
    expect(await log.deleteOldSegments()).toBe(0)
    expect(log.segmentBaseOffsets()).toEqual(segments)
    log.updateConfig(testConfig({cleanupPolicy: 'delete', segmentBytes: 1000, retentionMs: 1000, fileDeleteDelayMs: 0}))
    expect(await log.deleteOldSegments()).toBe(segments.length)
    await log.close()
  })
})
