// InitProducerId: v0-5
//
// Behaviour: without a transactional id, a new producer id (unique across restarts: ids come in
// blocks reserved in the metadata store) with epoch 0 — also when the client passes its current
// id and epoch (v3+, KIP-360), as Kafka does for idempotent producers.
// Not implemented yet: transactional ids (the transactions issue). Until the transaction
// coordinator exists they get INVALID_REQUEST, which is not retriable, so a transactional producer
// fails at once instead of retrying forever.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'

export const initProducerId = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (request.transactionalId !== null) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1}
    }
    const producerId = await ctx.broker.producerIds.generate()
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(producerId), producerEpoch: 0}
  },
})
