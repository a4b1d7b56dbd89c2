/**
 * The PostgreSQL connectors as plugins (plugins.ts registers them as built-ins): our class names,
 * plus Confluent's JDBC connector class names so connector configs written for those carry over
 * (only PostgreSQL URLs).
 */
import type {PluginDescriptor} from '../api.js'
import {VERSION} from './common.js'
import {PostgresSinkConnector} from './sink.js'
import {PostgresSourceConnector} from './source.js'

export {PostgresSinkConnector, PostgresSinkTask, POSTGRES_SINK_CONFIG, validateSinkConfig} from './sink.js'
export {PostgresSourceConnector, PostgresSourceTask, POSTGRES_SOURCE_CONFIG, validateSourceConfig} from './source.js'

const PKG = 'io.kcli.connect.postgres.'

export const plugins: PluginDescriptor[] = [
  {type: 'sink', className: PKG + 'PostgresSinkConnector', version: VERSION, create: () => new PostgresSinkConnector()},
  {type: 'source', className: PKG + 'PostgresSourceConnector', version: VERSION, create: () => new PostgresSourceConnector()},
  {type: 'sink', className: 'io.confluent.connect.jdbc.JdbcSinkConnector', version: VERSION, create: () => new PostgresSinkConnector()},
  {type: 'source', className: 'io.confluent.connect.jdbc.JdbcSourceConnector', version: VERSION, create: () => new PostgresSourceConnector()},
]
