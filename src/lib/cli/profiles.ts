// Profiles: named sets of flag values (bootstrap servers and client settings) kept in
// $XDG_CONFIG_HOME/kcli/profiles.json (~/.config/kcli/profiles.json when XDG_CONFIG_HOME is unset).
//
//   {"current": "prod", "profiles": {"prod": {"bootstrap-server": "k1:9092,k2:9092", "timeout": "10000"}}}
//
// Keys are flag names; a command takes a profile's value for each of its flags that was given
// neither on the command line nor through its KCLI_* environment variable (see base-command.ts):
// flag > environment > profile > default. The profile is `--profile NAME` (env KCLI_PROFILE),
// else the current one. The file is written atomically (temporary file + rename), mode 0600.

import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'

export interface ProfilesFile {
  current: string | null
  profiles: Record<string, Record<string, string>>
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config')
  return join(base, 'kcli')
}

export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'profiles.json')
}

/** The profiles file, or an empty one when there is none. Throws on a file that is not valid JSON. */
export function loadProfiles(env: NodeJS.ProcessEnv = process.env): ProfilesFile {
  const path = profilesPath(env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {current: null, profiles: {}}
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`)
  }
  const file = parsed as Partial<ProfilesFile>
  const profiles: ProfilesFile['profiles'] = {}
  for (const [name, values] of Object.entries(file.profiles ?? {})) {
    if (values && typeof values === 'object') profiles[name] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]))
  }
  return {current: typeof file.current === 'string' && file.current in profiles ? file.current : null, profiles}
}

export function saveProfiles(file: ProfilesFile, env: NodeJS.ProcessEnv = process.env): string {
  const path = profilesPath(env)
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, {mode: 0o600})
  renameSync(temporary, path)
  return path
}

/** The profile a command uses: `name` if given (it must exist), else the current one, else none. */
export function resolveProfile(name: string | undefined, env: NodeJS.ProcessEnv = process.env): {name: string; values: Record<string, string>} | undefined {
  const file = loadProfiles(env)
  if (name !== undefined) {
    const values = file.profiles[name]
    if (!values) throw new Error(`no profile named "${name}" in ${profilesPath(env)}`)
    return {name, values}
  }
  if (file.current === null) return undefined
  return {name: file.current, values: file.profiles[file.current]!}
}
