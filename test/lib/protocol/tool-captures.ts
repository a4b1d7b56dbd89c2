// Kafka 4.0's own admin tools recorded against a real 3-broker cluster
// (../shared/kafka-reference/tool-captures/cluster-tools.jsonl): every request and its answer,
// decoded with the project's codecs and paired by connection and correlation id, with the tool's
// command line, the run (one tool invocation) and the broker the connection went to.

import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {decodeRequest, decodeResponse} from '../../../src/lib/protocol/index.js'
import {REFERENCE_DIR} from './reference.js'

export const TOOL_CAPTURES = join(REFERENCE_DIR, 'tool-captures', 'cluster-tools.jsonl')
export const HAVE_TOOL_CAPTURES = existsSync(TOOL_CAPTURES)

export interface ToolExchange {
  run: number
  tool: string
  scenario: string
  broker: number
  connection: number
  apiKey: number
  api: string
  apiVersion: number
  request: any
  response: any
}

let cache: ToolExchange[] | undefined

/** Every request/response pair of cluster-tools.jsonl, in the order the requests were sent. */
export function loadToolExchanges(): ToolExchange[] {
  if (cache) return cache
  const frames = readFileSync(TOOL_CAPTURES, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))
  const responses = new Map<string, any>()
  for (const f of frames) if (f.direction === 'response') responses.set(`${f.connection}/${f.correlationId}`, f)
  cache = frames
    .filter((f) => f.direction === 'request')
    .map((f) => {
      const answer = responses.get(`${f.connection}/${f.correlationId}`)
      return {
        run: f.run,
        tool: f.tool,
        scenario: f.scenario,
        broker: f.broker,
        connection: f.connection,
        apiKey: f.apiKey,
        api: f.api,
        apiVersion: f.apiVersion,
        request: decodeRequest(Buffer.from(f.frameHex, 'hex')).body,
        response: decodeResponse(Buffer.from(answer.frameHex, 'hex'), f.apiKey, f.apiVersion).body,
      }
    })
  return cache
}

/** The exchanges of some runs (tool invocations), in order. */
export function exchangesOf(runs: readonly number[]): ToolExchange[] {
  return loadToolExchanges().filter((e) => runs.includes(e.run))
}
