/**
 * `metadata.store` (flag `--metadata`, variable `KCLI_METADATA_STORE`): where a broker keeps the
 * cluster's metadata. Empty or `local` — the embedded store in the data directory, for a single
 * broker; `etcd://host:port[,host:port...][/prefix]` — an etcd cluster shared by every broker of
 * the kcli cluster, all keys under `/prefix` (default `/kcli`), so several kcli clusters can share
 * one etcd.
 */

export type MetadataStoreLocation = {kind: 'local'} | {kind: 'etcd'; endpoints: string[]; prefix: string}

export const DEFAULT_ETCD_PREFIX = '/kcli'

/** Parses a `metadata.store` value; throws an Error whose message says what is wrong. */
export function parseMetadataStoreLocation(value: string): MetadataStoreLocation {
  const text = value.trim()
  if (text === '' || text === 'local') return {kind: 'local'}
  const match = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(text)
  if (!match) throw new Error(`metadata.store must be 'local' or etcd://host:port[,host:port...][/prefix], not '${value}'`)
  const endpoints = match[1]!.split(',').map((e) => e.trim())
  for (const endpoint of endpoints) {
    const hostPort = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(endpoint)
    const port = hostPort ? Number(hostPort[2]) : NaN
    if (!hostPort || port < 1 || port > 65535) throw new Error(`metadata.store: '${endpoint}' is not host:port (in '${value}')`)
  }
  let prefix = (match[2] ?? DEFAULT_ETCD_PREFIX).replace(/\/+$/, '')
  if (prefix === '') prefix = DEFAULT_ETCD_PREFIX
  return {kind: 'etcd', endpoints, prefix}
}
