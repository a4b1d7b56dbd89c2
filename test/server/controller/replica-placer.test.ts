/**
 * The replica placer against Kafka's own StripedReplicaPlacerTest: with Kafka's MockRandom (a fixed
 * LCG behind java.util.Random.nextInt) it must give exactly the assignments Kafka's tests expect,
 * which pins the port (offsets, epochs, shuffles, fenced brokers, rack order). Then the properties
 * the issue asks for over many seeds: no broker twice in a partition, leaders and replicas spread
 * evenly without racks, one replica per rack with three racks and RF 3, and Kafka's messages.
 */
import {describe, expect, it} from 'vitest'
import {InvalidReplicationFactorError, placeReplicas, type RandomSource, type UsableBroker} from '../../../src/server/controller/replica-placer.js'

const MASK_64 = (1n << 64n) - 1n

/** Kafka's MockRandom (server-common test util) seen through java.util.Random.nextInt(bound). */
function mockRandom(seed = 17n): RandomSource {
  let state = seed
  const next = (bits: number): number => {
    state = (state * 2862933555777941757n + 3037000493n) & MASK_64
    return Number(BigInt.asIntN(32, state >> BigInt(64 - bits)))
  }
  return (bound) => {
    let r = next(31)
    const m = bound - 1
    if ((bound & m) === 0) return Number((BigInt(bound) * BigInt(r)) >> 31n)
    for (let u = r; ((u - (r = u % bound) + m) | 0) < 0; u = next(31));
    return r
  }
}

/** A small seeded generator (mulberry32) for the property tests. */
function seeded(seed: number): RandomSource {
  let a = seed >>> 0
  return (bound) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * bound)
  }
}

const broker = (id: number, rack: string | null = null, fenced = false): UsableBroker => ({id, rack, fenced})

function placementError(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidReplicationFactorError)
    return (error as Error).message
  }
  throw new Error('expected an InvalidReplicationFactorError')
}

describe("Kafka's StripedReplicaPlacerTest, with Kafka's MockRandom", () => {
  it('testAvoidFencedReplicaIfPossibleOnSingleRack', () => {
    const brokers = [broker(3), broker(1, null, true), broker(0), broker(4), broker(2)]
    expect(placeReplicas(brokers, 5, 4, mockRandom())).toEqual([
      [3, 4, 0, 2],
      [4, 0, 2, 3],
      [0, 2, 3, 4],
      [2, 3, 4, 0],
      [0, 4, 3, 2],
    ])
  })

  it('testMultiPartitionTopicPlacementOnSingleUnfencedBroker', () => {
    expect(placeReplicas([broker(0), broker(1, null, true)], 3, 1, mockRandom())).toEqual([[0], [0], [0]])
  })

  it('testPlacementOnFencedReplicaOnSingleRack', () => {
    expect(placeReplicas([broker(3), broker(1, null, true), broker(2)], 4, 3, mockRandom())).toEqual([
      [3, 2, 1],
      [2, 3, 1],
      [3, 2, 1],
      [2, 3, 1],
    ])
  })

  it('testRackListWithMultipleRacks', () => {
    const brokers = [broker(11, '1'), broker(10, '1'), broker(30, '3'), broker(31, '3'), broker(21, '2'), broker(20, '2', true)]
    expect(placeReplicas(brokers, 3, 4, mockRandom())).toEqual([
      [11, 21, 31, 10],
      [21, 30, 10, 20],
      [31, 11, 21, 30],
    ])
  })

  it('testRackListWithInvalidRacks', () => {
    const brokers = [broker(11, '1'), broker(10, '1'), broker(30, '3', true), broker(31, '3', true), broker(20, '2', true), broker(21, '2', true), broker(41, '4'), broker(40, '4', true)]
    expect(placeReplicas(brokers, 3, 4, mockRandom())).toEqual([
      [41, 11, 21, 30],
      [10, 20, 31, 41],
      [41, 21, 30, 11],
    ])
  })

  it('testSuccessfulPlacement', () => {
    expect(placeReplicas([broker(0), broker(3), broker(2), broker(1)], 5, 3, mockRandom())).toEqual([
      [2, 3, 0],
      [3, 0, 1],
      [0, 1, 2],
      [1, 2, 3],
      [1, 0, 2],
    ])
  })

  it('testEvenDistribution', () => {
    const placed = placeReplicas([broker(0), broker(1), broker(2), broker(3)], 200, 2, mockRandom())
    const counts = new Map<string, number>()
    for (const replicas of placed) counts.set(replicas.join(','), (counts.get(replicas.join(',')) ?? 0) + 1)
    expect(Object.fromEntries(counts)).toEqual({'0,1': 14, '0,2': 22, '0,3': 14, '1,0': 17, '1,2': 17, '1,3': 16, '2,0': 13, '2,1': 17, '2,3': 20, '3,0': 20, '3,1': 19, '3,2': 11})
  })

  it("fails with Kafka's messages, checked in Kafka's order", () => {
    expect(placementError(() => placeReplicas([broker(11, '1', true), broker(10, '1', true)], 1, 1, mockRandom()))).toBe('All brokers are currently fenced.')
    expect(placementError(() => placeReplicas([broker(11, '1'), broker(10, '1')], 1, 3, mockRandom()))).toBe('The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.')
    expect(placementError(() => placeReplicas([broker(11, '1'), broker(10, '1')], 1, 0, mockRandom()))).toBe('Invalid replication factor 0: the replication factor must be positive.')
    expect(placementError(() => placeReplicas([broker(1, null, true)], 1, 0, mockRandom()))).toBe('Invalid replication factor 0: the replication factor must be positive.')
    expect(placementError(() => placeReplicas([], 1, 1, mockRandom()))).toBe('All brokers are currently fenced.')
  })
})

describe('placement properties', () => {
  const count = (values: number[]) => {
    const out = new Map<number, number>()
    for (const v of values) out.set(v, (out.get(v) ?? 0) + 1)
    return out
  }

  it('never places a broker twice in a partition (racks of any size, fenced brokers, every RF)', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = seeded(seed)
      const numBrokers = 1 + random(9)
      const racks = random(4) // 0: no racks
      const brokers = Array.from({length: numBrokers}, (_, i) => broker(100 + i * 7, racks === 0 ? null : `rack-${random(racks)}`, i > 0 && random(4) === 0))
      const replicationFactor = 1 + random(numBrokers)
      const placed = placeReplicas(brokers, 1 + random(40), replicationFactor, random)
      for (const replicas of placed) {
        expect(replicas).toHaveLength(replicationFactor)
        expect(new Set(replicas).size).toBe(replicationFactor)
        const leader = brokers.find((b) => b.id === replicas[0])!
        expect(leader.fenced).toBe(false)
      }
    }
  })

  it('spreads leaders and replicas evenly over brokers without racks', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const brokers = [broker(1), broker(2), broker(3)]
      const placed = placeReplicas(brokers, 6, 3, seeded(seed))
      expect([...count(placed.map((r) => r[0]!)).values()]).toEqual([2, 2, 2])
      // 5 brokers, RF 2, 50 partitions: 10 leaders and 20 replicas each.
      const five = placeReplicas([1, 2, 3, 4, 5].map((id) => broker(id)), 50, 2, seeded(seed))
      expect([...count(five.map((r) => r[0]!)).values()]).toEqual([10, 10, 10, 10, 10])
      expect([...count(five.flat()).values()]).toEqual([20, 20, 20, 20, 20])
    }
  })

  it('with 3 racks and RF 3 puts one replica in each rack, leaders evenly over the racks', () => {
    const brokers = [broker(1, 'a'), broker(2, 'a'), broker(3, 'a'), broker(4, 'b'), broker(5, 'b'), broker(6, 'b'), broker(7, 'c'), broker(8, 'c'), broker(9, 'c')]
    const rackOf = new Map(brokers.map((b) => [b.id, b.rack]))
    for (let seed = 1; seed <= 20; seed++) {
      const placed = placeReplicas(brokers, 90, 3, seeded(seed))
      for (const replicas of placed) expect(new Set(replicas.map((id) => rackOf.get(id))).size).toBe(3)
      const leaderRacks = count(placed.map((r) => r[0]!).map((id) => (rackOf.get(id) === 'a' ? 0 : rackOf.get(id) === 'b' ? 1 : 2)))
      expect([...leaderRacks.values()]).toEqual([30, 30, 30])
      expect([...count(placed.flat()).values()]).toEqual(Array(9).fill(30))
    }
  })

  it('with racks of unequal size still spreads over racks first (RF 2 over racks a: 1 broker, b: 3)', () => {
    const brokers = [broker(1, 'a'), broker(2, 'b'), broker(3, 'b'), broker(4, 'b')]
    const placed = placeReplicas(brokers, 12, 2, seeded(7))
    for (const replicas of placed) expect(replicas).toContain(1)
  })
})
