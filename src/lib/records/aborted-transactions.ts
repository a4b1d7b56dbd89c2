/**
 * The entries of a `.txnindex` file (Kafka's TransactionIndex): one 34-byte AbortedTxn per aborted
 * transaction whose ABORT marker is in the segment, big-endian:
 *   int16 version = 0, int64 producerId, int64 firstOffset, int64 lastOffset (the marker),
 *   int64 lastStableOffset (the LSO when the marker was written).
 * Written and read by the broker (src/server/log/transaction-index.ts), decoded offline by
 * `kcli log dump`.
 */

import {readInt64, writeInt64} from './big-endian.js'

export const ABORTED_TXN_ENTRY_SIZE = 34
const ABORTED_TXN_VERSION = 0

export interface AbortedTxn {
  producerId: number
  firstOffset: number
  lastOffset: number
  lastStableOffset: number
}

export function encodeAbortedTxn(txn: AbortedTxn): Buffer {
  const buf = Buffer.alloc(ABORTED_TXN_ENTRY_SIZE)
  buf.writeInt16BE(ABORTED_TXN_VERSION, 0)
  writeInt64(buf, 2, txn.producerId)
  writeInt64(buf, 10, txn.firstOffset)
  writeInt64(buf, 18, txn.lastOffset)
  writeInt64(buf, 26, txn.lastStableOffset)
  return buf
}

/** Decodes whole entries; a trailing partial entry (torn write) is ignored. Throws on an unknown version. */
export function decodeAbortedTxns(buf: Buffer, path = ''): AbortedTxn[] {
  const entries: AbortedTxn[] = []
  for (let at = 0; at + ABORTED_TXN_ENTRY_SIZE <= buf.length; at += ABORTED_TXN_ENTRY_SIZE) {
    const version = buf.readInt16BE(at)
    if (version !== ABORTED_TXN_VERSION) throw new Error(`Unexpected aborted transaction version ${version} in ${path} at ${at}`)
    entries.push({
      producerId: readInt64(buf, at + 2),
      firstOffset: readInt64(buf, at + 10),
      lastOffset: readInt64(buf, at + 18),
      lastStableOffset: readInt64(buf, at + 26),
    })
  }
  return entries
}
