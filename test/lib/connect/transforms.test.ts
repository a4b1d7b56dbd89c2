import {describe, expect, it} from 'vitest'
import {ConfigException, type SinkRecord, type Transformation} from '../../../src/lib/connect/api.js'
import {TransformationChain, validateConnectorConfig} from '../../../src/lib/connect/connector-config.js'
import {JsonConverter} from '../../../src/lib/connect/converters.js'
import {DataException, type Schema, Schemas, Struct, structSchema} from '../../../src/lib/connect/data.js'
import {builtinPlugins} from '../../../src/lib/connect/plugins.js'
import {castValue, SimpleDateFormat, TIMESTAMP_SCHEMA_NAME} from '../../../src/lib/connect/transforms.js'

const T = 'org.apache.kafka.connect.transforms.'
const P = 'org.apache.kafka.connect.transforms.predicates.'

const registry = builtinPlugins()

/** A transformation plugin by class name (or simple name), configured. */
function transform(type: string, props: Record<string, string>): Transformation {
  const plugin = registry.find(type, ['transformation'])
  if (!plugin) throw new ConfigException(`Class ${type} could not be found.`)
  const t = plugin.create() as Transformation
  t.configure(props)
  return t
}

const buildTransformationChain = (props: Record<string, string>) => TransformationChain.build(registry, props)

const json = (schemas: boolean) => {
  const c = new JsonConverter()
  c.configure({'schemas.enable': String(schemas)})
  return c
}

function rec(over: Partial<SinkRecord>): SinkRecord {
  return {topic: 'orders', kafkaPartition: 2, kafkaOffset: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: 1_700_000_000_000, headers: [], ...over}
}

const USER = structSchema([['id', Schemas.INT64], ['name', Schemas.STRING], ['email', {type: 'string', optional: true}], ['age', {type: 'int32', optional: true}]])
const user = () => new Struct(USER).put('id', 7).put('name', 'ann').put('email', 'a@x.io').put('age', 41)
const plain = () => new Map<string, unknown>([['id', 7], ['name', 'ann'], ['email', 'a@x.io'], ['age', 41]])

const fields = (st: Struct) => Object.fromEntries((st.schema.fields ?? []).map(f => [f.name, st.get(f.name)]))
const fieldTypes = (s: Schema | null | undefined) => (s?.fields ?? []).map(f => `${f.name}:${f.schema.type}${f.schema.optional ? '?' : ''}`)

describe('SMT chains recorded from Kafka Connect 4.0 (FileStreamSource lines through HoistField + InsertField, JsonConverter)', () => {
  const chain = buildTransformationChain({
    'transforms': 'hoist,insert',
    'transforms.hoist.type': T + 'HoistField$Value', 'transforms.hoist.field': 'line',
    'transforms.insert.type': T + 'InsertField$Value', 'transforms.insert.static.field': 'origin', 'transforms.insert.static.value': 'connect-ref',
  })
  it('schemas.enable=true: the bytes Kafka wrote', () => {
    const out = chain.apply(rec({valueSchema: Schemas.STRING, value: 'hello world'}))!
    expect(json(true).fromConnectData(out.topic, out.valueSchema, out.value)!.toString()).toBe('{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"},{"type":"string","optional":true,"field":"origin"}],"optional":false},"payload":{"line":"hello world","origin":"connect-ref"}}')
  })
  it('schemas.enable=false: the bytes Kafka wrote', () => {
    const out = chain.apply(rec({valueSchema: null, value: '42'}))!
    expect(json(false).fromConnectData(out.topic, out.valueSchema, out.value)!.toString()).toBe('{"line":"42","origin":"connect-ref"}')
  })
  it('RegexRouter connect-ref-smt-(.*) -> connect-ref-routed-$1', () => {
    const c = buildTransformationChain({transforms: 'route', 'transforms.route.type': T + 'RegexRouter', 'transforms.route.regex': 'connect-ref-smt-(.*)', 'transforms.route.replacement': 'connect-ref-routed-$1'})
    expect(c.apply(rec({topic: 'connect-ref-smt-route'}))!.topic).toBe('connect-ref-routed-route')
    expect(c.apply(rec({topic: 'other'}))!.topic).toBe('other')
  })
  it('Filter with TopicNameMatches drops every record of a matching topic, keeps the others', () => {
    const c = buildTransformationChain({transforms: 'drop', 'transforms.drop.type': T + 'Filter', 'transforms.drop.predicate': 'isFilterTopic', predicates: 'isFilterTopic', 'predicates.isFilterTopic.type': P + 'TopicNameMatches', 'predicates.isFilterTopic.pattern': 'connect-ref-smt-filter-.*'})
    expect(c.apply(rec({topic: 'connect-ref-smt-filter-drop'}))).toBeNull()
    expect(c.apply(rec({topic: 'connect-ref-smt-filter'}))).not.toBeNull()
  })
  it('InsertField$Value on a STRING value fails with the message in the recorded task trace', () => {
    const t = transform(T + 'InsertField$Value', {'static.field': 'origin', 'static.value': 'connect-ref'})
    expect(() => t.apply(rec({valueSchema: Schemas.STRING, value: 'x'}))).toThrow(new DataException('Only Struct objects supported for [field insertion], found: java.lang.String'))
  })
})

describe('transformations (Kafka documented behaviour), schema\'d and schemaless', () => {
  it('InsertField$Value: topic, partition, timestamp (Timestamp logical type), required/optional suffixes', () => {
    const t = transform(T + 'InsertField$Value', {'topic.field': 'topic!', 'partition.field': 'part', 'timestamp.field': 'ts?'})
    const out = t.apply(rec({valueSchema: USER, value: user()}))!
    expect(fieldTypes(out.valueSchema)).toEqual(['id:int64', 'name:string', 'email:string?', 'age:int32?', 'topic:string', 'part:int32?', 'ts:int64?'])
    expect(out.valueSchema!.fields![6]!.schema.name).toBe(TIMESTAMP_SCHEMA_NAME)
    expect(fields(out.value as Struct)).toMatchObject({topic: 'orders', part: 2, ts: 1_700_000_000_000})
    const m = t.apply(rec({value: plain()}))!.value as Map<string, unknown>
    expect([...m.keys()]).toEqual(['id', 'name', 'email', 'age', 'topic', 'part', 'ts'])
    expect(m.get('ts')).toEqual(new Date(1_700_000_000_000))
    expect(t.apply(rec({valueSchema: USER, value: null}))!.value).toBeNull() // tombstones pass
  })
  it('InsertField offset.field is for sink records only', () => {
    const t = transform(T + 'InsertField$Value', {'offset.field': 'off'})
    expect((t.apply(rec({value: plain(), kafkaOffset: 99}))!.value as Map<string, unknown>).get('off')).toBe(99)
    expect(() => t.apply({sourcePartition: {}, sourceOffset: {}, topic: 't', partition: 0, valueSchema: null, value: plain()})).toThrow('Only SinkRecord supported for [field insertion]')
  })
  it('InsertField without any field is a ConfigException', () => {
    expect(() => transform(T + 'InsertField$Value', {})).toThrow(new ConfigException('No field insertion configured'))
  })
  it.each([
    [{exclude: 'email,age'}, ['id', 'name']],
    [{include: 'name,age'}, ['name', 'age']],
    [{include: 'name,age', exclude: 'age'}, ['name']],
    [{renames: 'id:user_id,name:full_name'}, ['user_id', 'full_name', 'email', 'age']],
  ])('ReplaceField$Value %j -> fields %j', (props, names) => {
    const t = transform(T + 'ReplaceField$Value', props)
    const s = t.apply(rec({valueSchema: USER, value: user()}))!
    expect(s.valueSchema!.fields!.map(f => f.name)).toEqual(names)
    expect([...(t.apply(rec({value: plain()}))!.value as Map<string, unknown>).keys()]).toEqual(names)
  })
  it('ReplaceField renames must be from:to', () => {
    expect(() => transform(T + 'ReplaceField$Value', {renames: 'a'})).toThrow('Invalid rename mapping: a')
  })
  it.each([
    [{fields: 'name,age,email'}, {name: '', age: 0, email: ''}],
    [{fields: 'name,age', replacement: '42'}, {name: '42', age: 42}],
  ])('MaskField$Value %j', (props, expected) => {
    const t = transform(T + 'MaskField$Value', props)
    expect(fields(t.apply(rec({valueSchema: USER, value: user()}))!.value as Struct)).toMatchObject({id: 7, ...expected})
    expect(Object.fromEntries(t.apply(rec({value: plain()}))!.value as Map<string, unknown>)).toMatchObject(expected)
  })
  it('MaskField replacement that is not a number for a number field is a DataException', () => {
    const t = transform(T + 'MaskField$Value', {fields: 'age', replacement: 'xx'})
    expect(() => t.apply(rec({valueSchema: USER, value: user()}))).toThrow(DataException)
  })
  it('ValueToKey copies fields into a struct key / map key', () => {
    const t = transform(T + 'ValueToKey', {fields: 'id,name'})
    const s = t.apply(rec({valueSchema: USER, value: user()}))!
    expect(fieldTypes(s.keySchema)).toEqual(['id:int64', 'name:string'])
    expect(fields(s.key as Struct)).toEqual({id: 7, name: 'ann'})
    expect(Object.fromEntries(t.apply(rec({value: plain()}))!.key as Map<string, unknown>)).toEqual({id: 7, name: 'ann'})
    expect(() => transform(T + 'ValueToKey', {fields: 'nope'}).apply(rec({valueSchema: USER, value: user()}))).toThrow('Field does not exist: nope')
  })
  it('ExtractField$Key / $Value, V2 nested paths', () => {
    const k = transform(T + 'ExtractField$Key', {field: 'id'})
    const out = k.apply(rec({keySchema: USER, key: user()}))!
    expect([out.keySchema, out.key]).toEqual([Schemas.INT64, 7])
    expect(transform(T + 'ExtractField$Value', {field: 'name'}).apply(rec({value: plain()}))!.value).toBe('ann')
    const nested = new Map<string, unknown>([['a', new Map([['b', 5]])]])
    expect(transform(T + 'ExtractField$Value', {field: 'a.b', 'field.syntax.version': 'V2'}).apply(rec({value: nested}))!.value).toBe(5)
    expect(() => transform(T + 'ExtractField$Value', {field: 'zz'}).apply(rec({valueSchema: USER, value: user()}))).toThrow('Unknown field: zz')
  })
  it.each([
    ['int8', 300, 'int64', 44], ['int16', 70000, 'int64', 4464], ['int32', 3.9, 'float64', 3], ['int64', -2.5, 'float64', -2],
    ['float32', 1, 'int32', 1], ['boolean', 0, 'int32', false], ['boolean', 'TRUE', 'string', true], ['boolean', 'yes', 'string', false],
    ['string', 1.5, 'float64', '1.5'], ['string', 2, 'float64', '2.0'], ['string', 2, 'int32', '2'], ['string', true, 'boolean', 'true'],
    ['int32', '17', 'string', 17], ['float64', '2.25', 'string', 2.25], ['int64', true, 'boolean', 1],
  ] as const)('Cast to %s of %j (%s) = %j', (to, v, from, expected) => {
    expect(castValue(v, from, to)).toBe(expected)
  })
  it('Cast$Value with a field spec changes the schema and the values; a whole-value spec casts the value', () => {
    const t = transform(T + 'Cast$Value', {spec: 'id:string,age:float64'})
    const out = t.apply(rec({valueSchema: USER, value: user()}))!
    expect(fieldTypes(out.valueSchema)).toEqual(['id:string', 'name:string', 'email:string?', 'age:float64?'])
    expect(fields(out.value as Struct)).toMatchObject({id: '7', age: 41})
    expect(Object.fromEntries(t.apply(rec({value: plain()}))!.value as Map<string, unknown>)).toMatchObject({id: '7', age: 41})
    const whole = transform(T + 'Cast$Key', {spec: 'int32'}).apply(rec({keySchema: Schemas.STRING, key: '12'}))!
    expect([whole.keySchema, whole.key]).toEqual([{type: 'int32', optional: false}, 12])
    expect(() => transform(T + 'Cast$Value', {spec: 'a:date'})).toThrow('Invalid type found in casting spec: date')
    expect(() => transform(T + 'Cast$Value', {spec: 'a:int8:x'})).toThrow('Invalid cast mapping: a:int8:x')
  })
  it('TimestampConverter$Value: string <-> unix <-> Timestamp, unix.precision, schemaless Dates', () => {
    const toString = transform(T + 'TimestampConverter$Value', {field: 'at', 'target.type': 'string', format: 'yyyy-MM-dd\'T\'HH:mm:ss.SSSX'})
    const s = structSchema([['at', {type: 'int64', optional: false, name: TIMESTAMP_SCHEMA_NAME, version: 1}]])
    const out = toString.apply(rec({valueSchema: s, value: new Struct(s).put('at', 1_700_000_000_123)}))!
    expect(fieldTypes(out.valueSchema)).toEqual(['at:string'])
    expect((out.value as Struct).get('at')).toBe('2023-11-14T22:13:20.123Z')
    const toUnix = transform(T + 'TimestampConverter$Value', {'target.type': 'unix', format: 'yyyy-MM-dd HH:mm', 'unix.precision': 'seconds'})
    expect(toUnix.apply(rec({valueSchema: Schemas.STRING, value: '2023-11-14 22:13'}))!.value).toBe(1_700_000_000 - 20)
    const toTs = transform(T + 'TimestampConverter$Value', {field: 'at', 'target.type': 'Timestamp', 'unix.precision': 'microseconds'})
    expect((toTs.apply(rec({value: new Map([['at', 1_700_000_000_123_456]])}))!.value as Map<string, unknown>).get('at')).toEqual(new Date(1_700_000_000_123))
    const toDate = transform(T + 'TimestampConverter$Value', {'target.type': 'Date'}).apply(rec({valueSchema: {type: 'int64', optional: false}, value: 1_700_000_000_000}))!
    expect([toDate.valueSchema!.name, toDate.value]).toEqual(['org.apache.kafka.connect.data.Date', 19675])
    expect(() => transform(T + 'TimestampConverter$Value', {'target.type': 'string'})).toThrow('TimestampConverter requires format option to be specified when using string timestamps')
    expect(() => transform(T + 'TimestampConverter$Value', {'target.type': 'epoch'})).toThrow('String must be one of: string, unix, Date, Time, Timestamp')
  })
  it('TimestampRouter formats ${topic}-${timestamp} with yyyyMMdd; a record without timestamp is a DataException', () => {
    const t = transform(T + 'TimestampRouter', {})
    expect(t.apply(rec({}))!.topic).toBe('orders-20231114')
    expect(transform(T + 'TimestampRouter', {'topic.format': 'x_${timestamp}_${topic}', 'timestamp.format': 'yyyy-MM'}).apply(rec({}))!.topic).toBe('x_2023-11_orders')
    expect(() => t.apply(rec({timestamp: null}))).toThrow('Timestamp missing on record')
  })
  it('HeaderFrom$Value copy and move; DropHeaders', () => {
    const copy = transform(T + 'HeaderFrom$Value', {fields: 'id,name', headers: 'h-id,h-name', operation: 'copy'})
    const c = copy.apply(rec({valueSchema: USER, value: user(), headers: [{key: 'old', value: Buffer.from('1')}]}))!
    // header values are bytes in SimpleHeaderConverter's string form
    expect(c.headers!.map(h => [h.key, h.value])).toEqual([['old', Buffer.from('1')], ['h-id', Buffer.from('7')], ['h-name', Buffer.from('ann')]])
    expect(c.valueSchema).toBe(USER)
    const move = transform(T + 'HeaderFrom$Value', {fields: 'email', headers: 'mail', operation: 'move'})
    const m = move.apply(rec({valueSchema: USER, value: user()}))!
    expect(fieldTypes(m.valueSchema)).toEqual(['id:int64', 'name:string', 'age:int32?'])
    expect([...(move.apply(rec({value: plain()}))!.value as Map<string, unknown>).keys()]).toEqual(['id', 'name', 'age'])
    expect(() => transform(T + 'HeaderFrom$Value', {fields: 'a,b', headers: 'h', operation: 'copy'})).toThrow('\'fields\' config must have the same number of elements as \'headers\' config.')
    const drop = transform(T + 'DropHeaders', {headers: 'h-id,old'})
    expect(drop.apply(c)!.headers!.map(h => h.key)).toEqual(['h-name'])
  })
  it('keeps every other property of source and sink records (source offsets, kafka offsets)', () => {
    const t = transform(T + 'RegexRouter', {regex: '(.*)', replacement: 'p.$1'})
    const src = {sourcePartition: {table: 'a'}, sourceOffset: {id: 3}, topic: 't', partition: null, valueSchema: null, value: 1}
    expect(t.apply(src)).toEqual({...src, topic: 'p.t'})
    const sink = {topic: 't', kafkaPartition: 0, kafkaOffset: 9, keySchema: null, key: null, valueSchema: null, value: 1, timestamp: 5}
    expect(t.apply(sink)).toEqual({...sink, topic: 'p.t'})
  })
})

describe('predicates and the chain from a connector config', () => {
  const base = {
    'transforms': 'route', 'transforms.route.type': T + 'RegexRouter', 'transforms.route.regex': '(.*)', 'transforms.route.replacement': 'x-$1',
  }
  it.each([
    ['HasHeaderKey', {'predicates.p.name': 'trace'}, false, [true, false]],
    ['HasHeaderKey', {'predicates.p.name': 'trace'}, true, [false, true]],
    ['RecordIsTombstone', {}, false, [false, true]],
    ['RecordIsTombstone', {}, true, [true, false]],
  ] as const)('%s (negate=%s) decides which records are transformed', (pred, extra, negate, expected) => {
    const chain = buildTransformationChain({...base, 'transforms.route.predicate': 'p', 'transforms.route.negate': String(negate), predicates: 'p', 'predicates.p.type': P + pred, ...extra})
    const withHeader = rec({value: 1, headers: [{key: 'trace', value: null}]})
    const tombstone = rec({value: null})
    expect([chain.apply(withHeader)!.topic === 'x-orders', chain.apply(tombstone)!.topic === 'x-orders']).toEqual(expected)
  })
  it('applies stages in order and stops at a drop', () => {
    const chain = buildTransformationChain({transforms: 'a,drop,b', 'transforms.a.type': 'RegexRouter', 'transforms.a.regex': 'orders', 'transforms.a.replacement': 'gone', 'transforms.drop.type': T + 'Filter', 'transforms.drop.predicate': 'g', predicates: 'g', 'predicates.g.type': 'TopicNameMatches', 'predicates.g.pattern': 'gone', 'transforms.b.type': T + 'RegexRouter', 'transforms.b.regex': '(.*)', 'transforms.b.replacement': '$1-b'})
    expect(chain.apply(rec({}))).toBeNull()
    expect(chain.apply(rec({topic: 'other'}))!.topic).toBe('other-b')
    chain.close()
  })
  it('validation lists each bad field of transforms and predicates', () => {
    const {response} = validateConnectorConfig(registry, {
      'name': 'v', 'connector.class': 'FileStreamSink', 'topics': 't', 'file': '/dev/null',
      'transforms': 'a,b,c,d', 'transforms.a.type': T + 'Nope', 'transforms.c.type': T + 'MaskField$Value',
      'transforms.d.type': T + 'RegexRouter', 'transforms.d.regex': '(', 'transforms.d.replacement': 'x', 'transforms.d.predicate': 'missing', 'transforms.d.negate': 'maybe',
      'predicates': 'p', 'predicates.p.type': P + 'TopicNameMatches',
    })
    const errs = response.configs.filter(c => c.value.errors.length > 0).map(c => [c.value.name, c.value.errors[0]])
    expect(errs).toEqual([
      ['transforms.a.type', `Invalid value ${T}Nope for configuration transforms.a.type: Class ${T}Nope could not be found.`],
      ['transforms.b.type', 'Missing required configuration "transforms.b.type" which has no default value.'],
      ['transforms.c.fields', 'Missing required configuration "fields" which has no default value.'],
      ['transforms.d.predicate', 'Invalid value missing for configuration transforms.d.predicate: Predicate alias missing was not found in \'predicates\''],
      ['transforms.d.negate', 'Invalid value maybe for configuration transforms.d.negate: Expected value to be either true or false'],
      ['transforms.d.regex', expect.stringContaining('Invalid value ( for configuration transforms.d.regex:')],
      ['predicates.p.pattern', 'Missing required configuration "pattern" which has no default value.'],
    ])
    expect(response.error_count).toBe(errs.length)
    expect(() => buildTransformationChain({transforms: 'a', 'transforms.a.type': 'Nope'})).toThrow(ConfigException)
  })
  it('SimpleDateFormat rejects letters it does not know', () => {
    expect(() => new SimpleDateFormat('yyyy-QQ')).toThrow('Illegal pattern character \'Q\'')
    expect(new SimpleDateFormat('yyyyMMddHHmmss').parse('20231114221320')).toBe(1_700_000_000_000)
  })
})
