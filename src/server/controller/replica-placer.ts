/**
 * Replica placement for partitions the controller places itself (CreateTopics and
 * CreatePartitions without explicit assignments): a port of Kafka 4.0's StripedReplicaPlacer
 * (metadata/.../placement/StripedReplicaPlacer.java), with its goals, order and messages.
 *
 * Goals, most important first: spread each partition's replicas over racks (a no-op when no broker
 * has broker.rack); spread replicas and leaders evenly over brokers; prefer unfenced brokers. Hard
 * constraints: never a broker twice in one partition (so the replication factor is at most the
 * number of registered brokers), and the leader (first replica) is an unfenced broker.
 *
 * The algorithm: racks sorted by name (no rack first), each with its brokers sorted by id, fenced
 * and unfenced apart. A partition takes its leader from the rack at the current rack offset (the
 * next rack with an unfenced broker), then one replica from each following rack, round-robin,
 * each rack handing out its brokers round-robin from its own offset. Every partition advances the
 * rack offset and the iteration epoch (a new epoch advances each rack's broker offset), which gives
 * the "striped" pattern: with racks A, B, C of brokers A0.., B0.., C0.. and offsets 0,
 * `A0,B0,C0`, `B1,C1,A1`, `C2,A2,B2`. The starting offsets are random, and after as many
 * partitions as there are unfenced brokers the racks and brokers are shuffled, as Kafka does; the
 * random source is injectable so tests are deterministic.
 */

/** A broker the placer may use (Kafka's UsableBroker). */
export interface UsableBroker {
  id: number
  rack: string | null
  fenced: boolean
}

/** An integer in [0, bound), like java.util.Random.nextInt(bound). */
export type RandomSource = (bound: number) => number

export const defaultRandom: RandomSource = (bound) => Math.floor(Math.random() * bound)

/** Kafka's InvalidReplicationFactorException: the message is the placer's. */
export class InvalidReplicationFactorError extends Error {}

/** Collections.shuffle(list, random): Fisher-Yates from the end. */
function shuffle<T>(list: T[], random: RandomSource): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = random(i + 1)
    const tmp = list[i]!
    list[i] = list[j]!
    list[j] = tmp
  }
}

/** Brokers handed out round-robin from an offset, each at most once per iteration epoch. */
class BrokerList {
  readonly brokers: number[] = []
  /** How many brokers were returned in the current epoch. */
  private index = 0
  /** Added to the index (modulo the size) to pick the broker. */
  private offset = 0
  private epoch = 0

  initialize(random: RandomSource): void {
    if (this.brokers.length === 0) return
    this.brokers.sort((a, b) => a - b)
    this.offset = random(this.brokers.length)
  }

  shuffle(random: RandomSource): void {
    shuffle(this.brokers, random)
  }

  /** The next broker of this epoch, or -1 when every broker was returned in it. */
  next(epoch: number): number {
    const size = this.brokers.length
    if (size === 0) return -1
    if (this.epoch !== epoch) {
      this.epoch = epoch
      this.index = 0
      this.offset = (this.offset + 1) % size
    }
    if (this.index >= size) return -1
    const broker = this.brokers[(this.index + this.offset) % size]!
    this.index++
    return broker
  }
}

class Rack {
  readonly fenced = new BrokerList()
  readonly unfenced = new BrokerList()

  initialize(random: RandomSource): void {
    this.fenced.initialize(random)
    this.unfenced.initialize(random)
  }

  shuffle(random: RandomSource): void {
    this.fenced.shuffle(random)
    this.unfenced.shuffle(random)
  }

  nextUnfenced(epoch: number): number {
    return this.unfenced.next(epoch)
  }

  /** Unfenced brokers first; fenced ones only when those are used up in this epoch. */
  next(epoch: number): number {
    const broker = this.unfenced.next(epoch)
    return broker >= 0 ? broker : this.fenced.next(epoch)
  }
}

/** Kafka's OptionalStringComparator: no rack first, then by name. */
function compareRacks(a: string | null, b: string | null): number {
  if (a === null) return b === null ? 0 : -1
  if (b === null) return 1
  return a < b ? -1 : a > b ? 1 : 0
}

class RackList {
  private readonly racks = new Map<string | null, Rack>()
  private readonly rackNames: Array<string | null> = []
  readonly numTotalBrokers: number
  readonly numUnfencedBrokers: number
  private epoch = 0
  private offset: number

  constructor(
    private readonly random: RandomSource,
    brokers: readonly UsableBroker[],
  ) {
    let total = 0
    let unfenced = 0
    for (const broker of brokers) {
      let rack = this.racks.get(broker.rack)
      if (!rack) {
        this.rackNames.push(broker.rack)
        rack = new Rack()
        this.racks.set(broker.rack, rack)
      }
      if (broker.fenced) {
        rack.fenced.brokers.push(broker.id)
      } else {
        unfenced++
        rack.unfenced.brokers.push(broker.id)
      }
      total++
    }
    this.rackNames.sort(compareRacks)
    // Kafka initializes the racks in its HashMap's order; here in rack-name order (deterministic).
    for (const name of this.rackNames) this.racks.get(name)!.initialize(random)
    this.numTotalBrokers = total
    this.numUnfencedBrokers = unfenced
    this.offset = this.rackNames.length === 0 ? 0 : random(this.rackNames.length)
  }

  place(replicationFactor: number): number[] {
    checkReplicationFactor(replicationFactor, this.numTotalBrokers, this.numUnfencedBrokers)
    // After as many partitions as there are unfenced brokers, shuffle so that the next ones do not
    // repeat the same assignments (not with a single unfenced broker: that would loop forever).
    if (this.epoch === this.numUnfencedBrokers && this.numUnfencedBrokers > 1) {
      shuffle(this.rackNames, this.random)
      for (const rack of this.racks.values()) rack.shuffle(this.random)
      this.epoch = 0
    }
    if (this.offset === this.rackNames.length) this.offset = 0
    const brokers: number[] = []
    // The leader: the first unfenced broker from the rack at the offset on.
    let firstRackIndex = this.offset
    for (;;) {
      const broker = this.racks.get(this.rackNames[firstRackIndex]!)!.nextUnfenced(this.epoch)
      if (broker >= 0) {
        brokers.push(broker)
        break
      }
      firstRackIndex++
      if (firstRackIndex === this.rackNames.length) firstRackIndex = 0
    }
    // The followers: round-robin over the racks from the offset, skipping the leader's rack once.
    let rackIndex = this.offset
    for (let replica = 1; replica < replicationFactor; replica++) {
      let broker = -1
      do {
        if (rackIndex === firstRackIndex) {
          firstRackIndex = -1
        } else {
          broker = this.racks.get(this.rackNames[rackIndex]!)!.next(this.epoch)
        }
        rackIndex++
        if (rackIndex === this.rackNames.length) rackIndex = 0
      } while (broker < 0)
      brokers.push(broker)
    }
    this.epoch++
    this.offset++
    return brokers
  }
}

/**
 * The placer's checks, in Kafka's order (StripedReplicaPlacer.place): a positive replication
 * factor, some unfenced broker, no more replicas than registered brokers.
 */
export function checkReplicationFactor(replicationFactor: number, numTotalBrokers: number, numUnfencedBrokers: number): void {
  if (replicationFactor <= 0) throw new InvalidReplicationFactorError(`Invalid replication factor ${replicationFactor}: the replication factor must be positive.`)
  if (numUnfencedBrokers === 0) throw new InvalidReplicationFactorError('All brokers are currently fenced.')
  if (replicationFactor > numTotalBrokers) {
    throw new InvalidReplicationFactorError(`The target replication factor of ${replicationFactor} cannot be reached because only ${numTotalBrokers} broker(s) are registered.`)
  }
}

/** Kafka's StripedReplicaPlacer.place: replicas (preferred leader first) for `numPartitions` partitions. Throws InvalidReplicationFactorError. */
export function placeReplicas(brokers: readonly UsableBroker[], numPartitions: number, replicationFactor: number, random: RandomSource = defaultRandom): number[][] {
  const rackList = new RackList(random, brokers)
  checkReplicationFactor(replicationFactor, rackList.numTotalBrokers, rackList.numUnfencedBrokers)
  return Array.from({length: numPartitions}, () => rackList.place(replicationFactor))
}
