// SASL/SCRAM users (KIP-554), as Kafka's `kafka-configs --entity-type users` manages them:
// DescribeUserScramCredentials lists users with their mechanisms and iteration counts (never a
// secret), AlterUserScramCredentials sets a password (the client salts and hashes it: only the
// salt, the iteration count and the salted password cross the wire) or deletes a mechanism's
// credential. Any broker answers (Kafka forwards to its controller).

import {randomBytes} from 'node:crypto'

import {ApiKey} from '../protocol/generated/api-keys.js'
import {MAX_ITERATIONS, MIN_ITERATIONS, SCRAM_MECHANISM_NUMBERS, SCRAM_MECHANISM_TYPES, saltedPassword, type ScramMechanism} from '../sasl/scram.js'
import type {ItemResult} from './admin.js'
import type {KafkaClient} from './client.js'
import {errorName, KafkaError} from './errors.js'

export function mechanismName(n: number): string {
  return SCRAM_MECHANISM_TYPES[n] ?? `UNKNOWN(${n})`
}

export interface ScramUser extends ItemResult {
  user: string
  credentials: {mechanism: string; iterations: number}[]
}

export interface UserChange extends ItemResult {
  user: string
}

export class UsersAdmin {
  constructor(private readonly client: KafkaClient) {}

  /** The users with SCRAM credentials (all of them, or these; an unknown one has RESOURCE_NOT_FOUND). */
  async describe(users?: readonly string[]): Promise<ScramUser[]> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.DescribeUserScramCredentials, {users: users === undefined ? null : users.map((name) => ({name}))})
    if (r.errorCode !== 0 && r.results.length === 0) throw KafkaError.fromCode(r.errorCode, `DescribeUserScramCredentials${r.errorMessage ? `: ${r.errorMessage}` : ''}`)
    return r.results.map((u) => ({
      credentials: u.credentialInfos.map((c) => ({iterations: c.iterations, mechanism: mechanismName(c.mechanism)})),
      error: errorName(u.errorCode),
      errorCode: u.errorCode,
      errorMessage: u.errorMessage,
      user: u.user,
    }))
  }

  /** Sets `password` for `user` under `mechanism` (a new random salt every time). */
  async setPassword(user: string, mechanism: ScramMechanism, password: string, iterations = MIN_ITERATIONS): Promise<UserChange> {
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) throw new RangeError(`iterations must be ${MIN_ITERATIONS}-${MAX_ITERATIONS}`)
    const salt = randomBytes(32)
    return this.alter({deletions: [], upsertions: [{iterations, mechanism: SCRAM_MECHANISM_NUMBERS[mechanism], name: user, salt, saltedPassword: saltedPassword(mechanism, password, salt, iterations)}]}, user)
  }

  /** Deletes `user`'s credential for `mechanism`. */
  async delete(user: string, mechanism: ScramMechanism): Promise<UserChange> {
    return this.alter({deletions: [{mechanism: SCRAM_MECHANISM_NUMBERS[mechanism], name: user}], upsertions: []}, user)
  }

  private async alter(body: {deletions: {name: string; mechanism: number}[]; upsertions: {name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer}[]}, user: string): Promise<UserChange> {
    const connection = await this.client.anyConnection()
    const r = await connection.send(ApiKey.AlterUserScramCredentials, body)
    const result = r.results.find((x) => x.user === user)
    if (!result) throw new KafkaError(-1, 'UNKNOWN_SERVER_ERROR', `AlterUserScramCredentials: no result for ${user}`)
    return {error: errorName(result.errorCode), errorCode: result.errorCode, errorMessage: result.errorMessage, user}
  }
}
