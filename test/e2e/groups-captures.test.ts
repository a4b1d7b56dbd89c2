/**
 * Golden conversations: the group requests that real clients sent to Apache Kafka 4.0
 * (../shared/kafka-reference/captures: the Java console consumer and kafka-consumer-groups,
 * kafkajs 2.2.4, kcat 1.7 on librdkafka 2.0) are replayed in order, decoded and re-encoded with
 * kcli's codecs, against a kcli broker; each answer must equal Kafka's, field by field. Member ids
 * and generations are the broker's own choice: the ones Kafka gave are mapped to the ones kcli
 * gave as they appear (then used in later requests), and FindCoordinator's address is this
 * broker's.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {decodeRequest, decodeResponse} from '../../src/lib/protocol/index.js'
import type {ApiKeyNumber} from '../../src/lib/protocol/generated/index.js'
import {HAVE_REFERENCE, REFERENCE_DIR} from '../lib/protocol/reference.js'
import type {TestBroker} from './harness.js'
import {startGroupBroker} from './groups-support.js'
import {RawClient} from './peers.js'

const CAPTURES = join(REFERENCE_DIR, 'captures')
const GROUP_APIS = new Set([8, 9, 10, 11, 12, 13, 14, 15, 16, 42, 47, 68, 69])

interface Frame {
  connection: number
  direction: 'request' | 'response'
  apiKey: number
  api: string
  apiVersion: number
  correlationId: number
  frameHex: string
}

function pairs(file: string): Array<{request: Frame; response: Frame}> {
  const frames = readFileSync(join(CAPTURES, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Frame)
    .filter((f) => GROUP_APIS.has(f.apiKey))
  const out = []
  for (const request of frames.filter((f) => f.direction === 'request')) {
    const response = frames.find((f) => f.direction === 'response' && f.connection === request.connection && f.correlationId === request.correlationId)
    if (response) out.push({request, response})
  }
  return out
}

/** Replaces mapped strings (member ids) and generations, at any depth. */
function substitute(value: unknown, ids: Map<string, string>, generations: Map<number, number>, key = ''): unknown {
  if (typeof value === 'string') return ids.get(value) ?? value
  if (typeof value === 'number' && (key === 'generationId' || key === 'generationIdOrMemberEpoch')) return generations.get(value) ?? value
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids, generations, key))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, ids, generations, k)]))
}

/** Sorts lists of partitions (Kafka answers in hash order). */
function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    const items = value.map(normalize)
    if (items.every((i) => i && typeof i === 'object' && 'partitionIndex' in (i as object))) {
      return [...items].sort((a, b) => (a as {partitionIndex: number}).partitionIndex - (b as {partitionIndex: number}).partitionIndex)
    }
    return items
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]))
}

describe.skipIf(!HAVE_REFERENCE)('group conversations captured from real clients and Kafka 4.0, replayed against kcli', () => {
  let broker: TestBroker

  beforeAll(async () => {
    broker = await startGroupBroker()
    const admin = new Kafka({brokers: [broker.bootstrap], logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'golden', numPartitions: 3}, {topic: 'golden-js', numPartitions: 2}]})
    await admin.disconnect()
  })

  afterAll(async () => {
    await broker?.stop()
  })

  for (const file of ['java.jsonl', 'kafkajs.jsonl', 'kcat.jsonl']) {
    it(`answers the group requests of ${file} as Kafka 4.0 did`, async () => {
      const ids = new Map<string, string>()
      const generations = new Map<number, number>()
      const clients = new Map<number, RawClient>()
      let compared = 0
      try {
        for (const {request, response} of pairs(file)) {
          const req = decodeRequest(Buffer.from(request.frameHex, 'hex'))
          const theirs = decodeResponse(Buffer.from(response.frameHex, 'hex'), request.apiKey as ApiKeyNumber, request.apiVersion).body as Record<string, unknown>
          let client = clients.get(request.connection)
          if (!client) clients.set(request.connection, (client = await RawClient.connect(broker.port)))
          const body = substitute(req.body, ids, generations) as never
          const ours = (await client.request(request.apiKey as ApiKeyNumber, request.apiVersion, body)) as Record<string, unknown>
          // Learn the broker's choices from JoinGroup answers.
          if (request.api === 'JoinGroup') {
            if (typeof theirs.memberId === 'string' && theirs.memberId !== '') ids.set(theirs.memberId, ours.memberId as string)
            if ((theirs.generationId as number) >= 0) generations.set(theirs.generationId as number, ours.generationId as number)
          }
          let expected = substitute(theirs, ids, generations) as Record<string, unknown>
          if (request.api === 'FindCoordinator') {
            const here = {nodeId: 1, host: '127.0.0.1', port: broker.port}
            expected = request.apiVersion >= 4 ? {...expected, coordinators: (expected.coordinators as object[]).map((c) => ({...c, ...here}))} : {...expected, ...here}
          }
          expect(normalize(ours), `${request.api} v${request.apiVersion} (connection ${request.connection}, correlation ${request.correlationId})`).toEqual(normalize(expected))
          compared++
        }
      } finally {
        for (const c of clients.values()) c.close()
      }
      expect(compared).toBeGreaterThan(4)
    })
  }
})
