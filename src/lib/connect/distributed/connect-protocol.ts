/**
 * Kafka Connect's group protocol (protocol type "connect"): the metadata a worker joins with and
 * the assignment the leader sends it, byte for byte as Kafka's ConnectProtocol (V0, protocol
 * "default", eager) and IncrementalCooperativeConnectProtocol (V1 "compatible" and V2
 * "sessioned", incremental cooperative; V2 differs from V1 only in its version number).
 *
 *   Metadata V0:   Version int16, Url string, ConfigOffset int64
 *   Metadata V1/2: Version int16, Url string, ConfigOffset int64,
 *                  Allocation nullable bytes (the worker's current assignment, encoded as below; null when it has none)
 *   Assignment V0: Version int16, Error int16, Leader string, LeaderUrl string, ConfigOffset int64,
 *                  Assignment [Connector string, Tasks [int32]]
 *   Assignment V1/2: the V0 fields, then Revoked [Connector string, Tasks [int32]] (nullable arrays),
 *                  ScheduledDelay int32; a V1 reader tolerates missing trailing fields (defaults: null, null, 0)
 *
 * Strings are int16-length UTF-8, arrays int32 counts (-1 null), bytes int32-length. Per connector,
 * task -1 (CONNECTOR_TASK) stands for the connector instance itself; entries list a connector's -1
 * first, then its tasks, connectors in the order given. Decoding fails with ProtocolDecodeError.
 */
import type {GroupProtocol} from '../../client/group-member.js'
import {Reader} from '../../protocol/reader.js'
import {Writer} from '../../protocol/writer.js'

export const CONNECTOR_TASK = -1
/** Assignment error: the leader could not reconcile config offsets; read the config topic to its end and rejoin. */
export const CONFIG_MISMATCH = 1

/** connect.protocol values, Kafka's names, and the metadata version each joins with. */
export const CONNECT_PROTOCOLS = {default: 0, compatible: 1, sessioned: 2} as const
export type ConnectProtocolName = keyof typeof CONNECT_PROTOCOLS

export interface ConnectorTaskId {connector: string; task: number}

export interface ConnectAssignment {
  error: number
  leader: string
  leaderUrl: string
  configOffset: bigint
  connectors: string[]
  tasks: ConnectorTaskId[]
  /** V1+: what the member must stop. */
  revokedConnectors: string[]
  revokedTasks: ConnectorTaskId[]
  /** V1+: ms after which the member rejoins (lost workers' work is held back until then). */
  delay: number
}

export interface WorkerState {
  url: string
  configOffset: bigint
  /** V1+: what the worker runs now (null: nothing yet). */
  allocation: ConnectAssignment | null
}

export function emptyAssignment(leader = '', leaderUrl = '', configOffset = -1n): ConnectAssignment {
  return {configOffset, connectors: [], delay: 0, error: 0, leader, leaderUrl, revokedConnectors: [], revokedTasks: [], tasks: []}
}

export function encodeWorkerState(state: WorkerState, version: number): Buffer {
  const w = new Writer()
  w.int16(version)
  w.string(state.url, false)
  w.int64(state.configOffset)
  if (version >= 1) w.nullableBytes(state.allocation ? encodeConnectAssignment(state.allocation, version) : null, false)
  return w.toBuffer()
}

export function decodeWorkerState(bytes: Buffer): WorkerState & {version: number} {
  const r = new Reader(bytes)
  const version = r.int16('ConnectProtocol.version')
  if (version < 0) r.fail(`unsupported Connect protocol version ${version}`, 'ConnectProtocol.version', 0)
  const url = r.string('ConnectProtocol.url', false)
  const configOffset = r.int64('ConnectProtocol.config-offset')
  let allocation: ConnectAssignment | null = null
  if (version >= 1 && r.offset < bytes.length) {
    const raw = r.nullableBytes('ConnectProtocol.allocation', false)
    allocation = raw === null ? null : decodeConnectAssignment(raw)
  }
  return {allocation, configOffset, url, version}
}

/** Kafka's asMap(): per connector, -1 for the connector instance first, then its tasks. */
function connectorEntries(connectors: readonly string[], tasks: readonly ConnectorTaskId[]): Array<[string, number[]]> {
  const map = new Map<string, number[]>()
  for (const c of new Set(connectors)) map.set(c, [CONNECTOR_TASK])
  for (const t of tasks) {
    const list = map.get(t.connector) ?? []
    list.push(t.task)
    map.set(t.connector, list)
  }
  return [...map]
}

function writeEntries(w: Writer, entries: Array<[string, number[]]>): void {
  w.int32(entries.length)
  for (const [connector, tasks] of entries) {
    w.string(connector, false)
    w.int32(tasks.length)
    for (const t of tasks) w.int32(t)
  }
}

function readEntries(r: Reader, field: string): {connectors: string[]; tasks: ConnectorTaskId[]} {
  const connectors: string[] = []
  const tasks: ConnectorTaskId[] = []
  const n = r.arrayLength(field, false, true, 6)
  for (let i = 0; i < n; i++) {
    const connector = r.string(`${field}.connector`, false)
    const m = r.arrayLength(`${field}.tasks`, false, false, 4)
    for (let j = 0; j < m; j++) {
      const task = r.int32(`${field}.tasks`)
      if (task === CONNECTOR_TASK) connectors.push(connector)
      else tasks.push({connector, task})
    }
  }
  return {connectors, tasks}
}

export function encodeConnectAssignment(a: ConnectAssignment, version: number): Buffer {
  const w = new Writer()
  w.int16(version)
  w.int16(a.error)
  w.string(a.leader, false)
  w.string(a.leaderUrl, false)
  w.int64(a.configOffset)
  writeEntries(w, connectorEntries(a.connectors, a.tasks))
  if (version >= 1) {
    writeEntries(w, connectorEntries(a.revokedConnectors, a.revokedTasks))
    w.int32(a.delay)
  }
  return w.toBuffer()
}

export function decodeConnectAssignment(bytes: Buffer): ConnectAssignment & {version: number} {
  const r = new Reader(bytes)
  const version = r.int16('ConnectAssignment.version')
  if (version < 0) r.fail(`unsupported Connect protocol version ${version}`, 'ConnectAssignment.version', 0)
  const error = r.int16('ConnectAssignment.error')
  const leader = r.string('ConnectAssignment.leader', false)
  const leaderUrl = r.string('ConnectAssignment.leader-url', false)
  const configOffset = r.int64('ConnectAssignment.config-offset')
  const assigned = readEntries(r, 'ConnectAssignment.assignment')
  let revoked: {connectors: string[]; tasks: ConnectorTaskId[]} = {connectors: [], tasks: []}
  let delay = 0
  if (version >= 1 && r.offset < bytes.length) {
    revoked = readEntries(r, 'ConnectAssignment.revoked')
    if (r.offset < bytes.length) delay = r.int32('ConnectAssignment.scheduled-delay')
  }
  return {configOffset, connectors: assigned.connectors, delay, error, leader, leaderUrl, revokedConnectors: revoked.connectors, revokedTasks: revoked.tasks, tasks: assigned.tasks, version}
}

/** The protocols a worker joins with for its connect.protocol, in Kafka's order of preference. */
export function joinProtocols(mode: ConnectProtocolName, state: WorkerState): GroupProtocol[] {
  const out: GroupProtocol[] = []
  if (mode === 'sessioned') out.push({metadata: encodeWorkerState(state, 2), name: 'sessioned'})
  if (mode !== 'default') out.push({metadata: encodeWorkerState(state, 1), name: 'compatible'})
  out.push({metadata: encodeWorkerState(state, 0), name: 'default'})
  return out
}
