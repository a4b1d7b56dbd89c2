// murmur2 as the Java client's org.apache.kafka.common.utils.Utils.murmur2 computes it (seed
// 0x9747b28c, 4-byte little-endian chunks, signed 32-bit result), and the default partition of a
// keyed record: toPositive(murmur2(key)) % numPartitions, where toPositive is `& 0x7fffffff`.

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** Java's Utils.murmur2: a signed 32-bit hash of `data`. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  const tail = length4 << 2
  const rest = length & 3
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8
  if (rest >= 1) {
    h ^= data[tail]! & 0xff
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Java's Utils.toPositive. */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition the Java client's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions
}
