/**
 * The PostgreSQL connectors by class name. Our class names, plus Confluent's JDBC connector class
 * names as aliases so connector configs written for them carry over (only PostgreSQL URLs).
 */
import type {AnyConnector} from '../api.js'
import {PostgresSinkConnector} from './sink.js'
import {PostgresSourceConnector} from './source.js'

export {ConnectException} from './common.js'
export {PostgresSinkConnector, PostgresSinkTask, POSTGRES_SINK_CONFIG, validateSinkConfig} from './sink.js'
export {PostgresSourceConnector, PostgresSourceTask, POSTGRES_SOURCE_CONFIG, validateSourceConfig} from './source.js'

export const POSTGRES_CONNECTORS: Record<string, () => AnyConnector> = {
  'PostgresSinkConnector': () => new PostgresSinkConnector(),
  'PostgresSourceConnector': () => new PostgresSourceConnector(),
  'io.confluent.connect.jdbc.JdbcSinkConnector': () => new PostgresSinkConnector(),
  'io.confluent.connect.jdbc.JdbcSourceConnector': () => new PostgresSourceConnector(),
}
