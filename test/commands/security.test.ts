// kcli commands against secured listeners of our broker: SASL/PLAIN, SASL/SCRAM-SHA-256/512, TLS
// (server-verified, with a client certificate) and SASL_SSL, configured the way Kafka's tools and
// kcat are: --command-config client.properties, -X key=value, KCLI_COMMAND_CONFIG.

import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import Consume from '../../src/commands/consume/index.js'
import Produce, {type ProduceResult} from '../../src/commands/produce/index.js'
import TopicsList from '../../src/commands/topics/list.js'
import {KafkaClient} from '../../src/lib/client/client.js'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {PLAIN_LOGIN_MODULE} from '../../src/lib/sasl/jaas.js'
import {makeCertificates, opensslMissing, type TestCertificates} from '../e2e/certs.js'
import {json, kcli, startBroker, type TestBroker} from './helpers.js'

describe.skipIf(opensslMissing !== null)('kcli against secured listeners', () => {
  let broker: TestBroker
  let certs: TestCertificates
  const port = (name: string) => broker.broker.status!.listeners.find((l) => l.name === name)!.port
  const at = (name: string) => `127.0.0.1:${port(name)}`
  const file = (name: string, lines: string[]) => {
    const path = join(certs.dir, name)
    writeFileSync(path, `${lines.join('\n')}\n`)
    return path
  }

  beforeAll(async () => {
    certs = makeCertificates()
    broker = await startBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_alice="alice-secret";`,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': certs.serverKeystorePem,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': certs.caPem,
      'listener.name.ssl.ssl.client.auth': 'required',
    })
    // SCRAM users, created over the PLAINTEXT listener (KIP-554), as kafka-configs would.
    const admin = new KafkaClient({bootstrapServers: [{host: '127.0.0.1', port: broker.port}]})
    try {
      const connection = await admin.anyConnection()
      const upsert = (mechanism: 1 | 2, name: string, password: string) => {
        const salt = randomBytes(16)
        const [hash, length] = mechanism === 1 ? ['sha256', 32] as const : ['sha512', 64] as const
        return {iterations: 4096, mechanism, name, salt, saltedPassword: pbkdf2Sync(password, salt, 4096, length, hash)}
      }
      const r = await connection.send(ApiKey.AlterUserScramCredentials, {deletions: [], upsertions: [upsert(1, 'bob', 'bob-secret'), upsert(2, 'carol', 'carol-secret')]})
      expect(r.results.map((x) => x.errorCode)).toEqual([0, 0])
    } finally {
      await admin.close()
    }
  })

  afterAll(async () => {
    await broker?.stop()
    certs?.remove()
  })

  it('SASL/PLAIN with -X (librdkafka names, as kcat -X): produce, consume, list', async () => {
    const x = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret']
    const produced = await kcli<ProduceResult>(Produce, at('SASL_PLAINTEXT'), ['-t', 'secure-plain', ...x, '--json'], {stdin: 'a\nb\n'})
    expect(produced.stderr).toBe('')
    expect(json<ProduceResult>(produced).count).toBe(2)
    const consumed = await kcli(Consume, at('SASL_PLAINTEXT'), ['-t', 'secure-plain', '--from-beginning', '--exit', ...x])
    expect(consumed.stdout).toBe('a\nb\n')
    const listed = await kcli(TopicsList, at('SASL_PLAINTEXT'), [...x])
    expect(listed.stdout).toContain('secure-plain')
  })

  it('a wrong password: exit 1 with SASL_AUTHENTICATION_FAILED; an unknown mechanism names the enabled ones', async () => {
    const wrong = await kcli(TopicsList, at('SASL_PLAINTEXT'), ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=nope', '--timeout', '5000'])
    expect(wrong.exitCode).toBe(1)
    expect(wrong.stderr).toMatch(/SASL_AUTHENTICATION_FAILED \(58\)/)
    const scramForPlainUser = await kcli(TopicsList, at('SASL_PLAINTEXT'), ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=SCRAM-SHA-256', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret', '--timeout', '5000'])
    expect(scramForPlainUser.exitCode).toBe(1)
    expect(scramForPlainUser.stderr).toMatch(/SASL_AUTHENTICATION_FAILED/)
  })

  it.each([
    ['SCRAM-SHA-256', 'bob', 'bob-secret'],
    ['SCRAM-SHA-512', 'carol', 'carol-secret'],
  ])('%s from a client.properties file (--command-config, and KCLI_COMMAND_CONFIG)', async (mechanism, user, password) => {
    const properties = file(`${user}.properties`, [
      'security.protocol=SASL_PLAINTEXT',
      `sasl.mechanism=${mechanism}`,
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
    ])
    const topic = `secure-${user}`
    const produced = await kcli(Produce, at('SASL_PLAINTEXT'), ['-t', topic, '--command-config', properties], {stdin: 'x\ny\n'})
    expect(produced.stderr).toBe('')
    expect(produced.exitCode).toBe(0)
    const consumed = await kcli(Consume, at('SASL_PLAINTEXT'), ['-t', topic, '--from-beginning', '--exit'], {env: {KCLI_COMMAND_CONFIG: properties}})
    expect(consumed.stdout).toBe('x\ny\n')
  })

  it('SSL with a client certificate (mutual TLS); without the CA the handshake fails', async () => {
    const properties = file('tls.properties', [
      'security.protocol=SSL',
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${certs.caPem}`,
      `ssl.certificate.location=${certs.clientCert}`,
      `ssl.key.location=${certs.clientKey}`,
    ])
    const produced = await kcli(Produce, at('SSL'), ['-t', 'secure-tls', '--command-config', properties], {stdin: 'over tls\n'})
    expect(produced.stderr).toBe('')
    const consumed = await kcli(Consume, at('SSL'), ['-t', 'secure-tls', '--from-beginning', '--exit', '--command-config', properties])
    expect(consumed.stdout).toBe('over tls\n')

    const untrusted = await kcli(TopicsList, at('SSL'), ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.otherCaPem}`, '--timeout', '3000'])
    expect(untrusted.exitCode).toBe(1)
    expect(untrusted.stderr).toMatch(/TLS|certificate/i)
  })

  it('SASL_SSL with SCRAM-SHA-512 and the host name checked (127.0.0.1 is in the certificate)', async () => {
    const properties = file('sasl-ssl.properties', [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="carol-secret";',
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${certs.caPem}`,
    ])
    const produced = await kcli(Produce, at('SASL_SSL'), ['-t', 'secure-both', '--command-config', properties], {stdin: 'both\n'})
    expect(produced.stderr).toBe('')
    const consumed = await kcli(Consume, at('SASL_SSL'), ['-t', 'secure-both', '--from-beginning', '--exit', '--command-config', properties])
    expect(consumed.stdout).toBe('both\n')
  })

  it('a client without security settings is told what to set when a secured listener hangs up', async () => {
    for (const listener of ['SASL_PLAINTEXT', 'SSL']) {
      const run = await kcli(TopicsList, at(listener), ['--timeout', '3000'])
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toMatch(/if the listener uses TLS or SASL, set security\.protocol/)
    }
  })

  it('bad client settings are usage errors (exit 2) naming the key', async () => {
    const jks = await kcli(TopicsList, at('SSL'), ['-X', 'security.protocol=SSL', '-X', 'ssl.truststore.type=JKS', '-X', 'ssl.truststore.location=/tmp/x.jks'])
    expect(jks.exitCode).toBe(2)
    expect(jks.stderr).toMatch(/ssl\.truststore\.type: JKS is not supported/)
    const missing = await kcli(TopicsList, at('SSL'), ['--command-config', join(certs.dir, 'nope.properties')])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/--command-config: ENOENT/)
  })
})
