import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {scramCredentialFromSalted} from '../../../src/lib/sasl/scram.js'
import {METADATA_FILE} from '../../../src/server/controller/local-metadata-store.js'
import {useBroker} from './helpers.js'

const SHA256 = 1
const SHA512 = 2

/** An upsertion as a client computes it (KIP-554): the password salted with PBKDF2. */
function upsertion(name: string, mechanism: number, password: string, iterations = 4096) {
  const salt = randomBytes(32)
  const [digest, length] = mechanism === SHA512 ? ['sha512', 64] : ['sha256', 32]
  return {name, mechanism, iterations, salt, saltedPassword: pbkdf2Sync(password, salt, iterations, length as number, digest as string)}
}

describe('AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554)', () => {
  const fixture = useBroker()

  const alter = (body: {upsertions?: ReturnType<typeof upsertion>[]; deletions?: Array<{name: string; mechanism: number}>}) =>
    fixture.client.send(ApiKey.AlterUserScramCredentials, 0, {upsertions: body.upsertions ?? [], deletions: body.deletions ?? []})
  const describeUsers = (users: string[] | null) => fixture.client.send(ApiKey.DescribeUserScramCredentials, 0, {users: users === null ? null : users.map((name) => ({name}))})
  const byUser = <T extends {user: string}>(results: T[]) => Object.fromEntries(results.map((r) => [r.user, r]))

  it('stores credentials per user and mechanism and describes their iterations', async () => {
    const alice = upsertion('alice', SHA256, 'alice-pw', 8192)
    const res = await alter({upsertions: [alice, upsertion('bob', SHA512, 'bob-pw')]})
    expect(res.results.map((r) => [r.user, r.errorCode, r.errorMessage]).sort()).toEqual([
      ['alice', ErrorCode.NONE, null],
      ['bob', ErrorCode.NONE, null],
    ])
    expect((await alter({upsertions: [upsertion('alice', SHA512, 'alice-pw-512')]})).results[0]!.errorCode).toBe(ErrorCode.NONE)
    const all = byUser((await describeUsers(null)).results)
    expect(all.alice).toMatchObject({errorCode: ErrorCode.NONE, credentialInfos: [{mechanism: SHA256, iterations: 8192}, {mechanism: SHA512, iterations: 4096}]})
    expect(all.bob).toMatchObject({errorCode: ErrorCode.NONE, credentialInfos: [{mechanism: SHA512, iterations: 4096}]})
    expect(Object.keys(byUser((await describeUsers([])).results)).sort()).toEqual(['alice', 'bob'])
    // The broker keeps StoredKey and ServerKey, never the salted password.
    const stored = readFileSync(join(fixture.broker.dataDir, METADATA_FILE), 'utf8')
    expect(stored).not.toContain(alice.saltedPassword.toString('base64'))
    expect(stored).toContain(scramCredentialFromSalted('SCRAM-SHA-256', alice.saltedPassword, alice.salt, 8192).storedKey.toString('base64'))
  })

  it("answers unknown and repeated users in a describe as Kafka's ScramImage", async () => {
    const res = byUser((await describeUsers(['alice', 'nobody', 'bob', 'bob'])).results)
    expect(res.alice!.errorCode).toBe(ErrorCode.NONE)
    expect(res.nobody).toMatchObject({errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist: nobody', credentialInfos: []})
    expect(res.bob).toMatchObject({errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request: bob'})
  })

  it("validates each user's change with Kafka's error codes and applies only the valid ones", async () => {
    const res = byUser(
      (
        await alter({
          upsertions: [
            upsertion('few', SHA256, 'pw', 4095),
            upsertion('many', SHA256, 'pw', 16385),
            upsertion('unknown-mechanism', 0, 'pw'),
            upsertion('', SHA256, 'pw'),
            upsertion('twice', SHA256, 'pw'),
            upsertion('twice', SHA512, 'pw'),
            upsertion('carol', SHA256, 'carol-pw'),
          ],
          deletions: [{name: 'ghost', mechanism: SHA256}, {name: 'bob', mechanism: SHA256}],
        })
      ).results,
    )
    expect(res.few).toMatchObject({errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations'})
    expect(res.many).toMatchObject({errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations'})
    expect(res['unknown-mechanism']).toMatchObject({errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism'})
    expect(res['']).toMatchObject({errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty'})
    // Kafka 4.0 (ScramControlManager) allows one change per user per request, whatever the mechanism.
    expect(res.twice).toMatchObject({errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request'})
    expect(res.ghost).toMatchObject({errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist'})
    // bob has SCRAM-SHA-512 only.
    expect(res.bob!.errorCode).toBe(ErrorCode.RESOURCE_NOT_FOUND)
    expect(res.carol!.errorCode).toBe(ErrorCode.NONE)
    expect(Object.keys(byUser((await describeUsers(null)).results)).sort()).toEqual(['alice', 'bob', 'carol'])
  })

  it('deletes one mechanism of a user, and the user with its last one', async () => {
    expect((await alter({deletions: [{name: 'alice', mechanism: SHA256}]})).results).toEqual([{user: 'alice', errorCode: ErrorCode.NONE, errorMessage: null}])
    expect(byUser((await describeUsers(['alice'])).results).alice!.credentialInfos).toEqual([{mechanism: SHA512, iterations: 4096}])
    expect((await alter({deletions: [{name: 'carol', mechanism: SHA256}]})).results[0]!.errorCode).toBe(ErrorCode.NONE)
    expect(byUser((await describeUsers(['carol'])).results).carol!.errorCode).toBe(ErrorCode.RESOURCE_NOT_FOUND)
  })

  it('keeps the credentials across a restart', async () => {
    await fixture.restart()
    const all = byUser((await describeUsers(null)).results)
    expect(Object.keys(all).sort()).toEqual(['alice', 'bob'])
    expect(all.bob!.credentialInfos).toEqual([{mechanism: SHA512, iterations: 4096}])
    expect(fixture.broker.broker.status!.listeners[0]!.securityProtocol).toBe('PLAINTEXT')
  })
})
