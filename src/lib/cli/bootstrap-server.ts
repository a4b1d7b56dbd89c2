// --bootstrap-server: a comma-separated list of host:port, as Kafka's tools take it.
// `host` alone means port 9092; IPv6 literals are written in brackets: `[::1]:9092`.

export const DEFAULT_BOOTSTRAP_SERVER = '127.0.0.1:9092'
export const DEFAULT_KAFKA_PORT = 9092

export interface BrokerAddress {
  host: string
  port: number
}

/** Parse `host:port,host:port`; throws an Error naming the bad entry. */
export function parseBootstrapServers(input: string): BrokerAddress[] {
  const entries = input
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  if (entries.length === 0) throw new Error('expected host:port[,host:port...] but got an empty value')
  return entries.map((entry) => parseAddress(entry))
}

function parseAddress(entry: string): BrokerAddress {
  const match = /^(?:\[([0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)\]|([^:[\]\s]+))(?::(\d+))?$/.exec(entry)
  if (!match) throw new Error(`"${entry}" is not host:port`)
  const host = match[1] ?? match[2]!
  const port = match[3] === undefined ? DEFAULT_KAFKA_PORT : Number(match[3])
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`"${entry}": port must be 1-65535`)
  return {host, port}
}

export function formatBrokerAddress({host, port}: BrokerAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
