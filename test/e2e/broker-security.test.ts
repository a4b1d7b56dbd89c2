/**
 * The broker's listeners with TLS and SASL, against real clients: kcat (librdkafka 2.0),
 * confluent-kafka-python (librdkafka) and kafkajs 2.2.4. SASL_PLAINTEXT with PLAIN (users in the
 * JAAS config) and SCRAM-SHA-256/512 (users created with AlterUserScramCredentials over a
 * PLAINTEXT listener of the same broker, kept across a restart of a `kcli server start` process);
 * SSL with a PKCS12 keystore, SASL_SSL with an inline PEM keystore (KIP-651) and SCRAM, and SSL with
 * client certificates required; certificates made by the openssl CLI for the test. A client that
 * skips authentication is disconnected and the broker carries on; bad security configs stop
 * `kcli server start` with exit 2 naming the key.
 */
import {spawnSync} from 'node:child_process'
import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel, type SASLOptions} from 'kafkajs'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {PLAIN_LOGIN_MODULE} from '../../src/lib/sasl/jaas.js'
import {makeCertificates, opensslMissing, type TestCertificates} from './certs.js'
import {type BrokerProcess, KCLI_NODE_ARGS, PROJECT_ROOT, removeDir, spawnBroker, startBroker, tempDir, type TestBroker} from './harness.js'
import {ConnectionClosedError, confluentPythonMissing, KCAT, kcat, kcatMissing, python, RawClient, run, stopAllPeers} from './peers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const T = 30_000
const SHA256 = 1
const SHA512 = 2
const PLAIN_JAAS = `${PLAIN_LOGIN_MODULE} required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`

function portOf(broker: TestBroker, listener: string): number {
  const l = broker.broker.status!.listeners.find((x) => x.name === listener)
  if (!l) throw new Error(`no listener ${listener}`)
  return l.port
}

/** AlterUserScramCredentials over a PLAINTEXT listener: the password salted here, as a client does (KIP-554). */
async function alterScram(port: number, upsertions: Array<{name: string; mechanism: number; password: string}>, deletions: Array<{name: string; mechanism: number}> = []) {
  const client = await RawClient.connect(port)
  try {
    const res = await client.request(ApiKey.AlterUserScramCredentials, 0, {
      deletions,
      upsertions: upsertions.map(({name, mechanism, password}) => {
        const salt = randomBytes(32)
        const iterations = 4096
        const saltedPassword = mechanism === SHA512 ? pbkdf2Sync(password, salt, iterations, 64, 'sha512') : pbkdf2Sync(password, salt, iterations, 32, 'sha256')
        return {name, mechanism, iterations, salt, saltedPassword}
      }),
    })
    return res.results
  } finally {
    client.close()
  }
}

async function describeScram(port: number, users: string[] | null) {
  const client = await RawClient.connect(port)
  try {
    return (await client.request(ApiKey.DescribeUserScramCredentials, 0, {users: users?.map((name) => ({name})) ?? null})).results
  } finally {
    client.close()
  }
}

async function createTopic(port: number, name: string): Promise<void> {
  const client = await RawClient.connect(port)
  try {
    const res = await client.request(ApiKey.CreateTopics, 7, {topics: [{name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 5000, validateOnly: false})
    expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE)
  } finally {
    client.close()
  }
}

const sasl = (protocol: string, mechanism: string, username: string, password: string) => ['-X', `security.protocol=${protocol}`, '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${username}`, '-X', `sasl.password=${password}`]

/** kcat -P of `values` to partition 0, then kcat -C of the whole partition; the values read. */
async function kcatRoundTrip(bootstrap: string, topic: string, values: string[], security: string[]): Promise<string[]> {
  await kcat(['-b', bootstrap, ...security, '-P', '-t', topic, '-p', '0'], {input: `${values.join('\n')}\n`, timeoutMs: T})
  const out = await kcat(['-b', bootstrap, ...security, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%s\n'], {timeoutMs: T})
  return out.stdout.toString('utf8').split('\n').filter(Boolean)
}

/** kcat -L that is expected to fail (bounded by -m): its exit code and stderr. */
async function kcatFails(bootstrap: string, security: string[]): Promise<{code: number | null; stderr: string}> {
  const r = await run(KCAT, ['-b', bootstrap, ...security, '-L', '-m', '3', '-X', 'reconnect.backoff.max.ms=500'], {timeoutMs: T})
  expect(r.timedOut).toBe(false)
  return {code: r.code, stderr: r.stderr}
}

/** kafkajs producer then group consumer (bounded wait) on one topic: the values read. */
async function kafkajsRoundTrip(kafka: Kafka, topic: string, values: string[]): Promise<string[]> {
  const producer = kafka.producer()
  await producer.connect()
  try {
    await producer.send({topic, messages: values.map((value) => ({partition: 0, value}))})
  } finally {
    await producer.disconnect()
  }
  const consumer = kafka.consumer({groupId: `kcli-e2e-secure-${topic}`})
  const read: string[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({topic, fromBeginning: true})
    let done!: () => void
    const all = new Promise<void>((resolve) => (done = resolve))
    await consumer.run({
      eachMessage: async ({message}) => {
        read.push(message.value!.toString())
        if (read.length >= values.length) done()
      },
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, T)))])
    clearTimeout(timer)
  } finally {
    await consumer.disconnect()
  }
  return read
}

function kafkajs(bootstrap: string, options: {sasl?: SASLOptions; ssl?: {ca: Buffer[]}}): Kafka {
  return new Kafka({brokers: [bootstrap], clientId: 'kcli-e2e-secure', logLevel: logLevel.NOTHING, retry: {retries: 2}, connectionTimeout: 10_000, ...options})
}

interface PythonResult {
  remaining: number
  delivered: Array<string | null>
  values: string[]
  errors: string[]
}

afterEach(() => stopAllPeers())

describe.skipIf(kcatMissing)('SASL_PLAINTEXT: PLAIN and SCRAM-SHA-256/512', () => {
  let b: TestBroker
  let saslBootstrap: string

  beforeAll(async () => {
    b = await startBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
    })
    saslBootstrap = `127.0.0.1:${portOf(b, 'SASL_PLAINTEXT')}`
    for (const t of ['plain-kcat', 'plain-kafkajs', 'scram-256-kcat', 'scram-512-kcat', 'scram-python', 'scram-kafkajs', 'after-bad-client']) await createTopic(b.port, t)
    const results = await alterScram(b.port, [
      {name: 'scram256', mechanism: SHA256, password: 'pw-256'},
      {name: 'scram512', mechanism: SHA512, password: 'pw-512'},
      {name: 'doomed', mechanism: SHA256, password: 'pw-doomed'},
    ])
    expect(results.map((r) => r.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE])
  })

  afterAll(async () => {
    await b?.stop()
  })

  it('kcat produces and consumes with PLAIN and the right password', async () => {
    const values = ['one', 'two', 'three']
    expect(await kcatRoundTrip(saslBootstrap, 'plain-kcat', values, sasl('SASL_PLAINTEXT', 'PLAIN', 'alice', 'alice-secret'))).toEqual(values)
  })

  it('kcat with a wrong PLAIN password fails with an authentication error', async () => {
    const r = await kcatFails(saslBootstrap, sasl('SASL_PLAINTEXT', 'PLAIN', 'alice', 'not-alice-secret'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('Authentication failed: Invalid username or password')
    const unknown = await kcatFails(saslBootstrap, sasl('SASL_PLAINTEXT', 'PLAIN', 'mallory', 'alice-secret'))
    expect(unknown.stderr).toContain('Authentication failed: Invalid username or password')
  })

  it('kafkajs (sasl plain) produces and consumes', async () => {
    const values = Array.from({length: 20}, (_, i) => `kafkajs-plain-${i}`)
    expect(await kafkajsRoundTrip(kafkajs(saslBootstrap, {sasl: {mechanism: 'plain', username: 'alice', password: 'alice-secret'}}), 'plain-kafkajs', values)).toEqual(values)
    const wrong = kafkajs(saslBootstrap, {sasl: {mechanism: 'plain', username: 'alice', password: 'wrong'}}).admin()
    await expect(wrong.connect()).rejects.toThrow(/SASL PLAIN authentication failed: Authentication failed: Invalid username or password/)
  })

  it('kcat authenticates with SCRAM-SHA-256 and SCRAM-SHA-512 users made by AlterUserScramCredentials', async () => {
    expect(await kcatRoundTrip(saslBootstrap, 'scram-256-kcat', ['a', 'b'], sasl('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'scram256', 'pw-256'))).toEqual(['a', 'b'])
    expect(await kcatRoundTrip(saslBootstrap, 'scram-512-kcat', ['c', 'd'], sasl('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'scram512', 'pw-512'))).toEqual(['c', 'd'])
    // The credential is per mechanism, and the password must match.
    const otherMechanism = await kcatFails(saslBootstrap, sasl('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'scram256', 'pw-256'))
    expect(otherMechanism.stderr).toContain('Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512')
    const wrong = await kcatFails(saslBootstrap, sasl('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'scram256', 'pw-wrong'))
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('SASL authentication error')
  })

  it.skipIf(confluentPythonMissing)('confluent-kafka-python authenticates with SCRAM-SHA-512 and produces and consumes', async () => {
    const security = {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'scram512', 'sasl.password': 'pw-512'}
    const r = await python<PythonResult>('secure_produce_consume.py', [saslBootstrap, 'scram-python', '25', JSON.stringify(security)], 60_000)
    expect(r.errors).toEqual([])
    expect(r.remaining).toBe(0)
    expect(r.delivered).toEqual(Array(25).fill(null))
    expect(r.values).toEqual(Array.from({length: 25}, (_, i) => `secure-${i}`))
  })

  it('kafkajs (sasl scram-sha-256) produces and consumes', async () => {
    const values = Array.from({length: 10}, (_, i) => `kafkajs-scram-${i}`)
    expect(await kafkajsRoundTrip(kafkajs(saslBootstrap, {sasl: {mechanism: 'scram-sha-256', username: 'scram256', password: 'pw-256'}}), 'scram-kafkajs', values)).toEqual(values)
  })

  it('DescribeUserScramCredentials lists the users; a deleted credential no longer logs in', async () => {
    const described = Object.fromEntries((await describeScram(b.port, null)).map((r) => [r.user, r.credentialInfos]))
    expect(described).toEqual({
      scram256: [{mechanism: SHA256, iterations: 4096}],
      scram512: [{mechanism: SHA512, iterations: 4096}],
      doomed: [{mechanism: SHA256, iterations: 4096}],
    })
    await kcat(['-b', saslBootstrap, ...sasl('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'doomed', 'pw-doomed'), '-L', '-m', '10'], {timeoutMs: T})
    expect((await alterScram(b.port, [], [{name: 'doomed', mechanism: SHA256}])).map((r) => [r.user, r.errorCode])).toEqual([['doomed', ErrorCode.NONE]])
    const r = await kcatFails(saslBootstrap, sasl('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'doomed', 'pw-doomed'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256')
    expect((await describeScram(b.port, ['doomed']))[0]!.errorCode).toBe(ErrorCode.RESOURCE_NOT_FOUND)
  })

  it('disconnects a client that sends Metadata before authenticating, and keeps serving the others', async () => {
    const bad = await RawClient.connect(portOf(b, 'SASL_PLAINTEXT'))
    try {
      await expect(bad.request(ApiKey.Metadata, 12, {topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})).rejects.toThrow(ConnectionClosedError)
      expect(await bad.closedWithin(5_000)).toBe(true)
    } finally {
      bad.close()
    }
    expect(await kcatRoundTrip(saslBootstrap, 'after-bad-client', ['still', 'here'], sasl('SASL_PLAINTEXT', 'PLAIN', 'admin', 'admin-secret'))).toEqual(['still', 'here'])
  })
})

// ---------------------------------------------------------------------------------------------
// A `kcli server start` process with listeners of its own (the harness's spawnBroker sets --port).

const spawned: BrokerProcess[] = []

describe.skipIf(kcatMissing)('SCRAM credentials across a restart of kcli server start', () => {
  const dir = tempDir('kcli-secure-restart-')
  afterAll(() => {
    for (const broker of spawned) void broker.kill('SIGKILL')
    spawned.length = 0
    removeDir(dir)
  })

  it('keeps the users: kcat logs in after the restart and DescribeUserScramCredentials still lists them', async () => {
    const overrides = {listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512'}
    const start = async () => {
      const broker = await spawnBroker(join(dir, 'data'), overrides, null)
      spawned.push(broker)
      return broker
    }
    const first = await start()
    expect(first.listeners.map((l) => [l.name, l.securityProtocol])).toEqual([
      ['PLAINTEXT', 'PLAINTEXT'],
      ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
    ])
    const plain = (s: BrokerProcess) => s.listeners[0]!.port
    const bootstrap = (s: BrokerProcess) => `127.0.0.1:${s.listeners[1]!.port}`
    expect((await alterScram(plain(first), [{name: 'carol', mechanism: SHA512, password: 'carol-pw'}])).map((r) => r.errorCode)).toEqual([ErrorCode.NONE])
    expect(await kcatRoundTrip(bootstrap(first), 'restart-topic', ['before'], sasl('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'carol', 'carol-pw'))).toEqual(['before'])
    expect(await first.kill()).toBe(0)

    const second = await start()
    try {
      expect(await kcatRoundTrip(bootstrap(second), 'restart-topic', ['after'], sasl('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'carol', 'carol-pw'))).toEqual(['before', 'after'])
      expect(await describeScram(plain(second), null)).toMatchObject([{user: 'carol', errorCode: ErrorCode.NONE, credentialInfos: [{mechanism: SHA512, iterations: 4096}]}])
      const wrong = await kcatFails(bootstrap(second), sasl('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'carol', 'not-carol-pw'))
      expect(wrong.code).not.toBe(0)
    } finally {
      expect(await second.kill()).toBe(0)
    }
  })
})

// ---------------------------------------------------------------------------------------------

describe.skipIf(kcatMissing || opensslMissing)('SSL and SASL_SSL listeners', () => {
  let certs: TestCertificates
  let b: TestBroker
  let sslBootstrap: string
  let saslSslBootstrap: string
  let mtlsBootstrap: string

  beforeAll(async () => {
    certs = makeCertificates()
    b = await startBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
      // SSL: a PKCS12 keystore.
      'listener.name.ssl.ssl.keystore.type': 'PKCS12',
      'listener.name.ssl.ssl.keystore.location': certs.serverP12,
      'listener.name.ssl.ssl.keystore.password': certs.storePassword,
      // SASL_SSL: the key and chain inline (KIP-651).
      'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
      'listener.name.sasl_ssl.ssl.keystore.key': readFileSync(certs.serverKey, 'utf8'),
      'listener.name.sasl_ssl.ssl.keystore.certificate.chain': readFileSync(certs.serverCert, 'utf8'),
      // MTLS: a PEM keystore file with an encrypted key, client certificates required.
      'listener.name.mtls.ssl.keystore.type': 'PEM',
      'listener.name.mtls.ssl.keystore.location': certs.serverKeystorePem,
      'listener.name.mtls.ssl.truststore.type': 'PEM',
      'listener.name.mtls.ssl.truststore.location': certs.caPem,
      'listener.name.mtls.ssl.client.auth': 'required',
    })
    sslBootstrap = `127.0.0.1:${portOf(b, 'SSL')}`
    saslSslBootstrap = `127.0.0.1:${portOf(b, 'SASL_SSL')}`
    mtlsBootstrap = `127.0.0.1:${portOf(b, 'MTLS')}`
    expect(b.broker.status!.listeners.map((l) => l.securityProtocol)).toEqual(['PLAINTEXT', 'SSL', 'SASL_SSL', 'SSL'])
    for (const t of ['ssl-kcat', 'sasl-ssl-kcat', 'sasl-ssl-python', 'sasl-ssl-kafkajs', 'mtls-kcat']) await createTopic(b.port, t)
    await alterScram(b.port, [
      {name: 'dave', mechanism: SHA256, password: 'dave-pw'},
      {name: 'erin', mechanism: SHA512, password: 'erin-pw'},
    ])
  })

  afterAll(async () => {
    await b?.stop()
    certs?.remove()
  })

  const ssl = (ca: string) => ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${ca}`]

  it('kcat trusting the CA reads and writes over SSL', async () => {
    expect(await kcatRoundTrip(sslBootstrap, 'ssl-kcat', ['secret', 'things'], ssl(certs.caPem))).toEqual(['secret', 'things'])
  })

  it('a client that does not trust the CA fails the handshake', async () => {
    const r = await kcatFails(sslBootstrap, ssl(certs.otherCaPem))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/SSL handshake failed|certificate verify failed/)
    // A plaintext client on the SSL listener gets nowhere either.
    expect((await kcatFails(sslBootstrap, [])).code).not.toBe(0)
  })

  it('kcat authenticates with SCRAM over SASL_SSL', async () => {
    const security = [...sasl('SASL_SSL', 'SCRAM-SHA-256', 'dave', 'dave-pw'), '-X', `ssl.ca.location=${certs.caPem}`]
    expect(await kcatRoundTrip(saslSslBootstrap, 'sasl-ssl-kcat', ['x', 'y', 'z'], security)).toEqual(['x', 'y', 'z'])
    const wrong = await kcatFails(saslSslBootstrap, [...sasl('SASL_SSL', 'SCRAM-SHA-256', 'dave', 'not-dave-pw'), '-X', `ssl.ca.location=${certs.caPem}`])
    expect(wrong.stderr).toContain('SASL authentication error')
  })

  it.skipIf(confluentPythonMissing)('confluent-kafka-python over SASL_SSL with SCRAM-SHA-512', async () => {
    const security = {'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'erin', 'sasl.password': 'erin-pw', 'ssl.ca.location': certs.caPem}
    const r = await python<PythonResult>('secure_produce_consume.py', [saslSslBootstrap, 'sasl-ssl-python', '10', JSON.stringify(security)], 60_000)
    expect(r.errors).toEqual([])
    expect(r.values).toEqual(Array.from({length: 10}, (_, i) => `secure-${i}`))
  })

  it('kafkajs over SASL_SSL with scram-sha-256', async () => {
    const values = ['k1', 'k2', 'k3']
    const kafka = kafkajs(saslSslBootstrap, {ssl: {ca: [readFileSync(certs.caPem)]}, sasl: {mechanism: 'scram-sha-256', username: 'dave', password: 'dave-pw'}})
    expect(await kafkajsRoundTrip(kafka, 'sasl-ssl-kafkajs', values)).toEqual(values)
  })

  it('with ssl.client.auth=required, a client certificate signed by the truststore CA gets in and none does not', async () => {
    const withCert = [...ssl(certs.caPem), '-X', `ssl.certificate.location=${certs.clientCert}`, '-X', `ssl.key.location=${certs.clientKey}`]
    expect(await kcatRoundTrip(mtlsBootstrap, 'mtls-kcat', ['mutual'], withCert)).toEqual(['mutual'])
    expect((await kcatFails(mtlsBootstrap, ssl(certs.caPem))).code).not.toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------

describe('bad security configs stop kcli server start (exit 2, the key named)', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) removeDir(d)
  })

  function start(overrides: Record<string, string>) {
    const dir = tempDir('kcli-secure-bad-')
    dirs.push(dir)
    const args = [...KCLI_NODE_ARGS, 'server', 'start', '--data-dir', join(dir, 'data')]
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`)
    return spawnSync(process.execPath, args, {cwd: PROJECT_ROOT, encoding: 'utf8', timeout: T, env: {...process.env, NO_COLOR: '1'}})
  }

  it('a SASL listener with sasl.enabled.mechanisms=GSSAPI', () => {
    const r = start({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'GSSAPI'})
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('sasl.enabled.mechanisms')
    expect(r.stderr).toContain('GSSAPI')
    expect(r.stdout).toBe('')
  })

  it('a SASL listener without a mechanism set (Kafka\'s default is GSSAPI)', () => {
    const r = start({listeners: 'SASL_PLAINTEXT://127.0.0.1:0'})
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('sasl.enabled.mechanisms')
  })

  it.skipIf(opensslMissing)('ssl.keystore.type=JKS, and a keystore that is not there', () => {
    const certs = makeCertificates()
    try {
      const jks = start({listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'JKS', 'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': certs.storePassword})
      expect(jks.status).toBe(2)
      expect(jks.stderr).toContain('ssl.keystore.type')
      expect(jks.stderr).toMatch(/convert/)
      const missing = start({listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': join(certs.dir, 'missing.p12'), 'ssl.keystore.password': 'secret'})
      expect(missing.status).toBe(2)
      expect(missing.stderr).toContain('ssl.keystore.location')
      const none = start({listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PKCS12'})
      expect(none.status).toBe(2)
      expect(none.stderr).toContain('ssl.keystore.location')
      const wrongPassword = start({listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs.serverP12, 'ssl.keystore.password': 'guess'})
      expect(wrongPassword.status).toBe(2)
      expect(wrongPassword.stderr).toContain('ssl.keystore.password')
      expect(wrongPassword.stderr).not.toContain('guess')
    } finally {
      certs.remove()
    }
  })

  it('PLAIN without users, and a listener missing from listener.security.protocol.map', () => {
    const plain = start({listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN'})
    expect(plain.status).toBe(2)
    expect(plain.stderr).toContain('listener.name.sasl_plaintext.plain.sasl.jaas.config')
    const unmapped = start({listeners: 'CLIENTS://127.0.0.1:0'})
    expect(unmapped.status).toBe(2)
    expect(unmapped.stderr).toContain('listener.security.protocol.map')
  })
})
