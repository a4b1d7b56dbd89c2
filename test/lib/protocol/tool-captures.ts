// Kafka 4.0's own admin tools recorded against a real 3-broker cluster
// (../shared/kafka-reference/tool-captures/cluster-tools.jsonl and security-tools.jsonl): every
// request and its answer, decoded with the project's codecs and paired by connection and
// correlation id, with the tool's command line, the run (one tool invocation), the broker the
// connection went to and the request's frame as recorded (for replaying it byte for byte).

import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {decodeRequest, decodeResponse} from '../../../src/lib/protocol/index.js'
import {REFERENCE_DIR} from './reference.js'

export const TOOL_CAPTURES_DIR = join(REFERENCE_DIR, 'tool-captures')
export const TOOL_CAPTURES = join(TOOL_CAPTURES_DIR, 'cluster-tools.jsonl')
export const SECURITY_TOOL_CAPTURES = join(TOOL_CAPTURES_DIR, 'security-tools.jsonl')
export const HAVE_TOOL_CAPTURES = existsSync(TOOL_CAPTURES)
/** kafka-acls.sh and kafka-configs.sh against a cluster with StandardAuthorizer (issue 15). */
export const HAVE_SECURITY_TOOL_CAPTURES = existsSync(SECURITY_TOOL_CAPTURES)

export interface ToolExchange {
  /** Position of the request in the file's request order (0-based). */
  index: number
  run: number
  tool: string
  scenario: string
  broker: number
  connection: number
  correlationId: number
  apiKey: number
  api: string
  apiVersion: number
  /** The request frame as the tool sent it (header and body, without the size prefix). */
  requestFrame: Buffer
  request: any
  response: any
}

const cache = new Map<string, ToolExchange[]>()

/** Every request/response pair of a tool-captures file (default cluster-tools.jsonl), in the order the requests were sent. */
export function loadToolExchanges(file = TOOL_CAPTURES): ToolExchange[] {
  const cached = cache.get(file)
  if (cached) return cached
  const frames = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))
  const responses = new Map<string, any>()
  for (const f of frames) if (f.direction === 'response') responses.set(`${f.connection}/${f.correlationId}`, f)
  const exchanges = frames
    .filter((f) => f.direction === 'request')
    .map((f, index): ToolExchange => {
      const answer = responses.get(`${f.connection}/${f.correlationId}`)
      const requestFrame = Buffer.from(f.frameHex, 'hex')
      return {
        index,
        run: f.run,
        tool: f.tool,
        scenario: f.scenario,
        broker: f.broker,
        connection: f.connection,
        correlationId: f.correlationId,
        apiKey: f.apiKey,
        api: f.api,
        apiVersion: f.apiVersion,
        requestFrame,
        request: decodeRequest(requestFrame).body,
        response: decodeResponse(Buffer.from(answer.frameHex, 'hex'), f.apiKey, f.apiVersion).body,
      }
    })
  cache.set(file, exchanges)
  return exchanges
}

/** The exchanges of some runs (tool invocations), in order. */
export function exchangesOf(runs: readonly number[], file = TOOL_CAPTURES): ToolExchange[] {
  return loadToolExchanges(file).filter((e) => runs.includes(e.run))
}
