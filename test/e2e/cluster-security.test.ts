/**
 * Issue 13, inter-broker security: three brokers whose only listener is SASL_SSL (PLAIN over TLS)
 * replicate to each other over it — followers connect with the listener's truststore and
 * `sasl.mechanism.inter.broker.protocol=PLAIN` with the JAAS config's username and password, as
 * Kafka brokers do. kcat produces with acks=all to an RF=3 topic; all three replicas hold the
 * leader's bytes and stay in the ISR. An inter-broker listener that needs credentials it was
 * not given stops `server start` with exit 2 naming the key.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {PLAIN_LOGIN_MODULE} from '../../src/lib/sasl/jaas.js'
import {makeCertificates, opensslMissing, type TestCertificates} from './certs.js'
import {etcdMissing, startEtcd, type TestEtcd} from './etcd.js'
import {type BrokerProcess, removeDir, spawnBroker, startServerSync, tempDir, waitUntil} from './harness.js'
import {kcat, kcatMissing} from './peers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const JAAS = `${PLAIN_LOGIN_MODULE} required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`

describe.skipIf(etcdMissing !== null || kcatMissing !== null || opensslMissing !== null)('a three-broker cluster replicating over SASL_SSL', () => {
  let etcd: TestEtcd
  let certs: TestCertificates
  const brokers: BrokerProcess[] = []
  const dirs: string[] = []
  const security = (): Record<string, string> => ({
    listeners: 'SASL_SSL://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.sasl_ssl.plain.sasl.jaas.config': JAAS,
    'sasl.mechanism.inter.broker.protocol': 'PLAIN',
    'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.keystore.key': readFileSync(certs.serverKey, 'utf8'),
    'listener.name.sasl_ssl.ssl.keystore.certificate.chain': readFileSync(certs.serverCert, 'utf8'),
    'listener.name.sasl_ssl.ssl.truststore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.truststore.location': certs.caPem,
  })
  const bootstrap = () => brokers.map((b) => b.bootstrap).join(',')
  const kcatSecurity = () => ['-X', 'security.protocol=SASL_SSL', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret', '-X', `ssl.ca.location=${certs.caPem}`]

  beforeAll(async () => {
    certs = makeCertificates()
    etcd = await startEtcd()
    for (const nodeId of [1, 2, 3]) {
      const dir = tempDir()
      dirs.push(dir)
      brokers.push(await spawnBroker(dir, {...security(), 'node.id': String(nodeId), 'metadata.store': `etcd://${etcd.endpoint}/kcli-secure`, 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '500'}, null))
    }
  }, 120_000)

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.kill('SIGKILL')))
    await etcd?.stop()
    for (const d of dirs) removeDir(d)
    certs?.remove()
  })

  it('followers fetch over SASL_SSL: acks=all succeeds and every replica has the leader\'s bytes', async () => {
    const kafka = new Kafka({brokers: bootstrap().split(','), clientId: 'cluster-security', logLevel: logLevel.NOTHING, ssl: {ca: [readFileSync(certs.caPem, 'utf8')]}, sasl: {mechanism: 'plain', username: 'admin', password: 'admin-secret'}})
    const admin = kafka.admin()
    await admin.connect()
    try {
      await admin.createTopics({topics: [{topic: 'secure-rep', numPartitions: 1, replicationFactor: 3, configEntries: [{name: 'min.insync.replicas', value: '3'}]}], waitForLeaders: true})
      await kcat(['-b', bootstrap(), ...kcatSecurity(), '-P', '-t', 'secure-rep', '-X', 'acks=all'], {input: Array.from({length: 50}, (_, i) => `s${i}`).join('\n') + '\n', timeoutMs: 60_000})
      const [meta] = (await admin.fetchTopicMetadata({topics: ['secure-rep']})).topics
      expect(meta!.partitions[0]!.isr.sort()).toEqual([1, 2, 3])
    } finally {
      await admin.disconnect()
    }
    const logBytes = (dir: string) => {
      const d = join(dir, 'secure-rep-0')
      return Buffer.concat(readdirSync(d).filter((f) => f.endsWith('.log')).sort().map((f) => readFileSync(join(d, f))))
    }
    await waitUntil(() => {
      const [a, b, c] = dirs.map(logBytes)
      return a!.length > 0 && a!.equals(b!) && a!.equals(c!)
    }, 15_000)
  }, 120_000)

  it('refuses to start when the SASL inter-broker listener has no credentials to use, naming the key', () => {
    const dir = tempDir()
    try {
      const settings = security()
      const noCredentials = {...settings, 'listener.name.sasl_ssl.plain.sasl.jaas.config': `${PLAIN_LOGIN_MODULE} required user_admin="admin-secret";`}
      const args = ['--data-dir', dir, '--json']
      for (const [k, v] of Object.entries({...noCredentials, 'node.id': '9', 'metadata.store': `etcd://${etcd.endpoint}/kcli-secure`})) args.push('--override', `${k}=${v}`)
      const r = startServerSync(args)
      expect(r.status).toBe(2)
      expect(r.stderr).toContain('listener.name.sasl_ssl.plain.sasl.jaas.config')
    } finally {
      removeDir(dir)
    }
  }, 60_000)
})
