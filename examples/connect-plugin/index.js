// An example kcli Connect plugin package. Put its directory (or a directory holding it) in the
// worker's plugin.path; the worker imports this module and registers every entry of `plugins`.
// A plugin is {type: 'source' | 'sink' | 'transformation' | 'predicate', className, version,
// aliases?, create()} (src/lib/connect/api.ts, PluginDescriptor); connector classes follow the
// SourceConnector/SourceTask (or SinkConnector/SinkTask) interfaces of the same file. Config
// definitions need only `keys` (a Map of name -> {name, type, defaultValue, ...}) and validate():
// kcli's own ConfigDef is not importable from a plugin, so this plugin carries a tiny one.

const NO_DEFAULT = undefined

/** A minimal ConfigDef: required STRING/INT keys with optional defaults. */
class ConfigDef {
  constructor(keys) {
    this.keys = new Map(keys.map((k) => [k.name, {importance: 'MEDIUM', group: null, orderInGroup: -1, width: 'NONE', displayName: k.name, dependents: [], ...k, defaultValue: k.defaultValue === NO_DEFAULT ? Symbol.for('kcli.connect.NO_DEFAULT') : k.defaultValue}]))
  }

  validate(props) {
    return [...this.keys.values()].map((k) => {
      const raw = props[k.name]
      const value = raw ?? (typeof k.defaultValue === 'symbol' ? null : k.defaultValue)
      const errors = []
      if (value === null) errors.push(`Missing required configuration "${k.name}" which has no default value.`)
      else if (k.type === 'INT' && !/^-?\d+$/.test(String(value).trim())) errors.push(`Invalid value ${value} for configuration ${k.name}: Not a number of type INT`)
      return {name: k.name, value, recommendedValues: [], errors, visible: true}
    })
  }
}

const COUNTER_CONFIG = new ConfigDef([
  {name: 'topic', type: 'STRING', documentation: 'Where the numbers go.'},
  {name: 'count', type: 'INT', defaultValue: '100', documentation: 'How many numbers to emit.'},
  {name: 'batch.size', type: 'INT', defaultValue: '10', documentation: 'Numbers per poll().'},
])

const STRING = {type: 'string', optional: false}

/** Emits "1", "2", ... "count" to `topic`, resuming after the last committed number. */
class CounterSourceTask {
  version() { return '1.0.0' }
  initialize(context) { this.context = context }
  start(props) {
    this.topic = props.topic
    this.count = Number(props.count ?? 100)
    this.batch = Number(props['batch.size'] ?? 10)
    const offset = this.context.offsetStorageReader.offset({counter: this.topic})
    this.next = offset ? Number(offset.n) + 1 : 1
    this.stopped = false
  }

  async poll() {
    if (this.stopped) return null
    if (this.next > this.count) {
      await new Promise((resolve) => { this.wake = resolve; setTimeout(resolve, 200) })
      return null
    }
    const records = []
    while (records.length < this.batch && this.next <= this.count) {
      const n = this.next++
      records.push({sourcePartition: {counter: this.topic}, sourceOffset: {n}, topic: this.topic, valueSchema: STRING, value: `number ${n}`})
    }
    return records
  }

  stop() { this.stopped = true; this.wake?.() }
}

class CounterSourceConnector {
  type = 'source'
  version() { return '1.0.0' }
  config() { return COUNTER_CONFIG }
  validate(props) { return COUNTER_CONFIG.validate(props) }
  start(props) { this.props = props }
  taskConfigs() { return [{topic: this.props.topic, count: this.props.count ?? '100', 'batch.size': this.props['batch.size'] ?? '10'}] }
  stop() {}
  createTask() { return new CounterSourceTask() }
}

/** A Single Message Transform: upper-cases string values (others pass unchanged). */
class UpperCase {
  configure() {}
  config() { return new ConfigDef([]) }
  apply(record) { return typeof record.value === 'string' ? {...record, value: record.value.toUpperCase()} : record }
  close() {}
}

export const plugins = [
  {type: 'source', className: 'com.example.kcli.CounterSourceConnector', version: '1.0.0', aliases: ['Counter'], create: () => new CounterSourceConnector()},
  {type: 'transformation', className: 'com.example.kcli.UpperCase', version: '1.0.0', create: () => new UpperCase()},
]
