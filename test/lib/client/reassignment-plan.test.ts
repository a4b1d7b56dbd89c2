import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/cli/errors.js'
import {
  balancedPlan,
  type CurrentPartition,
  drainedOrder,
  formatReassignmentJson,
  generateKafkaPlan,
  kafkaAssignment,
  parseBrokerList,
  parseReassignmentJson,
  parseThrottle,
  parseTopicsToMoveJson,
  replicasToCopy,
  throttlesFor,
} from '../../../src/lib/client/reassignment-plan.js'

function topic(name: string, assignment: number[][]): CurrentPartition[] {
  return assignment.map((replicas, partition) => ({topic: name, partition, replicas}))
}

function apply(current: CurrentPartition[], plan: ReturnType<typeof balancedPlan>): CurrentPartition[] {
  return current.map((p) => plan.find((x) => x.topic === p.topic && x.partition === p.partition) ?? p)
}

function counts(parts: CurrentPartition[], brokers: number[], leaders = false): number[] {
  return brokers.map((b) => parts.filter((p) => (leaders ? p.replicas[0] === b : p.replicas.includes(b))).length)
}

describe('reassignment JSON', () => {
  it("reads and writes Kafka's format (compact, sorted, log_dirs any)", () => {
    const text = '{"version":1,"partitions":[{"topic":"big","partition":1,"replicas":[2,1]},{"topic":"big","partition":0,"replicas":[1,3],"log_dirs":["any","any"]}]}'
    const plan = parseReassignmentJson(text, 'plan.json', {forExecute: true})
    expect(formatReassignmentJson(plan)).toBe('{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1,3],"log_dirs":["any","any"]},{"topic":"big","partition":1,"replicas":[2,1],"log_dirs":["any","any"]}]}')
  })

  it.each([
    ['not json', 'plan.json is not valid JSON'],
    ['{"version":1,"partitions":[]}', 'Partition reassignment list cannot be empty'],
    ['{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[]}]}', 'Partition replica list cannot be empty'],
    ['{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1,2,1]}]}', 'Partition replica lists may not contain duplicate entries: a-0 contains multiple entries for 1'],
    ['{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1]},{"topic":"a","partition":0,"replicas":[2]}]}', 'Partition reassignment contains duplicate topic partitions: a-0'],
    ['{"version":1,"partitions":[{"topic":"a","partition":-1,"replicas":[1]}]}', '"partition" must be a partition number'],
    ['{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":["x"]}]}', '"replicas" must be an array of broker ids'],
    ['{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1],"log_dirs":["/data"]}]}', 'not supported by kcli'],
  ])('refuses %s', (text, message) => {
    expect(() => parseReassignmentJson(text, 'plan.json', {forExecute: true})).toThrow(UsageError)
    expect(() => parseReassignmentJson(text, 'plan.json', {forExecute: true})).toThrow(message)
  })

  it('reads topics-to-move files and broker lists, refusing duplicates as Kafka does', () => {
    expect(parseTopicsToMoveJson('{"version":1,"topics":[{"topic":"big"},{"topic":"orders"}]}', 'f')).toEqual(['big', 'orders'])
    expect(() => parseTopicsToMoveJson('{"topics":[{"topic":"a"},{"topic":"a"}]}', 'f')).toThrow('List of topics to reassign contains duplicate entries: [a]')
    expect(parseBrokerList('1,2,3', '--broker-list')).toEqual([1, 2, 3])
    expect(() => parseBrokerList('1,2,1', '--broker-list')).toThrow('Broker list contains duplicate entries: [1]')
    expect(() => parseBrokerList('1,x', '--broker-list')).toThrow(UsageError)
  })

  it('parses throttles with units', () => {
    expect(parseThrottle('1000000')).toBe(1_000_000)
    expect(parseThrottle('1MB/s')).toBe(1_000_000)
    expect(parseThrottle('500KB')).toBe(500_000)
    expect(parseThrottle('10MiB/s')).toBe(10 * 1024 * 1024)
    expect(parseThrottle('1.5GB/s')).toBe(1_500_000_000)
    expect(() => parseThrottle('fast')).toThrow(UsageError)
    expect(() => parseThrottle('0')).toThrow(UsageError)
  })
})

describe("Kafka's --generate", () => {
  it("assigns as AdminUtils.assignReplicasToBrokers with start index 0", () => {
    expect(kafkaAssignment([1, 2, 3], 6, 3)).toEqual([[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 3, 2], [2, 1, 3], [3, 2, 1]])
    expect(kafkaAssignment([1, 2, 3], 3, 2)).toEqual([[1, 2], [2, 3], [3, 1]])
    expect(() => kafkaAssignment([1, 2], 3, 3)).toThrow('Replication factor: 3 larger than available brokers: 2.')
  })

  it('keeps each topic\'s replication factor', () => {
    const plan = generateKafkaPlan([...topic('big', [[1, 2], [2, 3], [3, 1]]), ...topic('one', [[1]])], [3, 2, 1])
    expect(plan.map((p) => p.replicas.length)).toEqual([2, 2, 2, 1])
  })
})

describe('balanced plan (--add-broker / --remove-broker)', () => {
  it('moves nothing when the replicas are already spread', () => {
    expect(balancedPlan(topic('orders', [[1, 2, 3], [2, 3, 1], [3, 1, 2]]), [1, 2, 3])).toEqual([])
  })

  it('adding a fourth broker to RF 3 x 6 partitions copies exactly the replicas broker 4 gets', () => {
    const current = topic('orders', kafkaAssignment([1, 2, 3], 6, 3))
    const plan = balancedPlan(current, [1, 2, 3, 4])
    const after = apply(current, plan)
    const replicas = counts(after, [1, 2, 3, 4])
    expect(Math.max(...replicas) - Math.min(...replicas)).toBeLessThanOrEqual(1)
    // 18 replicas over 4 brokers: broker 4 gets 4 or 5, and that is all that is copied.
    expect(replicasToCopy(current, plan)).toBe(replicas[3])
    expect(replicas[3]).toBeGreaterThanOrEqual(4)
    const leaders = counts(after, [1, 2, 3, 4], true)
    expect(Math.max(...leaders) - Math.min(...leaders)).toBeLessThanOrEqual(1)
    for (const p of after) expect(new Set(p.replicas).size).toBe(3)
  })

  it('removing a broker copies only the replicas it held', () => {
    const current = topic('orders', kafkaAssignment([1, 2, 3, 4], 8, 2))
    const onFour = current.filter((p) => p.replicas.includes(4)).length
    const plan = balancedPlan(current, [1, 2, 3])
    const after = apply(current, plan)
    expect(after.every((p) => !p.replicas.includes(4))).toBe(true)
    expect(replicasToCopy(current, plan)).toBe(onFour)
    const replicas = counts(after, [1, 2, 3])
    expect(Math.max(...replicas) - Math.min(...replicas)).toBeLessThanOrEqual(1)
  })

  it('balances across topics too: many single-replica topics all on broker 1', () => {
    const current = Array.from({length: 6}, (_, i) => topic(`t${i}`, [[1]])).flat()
    const plan = balancedPlan(current, [1, 2, 3])
    expect(counts(apply(current, plan), [1, 2, 3])).toEqual([2, 2, 2])
    expect(replicasToCopy(current, plan)).toBe(4)
  })

  it('refuses a replication factor above the brokers left', () => {
    expect(() => balancedPlan(topic('orders', [[1, 2, 3]]), [1, 2])).toThrow('Replication factor: 3 larger than available brokers: 2.')
  })
})

describe('throttles', () => {
  it("lists the current replicas as leader throttles and the new ones as follower throttles (Kafka's run 28)", () => {
    const current = topic('big', [[1, 2], [2, 3], [3, 1]])
    const plan = topic('big', [[1, 3], [2, 1], [3, 2]])
    const t = throttlesFor(plan, current, [])
    expect(t.topics.get('big')).toEqual({leader: '0:1,0:2,1:2,1:3,2:1,2:3', follower: '0:3,1:1,2:2'})
    expect(t.brokers).toEqual([1, 2, 3])
  })
})

describe('drain order', () => {
  it('puts the first other in-sync replica first and the broker last', () => {
    expect(drainedOrder([3, 1, 2], [3, 1, 2], 3)).toEqual([1, 2, 3])
    expect(drainedOrder([3, 1, 2], [3, 2], 3)).toEqual([2, 1, 3])
    expect(drainedOrder([3, 1], [3], 3)).toBeUndefined()
    expect(drainedOrder([1, 2], [1, 2], 3)).toBeUndefined()
  })
})
