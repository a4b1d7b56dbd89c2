import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import ProfileAdd from '../../../src/commands/profile/add.js'
import ProfileList, {type ProfileListResult} from '../../../src/commands/profile/list.js'
import ProfileRemove from '../../../src/commands/profile/remove.js'
import ProfileUse from '../../../src/commands/profile/use.js'
import TopicsList from '../../../src/commands/topics/list.js'
import {runCommand} from '../../lib/cli/run-command.js'
import {removeDir, startBroker, tempDir, type TestBroker} from '../helpers.js'

let config: string
let broker: TestBroker
const env = () => ({KCLI_BOOTSTRAP_SERVER: undefined, KCLI_PROFILE: undefined, NO_COLOR: '1', XDG_CONFIG_HOME: config})
beforeAll(async () => {
  config = tempDir('kcli-config-')
  broker = await startBroker()
})
afterAll(async () => {
  await broker?.stop()
  if (config) removeDir(config)
})

describe('kcli profile', () => {
  it('adds, lists, uses and removes profiles in $XDG_CONFIG_HOME/kcli', async () => {
    const empty = await runCommand(ProfileList, [], {env: env()})
    expect(empty.stdout).toBe('no profiles yet (add one with: kcli profile add NAME --servers HOST:PORT)\n')

    const add = await runCommand(ProfileAdd, ['local', '--servers', broker.bootstrap, '--set', 'timeout=5000'], {env: env()})
    expect(add.stderr).toBe('')
    expect(add.exitCode).toBe(0)
    const path = join(config, 'kcli', 'profiles.json')
    expect(add.stdout).toBe(`saved profile local (current) in ${path}\n`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({current: 'local', profiles: {local: {'bootstrap-server': broker.bootstrap, timeout: '5000'}}})

    await runCommand(ProfileAdd, ['other', '--servers', '127.0.0.1:1'], {env: env()})
    const list = await runCommand<ProfileListResult>(ProfileList, [], {env: env()})
    expect(list.stdout.split('\n')).toEqual(['   NAME   BOOTSTRAP SERVER  SETTINGS', `*  local  ${broker.bootstrap.padEnd(16)}  timeout=5000`, '   other  127.0.0.1:1', ''])
    const listed = JSON.parse((await runCommand(ProfileList, ['--json'], {env: env()})).stdout) as ProfileListResult
    expect(listed.current).toBe('local')
    expect(listed.profiles.map((p) => p.name)).toEqual(['local', 'other'])

    // The current profile supplies --bootstrap-server and --timeout.
    const topics = await runCommand(TopicsList, [], {env: env()})
    expect(topics.stderr).toBe('')
    expect(topics.exitCode).toBe(0)

    // Flags override the profile; KCLI_* variables override both.
    const flag = await runCommand(TopicsList, ['--bootstrap-server', broker.bootstrap, '--profile', 'other'], {env: env()})
    expect(flag.exitCode).toBe(0)
    const fromEnv = await runCommand(TopicsList, ['--profile', 'other'], {env: {...env(), KCLI_BOOTSTRAP_SERVER: broker.bootstrap}})
    expect(fromEnv.exitCode).toBe(0)
    const envOverFlag = await runCommand(TopicsList, ['--bootstrap-server', '127.0.0.1:1', '--profile', 'other'], {env: {...env(), KCLI_BOOTSTRAP_SERVER: broker.bootstrap}})
    expect(envOverFlag.exitCode).toBe(0)
    expect(envOverFlag.stderr).toBe(`Warning: KCLI_BOOTSTRAP_SERVER=${broker.bootstrap} overrides --bootstrap-server on the command line\n`)
    const profileViaEnv = await runCommand(TopicsList, ['--profile', 'nope'], {env: {...env(), KCLI_PROFILE: 'local'}})
    expect(profileViaEnv.exitCode).toBe(0)

    const use = await runCommand(ProfileUse, ['other'], {env: env()})
    expect(use.stdout).toBe('current profile: other\n')
    const viaOther = await runCommand(TopicsList, ['--timeout', '1500'], {env: env()})
    expect(viaOther.exitCode).toBe(1)
    expect(viaOther.stderr).toMatch(/127\.0\.0\.1:1|timed out/)

    const unknown = await runCommand(TopicsList, ['--profile', 'nope'], {env: env()})
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toMatch(/no profile named "nope"/)

    const remove = await runCommand(ProfileRemove, ['other', '--json'], {env: env()})
    expect(JSON.parse(remove.stdout)).toEqual({current: null, removed: 'other'})
    expect((await runCommand(ProfileRemove, ['other'], {env: env()})).exitCode).toBe(1)
    expect((await runCommand(ProfileUse, ['other'], {env: env()})).exitCode).toBe(1)
    expect(existsSync(path)).toBe(true)
  })

  it('rejects bad servers (exit 2)', async () => {
    const run = await runCommand(ProfileAdd, ['bad', '--servers', 'a:99999'], {env: env()})
    expect(run.exitCode).toBe(2)
  })
})
