/**
 * The plugins a worker knows: the built-ins (FileStream connectors, the PostgreSQL/JDBC connectors
 * of postgres/, MirrorMaker 2's connectors of mirror/, the transforms and predicates of
 * transforms.ts), and npm packages found under
 * `plugin.path`. A plugin package is a directory with a package.json whose entry module (`exports`
 * "." or `main`, ES module or CommonJS) exports `plugins: PluginDescriptor[]` (api.ts). Each
 * `plugin.path` entry is such a package directory, or a directory holding such package directories
 * (as Kafka's plugin.path holds plugin directories); other entries are ignored with a warning.
 * Names resolve as Kafka resolves them: the full class name, the simple name, or the simple name
 * without its `Connector` suffix (`FileStreamSource`), or an alias the plugin declares.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import type {PluginDescriptor} from './api.js'
import {FileStreamSinkConnector, FileStreamSourceConnector, VERSION} from './file.js'
import {plugins as mirrorPlugins} from './mirror/index.js'
import {plugins as postgresPlugins} from './postgres/index.js'
import {plugins as transformPlugins} from './transforms.js'

export const BUILTIN_PLUGINS: PluginDescriptor[] = [
  {type: 'source', className: 'org.apache.kafka.connect.file.FileStreamSourceConnector', version: VERSION, create: () => new FileStreamSourceConnector()},
  {type: 'sink', className: 'org.apache.kafka.connect.file.FileStreamSinkConnector', version: VERSION, create: () => new FileStreamSinkConnector()},
  ...postgresPlugins,
  ...mirrorPlugins,
  ...transformPlugins,
]

export class PluginRegistry {
  readonly plugins: PluginDescriptor[] = []
  readonly warnings: string[] = []

  add(plugin: PluginDescriptor): void {
    if (this.plugins.some(p => p.className === plugin.className && p.type === plugin.type)) return
    this.plugins.push(plugin)
  }

  /** The plugin `name` designates among those of `types`, or undefined. */
  find(name: string, types: ReadonlyArray<PluginDescriptor['type']>): PluginDescriptor | undefined {
    const candidates = this.plugins.filter(p => types.includes(p.type))
    const n = name.trim()
    return candidates.find(p => p.className === n)
      ?? candidates.find(p => aliasesOf(p).includes(n))
  }

  connectors(): PluginDescriptor[] {
    return this.plugins.filter(p => p.type === 'source' || p.type === 'sink')
  }

  /** Kafka's message for a connector class that is not there. */
  static unknownConnector(name: string, registry: PluginRegistry): string {
    const available = registry.connectors().map(p => `PluginDesc{klass=class ${p.className}, name='${p.className}', version='${p.version}', type=${p.type}}`).join(', ')
    return `Failed to find any class that implements Connector and which name matches ${name}, available connectors are: ${available}`
  }
}

/** The simple name, and for connectors the simple name without `Connector`, plus declared aliases. */
export function aliasesOf(p: PluginDescriptor): string[] {
  const simple = p.className.slice(p.className.lastIndexOf('.') + 1)
  const out = [simple, ...(p.aliases ?? [])]
  if ((p.type === 'source' || p.type === 'sink') && simple.endsWith('Connector')) out.push(simple.slice(0, -'Connector'.length))
  return out
}

/** A registry of the built-ins only. */
export function builtinPlugins(): PluginRegistry {
  const registry = new PluginRegistry()
  for (const p of BUILTIN_PLUGINS) registry.add(p)
  return registry
}

/** The registry for a worker: built-ins, then `plugin.path` (comma-separated). */
export async function loadPlugins(pluginPath: string | undefined): Promise<PluginRegistry> {
  const registry = builtinPlugins()
  for (const entry of (pluginPath ?? '').split(',').map(s => s.trim()).filter(Boolean)) {
    const dir = resolve(entry)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      registry.warnings.push(`plugin.path entry ${entry} is not a directory: ignored`)
      continue
    }
    const packages = existsSync(join(dir, 'package.json')) ? [dir] : readdirSync(dir).map(d => join(dir, d)).filter(d => existsSync(join(d, 'package.json')))
    for (const pkg of packages) {
      try {
        for (const p of await loadPackage(pkg)) registry.add(p)
      } catch (error) {
        registry.warnings.push(`plugin ${pkg} could not be loaded: ${(error as Error).message}`)
      }
    }
  }
  return registry
}

async function loadPackage(dir: string): Promise<PluginDescriptor[]> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {main?: string; exports?: unknown}
  let entry: string | undefined
  const exp = manifest.exports
  if (typeof exp === 'string') entry = exp
  else if (exp && typeof exp === 'object') {
    const dot = (exp as Record<string, unknown>)['.'] ?? exp
    if (typeof dot === 'string') entry = dot
    else if (dot && typeof dot === 'object') entry = ((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default ?? (dot as Record<string, unknown>).require) as string | undefined
  }
  entry ??= manifest.main ?? 'index.js'
  const mod = (await import(pathToFileURL(join(dir, entry)).href)) as {plugins?: PluginDescriptor[]; default?: {plugins?: PluginDescriptor[]}}
  const plugins = mod.plugins ?? mod.default?.plugins
  if (!Array.isArray(plugins)) throw new Error('the package exports no `plugins` array')
  for (const p of plugins) {
    if (!p || typeof p.className !== 'string' || typeof p.create !== 'function' || !['source', 'sink', 'transformation', 'predicate'].includes(p.type)) throw new Error('a plugin needs type, className, version and create()')
  }
  return plugins
}
