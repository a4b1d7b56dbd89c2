/**
 * The transaction handlers, for the broker's handler list. They need a TransactionCoordinator in
 * BrokerServices.transactions; without one they answer COORDINATOR_NOT_AVAILABLE.
 * (InitProducerId, Produce, Fetch, ListOffsets and FindCoordinator are in HANDLERS/GROUP_HANDLERS
 * and handle transactions when the coordinator is there.)
 */
import {addOffsetsToTxn} from './add-offsets-to-txn.js'
import {addPartitionsToTxn} from './add-partitions-to-txn.js'
import {describeTransactions} from './describe-transactions.js'
import {endTxn} from './end-txn.js'
import type {ApiHandler} from './handler.js'
import {listTransactions} from './list-transactions.js'
import {txnOffsetCommit} from './txn-offset-commit.js'
import {writeTxnMarkers} from './write-txn-markers.js'

export const TXN_HANDLERS: readonly ApiHandler[] = [
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  txnOffsetCommit,
  writeTxnMarkers,
  describeTransactions,
  listTransactions,
] as ApiHandler[]
