// What `kcli cluster drain` records so that `kcli cluster undrain` can restore it: the replica
// order of every partition drain reordered, kept in a local file
// $XDG_CONFIG_HOME/kcli/drains/<cluster id>/broker-<id>.json (or --state-file).
//
// Why a local file: the original order must survive until undrain, and the only place the public
// protocol could keep it on the cluster is a topic config, but Kafka validates topic config names
// (an unknown one is INVALID_CONFIG), so that would not work against Apache Kafka. The file is
// written atomically (temporary file + rename) before any partition is reordered; a second drain
// of the same broker keeps the orders recorded first. Undrain on another machine needs the file
// (--state-file).
//
//   {"version":1,"clusterId":"...","broker":3,"drainedAt":"2025-...","partitions":
//    [{"topic":"orders","partition":0,"original":[3,1,2],"drained":[1,2,3]}]}

import {mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {configDir} from '../cli/profiles.js'

export interface DrainedPartition {
  topic: string
  partition: number
  /** The replica order before the drain. */
  original: number[]
  /** The order the drain set. */
  drained: number[]
}

export interface DrainState {
  version: 1
  clusterId: string | null
  broker: number
  drainedAt: string
  partitions: DrainedPartition[]
}

export function drainStatePath(clusterId: string | null, broker: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'drains', (clusterId ?? 'unknown-cluster').replaceAll(/[^\w.-]/g, '_'), `broker-${broker}.json`)
}

/** The recorded state, or undefined when there is no file. Throws on a file that is not a drain state. */
export function loadDrainState(path: string): DrainState | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const state = JSON.parse(text) as DrainState
  if (state.version !== 1 || !Array.isArray(state.partitions) || !Number.isInteger(state.broker)) throw new Error(`${path} is not a kcli drain state file`)
  return state
}

export function saveDrainState(path: string, state: DrainState): void {
  mkdirSync(dirname(path), {recursive: true})
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, {mode: 0o600})
  renameSync(temporary, path)
}

export function removeDrainState(path: string): void {
  rmSync(path, {force: true})
}

/** `previous` plus `added`, keeping the original order recorded first for a partition drained twice. */
export function mergeDrainState(previous: DrainState | undefined, next: Omit<DrainState, 'partitions'>, added: readonly DrainedPartition[]): DrainState {
  const byName = new Map<string, DrainedPartition>()
  for (const p of previous?.partitions ?? []) byName.set(`${p.topic}\0${p.partition}`, p)
  for (const p of added) {
    const k = `${p.topic}\0${p.partition}`
    const earlier = byName.get(k)
    byName.set(k, earlier ? {...p, original: earlier.original} : p)
  }
  return {...next, partitions: [...byName.values()]}
}
