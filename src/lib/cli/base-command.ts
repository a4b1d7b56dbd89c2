// The base classes of the kcli commands.
//
// KcliCommand is what every command extends, directly or through BaseCommand. It gives
// - the global flag --json (oclif's enableJsonFlag), and no other global flag;
// - a KCLI_* environment variable for each flag of the command but --json, named after it
//   (--bootstrap-server: KCLI_BOOTSTRAP_SERVER; multiple values comma-separated, booleans
//   true/1/yes); only the command's own flags read one, so KCLI_BOOTSTRAP_SERVER never reaches
//   `server start`;
// - profiles (src/lib/cli/profiles.ts), for a command that has --profile: named sets of flag
//   values. Precedence, as the toolkit's spec puts it ("flags override the profile, env KCLI_*
//   override both"): environment > command line > profile > default. A variable that overrides a
//   flag given on the command line is reported on stderr, so that it never does so silently;
// - parsed `this.flags` / `this.args`, typed from the subclass's static flags and args;
// - `this.out` (src/lib/cli/output.ts) for tables and lines for people, silent with --json;
// - the error-to-exit-code mapping of src/lib/cli/errors.ts: one line on stderr
//   (`{"error": {...}}` with --json), exit 0 ok, 1 Kafka or per-item failure, 2 usage.
// The commands that talk to no cluster extend it directly: `server start` (the broker),
// `protocol`, `profile` and `log dump`. Their --help lists no client flag, and one given to them
// is a usage error (exit 2).
//
// BaseCommand extends it for the commands that talk to a cluster: the client flags (--help's
// CLIENT FLAGS) --bootstrap-server, --timeout (ms), --profile, --command-config and -X, and
// `this.kafka()`, a client (src/lib/client) for them, closed when the command ends.
//
// A command's run() returns a typed result; with --json that result, and nothing else, is what
// goes to stdout. Without --json, run() prints for people through `this.out` and the result is
// not printed. So:
//
//   export default class TopicsList extends BaseCommand<typeof TopicsList> {
//     static override flags = {...}
//     async run(): Promise<TopicsListResult> {
//       const result = await listTopics(this.bootstrapServers, this.flags.timeout)
//       this.out.table([{header: 'Topic'}, ...], result.topics.map(...))
//       return result
//     }
//   }

import {readFileSync} from 'node:fs'

import {Command, Flags, type Interfaces} from '@oclif/core'

import type {KafkaClient} from '../client/client.js'
import type {SecuritySettings} from '../client/security.js'
import {type BrokerAddress, DEFAULT_BOOTSTRAP_SERVER, parseBootstrapServers} from './bootstrap-server.js'
import {PartialFailureError, ReportedError, TimeoutError, toKcliError, UsageError} from './errors.js'
import {Output, toJsonText} from './output.js'
import {resolveProfile} from './profiles.js'

export const DEFAULT_TIMEOUT_MS = 30_000

/** The flags of every command that talks to a cluster (BaseCommand's), in --help's CLIENT FLAGS. */
export const CLIENT_FLAGS = {
  'bootstrap-server': Flags.string({
    default: DEFAULT_BOOTSTRAP_SERVER,
    helpGroup: 'CLIENT',
    helpValue: '<host:port,...>',
    async parse(input) {
      parseBootstrapServers(input)
      return input
    },
    summary: 'Broker(s) to connect to, comma-separated.',
  }),
  'client-config': Flags.string({
    char: 'X',
    helpGroup: 'CLIENT',
    helpValue: '<key=value>',
    multiple: true,
    // -X a=b orders: `orders` is the command's argument, not a second property.
    multipleNonGreedy: true,
    summary: 'A client property, e.g. security.protocol=SASL_SSL (repeatable; wins over --command-config; librdkafka names as for kcat -X work too).',
  }),
  'command-config': Flags.string({
    helpGroup: 'CLIENT',
    helpValue: '<file>',
    summary: "Client properties file, as Kafka's tools take it: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, ssl.keystore.*.",
  }),
  profile: Flags.string({
    helpGroup: 'CLIENT',
    helpValue: '<name>',
    summary: 'Take unset flags from this profile (see `kcli profile list`); default: the current profile.',
  }),
  timeout: Flags.integer({
    default: DEFAULT_TIMEOUT_MS,
    helpGroup: 'CLIENT',
    helpValue: '<ms>',
    min: 1,
    summary: 'How long to wait for the cluster, in milliseconds.',
  }),
}

export type ClientFlags = typeof CLIENT_FLAGS
export type InferredFlags<T extends typeof Command, B extends Interfaces.FlagInput = Interfaces.FlagInput<{}>> = Interfaces.InferredFlags<B & T['flags']>
export type InferredArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** What every kcli command extends: --json, KCLI_* variables, profiles, output and exit codes (see above). */
export abstract class KcliCommand<T extends typeof Command, B extends Interfaces.FlagInput = Interfaces.FlagInput<{}>> extends Command {
  static override enableJsonFlag = true
  /** Flags that take no KCLI_* variable (their values have another environment source). */
  static withoutEnv: readonly string[] = []

  protected args!: InferredArgs<T>
  protected flags!: InferredFlags<T, B>
  protected out!: Output
  /** All positional arguments, in order (for commands with strict = false taking several). */
  protected positionals: string[] = []
  /** The profile whose values filled unset flags, if any. */
  protected profileName: string | undefined

  override async init(): Promise<void> {
    await super.init()
    this.out = new Output({json: this.jsonEnabled()})
    const ctor = this.ctor as typeof KcliCommand
    let parsed
    try {
      parsed = await this.parse({
        args: ctor.args,
        baseFlags: ctor.baseFlags,
        enableJsonFlag: ctor.enableJsonFlag,
        flags: ctor.flags,
        strict: ctor.strict,
      })
    } catch (error) {
      throw UsageError.fromParseError(error)
    }

    const flags = parsed.flags as Record<string, unknown>
    const definitions = {...ctor.baseFlags, ...ctor.flags} as Record<string, FlagDefinition>
    const metadata = parsed.metadata.flags as Record<string, {setFromDefault?: boolean} | undefined>
    const fromEnv = await this.applyEnvironment(flags, metadata, definitions, ctor.withoutEnv)
    await this.applyProfile(flags, metadata, definitions, fromEnv)
    this.flags = flags as InferredFlags<T, B>
    this.args = parsed.args as InferredArgs<T>
    this.positionals = (parsed.argv as unknown[]).map(String)
  }

  /** Sets flags from their KCLI_* variables; returns the names set. */
  private async applyEnvironment(flags: Record<string, unknown>, metadata: Record<string, {setFromDefault?: boolean} | undefined>, definitions: Record<string, FlagDefinition>, withoutEnv: readonly string[]): Promise<Set<string>> {
    const set = new Set<string>()
    for (const [name, definition] of Object.entries(definitions)) {
      if (name === 'json' || withoutEnv.includes(name)) continue
      const variable = envVariable(name)
      const raw = process.env[variable]
      if (raw === undefined || raw === '') continue
      let value
      try {
        value = await parseFlagValue(definition, raw)
      } catch (error) {
        throw new UsageError(`${variable}: ${(error as Error).message}`)
      }
      if (givenOnCommandLine(name, flags, metadata) && JSON.stringify(flags[name]) !== JSON.stringify(value)) this.out.errorLine(`Warning: ${variable}=${raw} overrides --${name} on the command line`)
      flags[name] = value
      set.add(name)
    }
    return set
  }

  /** Fills flags given neither on the command line nor by a KCLI_* variable with the profile's values. */
  private async applyProfile(flags: Record<string, unknown>, metadata: Record<string, {setFromDefault?: boolean} | undefined>, definitions: Record<string, FlagDefinition>, fromEnv: ReadonlySet<string>): Promise<void> {
    if (!('profile' in definitions)) return
    let profile
    try {
      profile = resolveProfile(flags.profile as string | undefined)
    } catch (error) {
      throw new UsageError(`--profile: ${(error as Error).message}`)
    }
    if (!profile) return
    this.profileName = profile.name
    for (const [name, raw] of Object.entries(profile.values)) {
      const definition = definitions[name]
      if (!definition || name === 'profile' || name === 'json') continue
      const given = fromEnv.has(name) || givenOnCommandLine(name, flags, metadata)
      if (given) continue
      try {
        flags[name] = await parseFlagValue(definition, raw)
      } catch (error) {
        throw new UsageError(`profile ${profile.name}: ${name}: ${(error as Error).message}`)
      }
    }
  }

  /**
   * Report the error once and exit with its code. Never calls super.catch(), which would set
   * process.exitCode (and so fail a test runner that runs commands in-process).
   */
  protected override async catch(error: Error): Promise<never> {
    if (error instanceof ReportedError) throw error
    this.out ??= new Output({json: this.jsonEnabled()})
    const kcliError = toKcliError(error)
    const json = this.jsonEnabled()
    if (json) {
      // A partial failure still has a result: print it, so that scripts see what succeeded.
      if (kcliError instanceof PartialFailureError && kcliError.result !== undefined) this.logJson(kcliError.result)
      this.out.errorLine(toJsonText({error: kcliError.toJson()}))
    } else {
      const hint = kcliError.kind === 'usage' && this.id ? ` See '${this.config.bin} ${this.id.replaceAll(':', ' ')} --help'.` : ''
      this.out.errorLine(`${this.out.errorColor.red('Error:')} ${kcliError.message}${hint}`)
      if (kcliError.kind === 'internal' && process.env.DEBUG && error.stack) this.out.errorLine(error.stack)
    }

    throw new ReportedError(kcliError.exitCode, error)
  }

  /** The --json output: pretty JSON, never coloured, bigint as exact numbers. */
  override logJson(json: unknown): void {
    this.out.printJson(json)
  }
}

/** What the commands that talk to a cluster extend: KcliCommand with the client flags and a Kafka client. */
export abstract class BaseCommand<T extends typeof Command> extends KcliCommand<T, ClientFlags> {
  static override baseFlags = CLIENT_FLAGS

  private kafkaClient: KafkaClient | undefined

  /** --bootstrap-server as addresses (already validated while parsing). */
  protected get bootstrapServers(): BrokerAddress[] {
    return parseBootstrapServers(this.flags['bootstrap-server'])
  }

  /** A Kafka client for --bootstrap-server, --timeout and the security settings, made on first use and closed when the command ends. */
  protected async kafka(): Promise<KafkaClient> {
    if (!this.kafkaClient) {
      const {KafkaClient} = await import('../client/client.js')
      const timeout = this.flags.timeout
      this.kafkaClient = new KafkaClient({
        bootstrapServers: this.bootstrapServers,
        clientId: 'kcli',
        connectTimeoutMs: Math.min(timeout, 10_000),
        requestTimeoutMs: timeout,
        security: await this.security(),
      })
    }
    return this.kafkaClient
  }

  /** TLS and SASL from --command-config and -X (none without them). */
  private async security(): Promise<SecuritySettings | undefined> {
    const file = this.flags['command-config']
    const pairs = this.flags['client-config'] ?? []
    if (file === undefined && pairs.length === 0) return undefined
    const {parseProperties, SecurityConfigError, securityFromProperties} = await import('../client/security.js')
    const {parseKeyValue} = await import('../client/cli-input.js')
    let props: Map<string, string>
    try {
      props = file === undefined ? new Map() : parseProperties(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new UsageError(`--command-config: ${(error as Error).message}`)
    }
    for (const pair of pairs) props.set(...parseKeyValue(pair, '--client-config'))
    try {
      return securityFromProperties(props)
    } catch (error) {
      if (error instanceof SecurityConfigError) throw new UsageError(error.message)
      throw error
    }
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    const client = this.kafkaClient
    this.kafkaClient = undefined
    await client?.close()
    await super.finally(error)
  }

  /** Reject with a TimeoutError (exit 1) if `promise` takes longer than --timeout. */
  protected async withTimeout<R>(what: string, promise: Promise<R>): Promise<R> {
    const timeoutMs = this.flags.timeout
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs)
    })
    try {
      return await Promise.race([promise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

interface FlagDefinition {
  type: 'boolean' | 'option'
  multiple?: boolean
  options?: readonly string[]
  min?: number
  max?: number
  parse?: (input: string, context: unknown, options: unknown) => Promise<unknown>
}

/** Whether a flag has a value that oclif did not take from its default. */
function givenOnCommandLine(name: string, flags: Record<string, unknown>, metadata: Record<string, {setFromDefault?: boolean} | undefined>): boolean {
  return flags[name] !== undefined && metadata[name]?.setFromDefault !== true
}

/** The environment variable of a flag: --bootstrap-server -> KCLI_BOOTSTRAP_SERVER. */
export function envVariable(flag: string): string {
  return `KCLI_${flag.toUpperCase().replaceAll('-', '_')}`
}

/** A profile or environment value (always a string) as the flag would have parsed it. */
async function parseFlagValue(definition: FlagDefinition, raw: string): Promise<unknown> {
  if (definition.type === 'boolean') return raw === 'true' || raw === '1' || raw === 'yes'
  const values = definition.multiple ? raw.split(',').map((v) => v.trim()) : [raw]
  const parsed = []
  for (const value of values) {
    if (definition.options && !definition.options.includes(value)) throw new Error(`expected one of ${definition.options.join(', ')} but got ${value}`)
    parsed.push(definition.parse ? await definition.parse(value, {}, definition) : value)
  }
  return definition.multiple ? parsed : parsed[0]
}
