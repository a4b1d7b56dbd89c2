// The interactive produce prompt in a real terminal: kcli runs in a tmux session (a private tmux
// server, -L), the test types into it with send-keys and reads the screen with capture-pane.
// Skipped, with a message, when tmux is not installed.

import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import Consume from '../../src/commands/consume/index.js'
import TopicsCreate from '../../src/commands/topics/create.js'
import {repoRoot} from '../lib/cli/run-command.js'
import {kcli, startBroker, type TestBroker} from './helpers.js'
import {hasTmux, TmuxServer} from './tmux.js'

if (!hasTmux) console.warn('test/commands/produce-tmux.test.ts: tmux is not installed (apt-get install -y tmux); skipping the interactive prompt test')

const tmux = new TmuxServer(`kcli-test-${process.pid}`)

/** Starts `kcli <args>` (from source through tsx) in a new tmux window named `name`. */
function startKcli(name: string, args: string): void {
  const command = `cd ${repoRoot} && env KCLI_BOOTSTRAP_SERVER=${broker.bootstrap} NO_COLOR=1 TERM=xterm ${process.execPath} --import tsx ${join(repoRoot, 'bin/dev.js')} ${args}; echo "EXIT=$?"; sleep 60`
  const started = tmux.run('new-session', '-d', '-s', name, '-x', '120', '-y', '30', command)
  expect(started.status).toBe(0)
}

let broker: TestBroker
beforeAll(async () => {
  broker = await startBroker()
  await kcli(TopicsCreate, broker.bootstrap, ['chat'])
  await kcli(TopicsCreate, broker.bootstrap, ['other'])
})
afterAll(async () => {
  if (hasTmux) tmux.kill()
  await broker?.stop()
})

describe.skipIf(!hasTmux)('kcli produce at a prompt (tmux)', () => {
  it('asks for the topic, then produces record after record until an empty line', async () => {
    // From source through tsx, as test/e2e/harness.ts runs the broker: no build needed.
    const command = [
      `cd ${repoRoot}`,
      `&& env KCLI_BOOTSTRAP_SERVER=${broker.bootstrap} NO_COLOR=1 TERM=xterm ${process.execPath} --import tsx ${join(repoRoot, 'bin/dev.js')} produce --key-separator :`,
      '; echo "EXIT=$?"; sleep 60',
    ].join(' ')
    const started = tmux.run('new-session', '-d', '-s', 'kcli', '-x', '120', '-y', '30', command)
    expect(started.status).toBe(0)

    await tmux.waitFor('kcli', /Topic/)
    tmux.run('send-keys', '-t', 'kcli', 'cha')
    await tmux.waitFor('kcli', /chat/)
    tmux.run('send-keys', '-t', 'kcli', 'Enter')
    await tmux.waitFor('kcli', /Producing to chat/)
    tmux.run('send-keys', '-t', 'kcli', '-l', 'user1:hello')
    tmux.run('send-keys', '-t', 'kcli', 'Enter')
    await tmux.waitFor('kcli', /✓ chat-0@0/)
    tmux.run('send-keys', '-t', 'kcli', '-l', 'world')
    tmux.run('send-keys', '-t', 'kcli', 'Enter')
    await tmux.waitFor('kcli', /✓ chat-0@1/)
    tmux.run('send-keys', '-t', 'kcli', 'Enter')
    const end = await tmux.waitFor('kcli', /EXIT=\d+/)
    expect(end).toMatch(/produced 2 records to chat/)
    expect(end).toMatch(/EXIT=0/)

    const consumed = await kcli(Consume, broker.bootstrap, ['-t', 'chat', '--from-beginning', '--exit', '-f', '%k|%s\\n'])
    expect(consumed.stdout).toBe('user1|hello\n|world\n')
  })
  it('consume picks the topic on a terminal, prints records, and stops on Ctrl-C', async () => {
    startKcli('consume', 'consume --from-beginning')
    await tmux.waitFor('consume', /Topic/)
    tmux.run('send-keys', '-t', 'consume', '-l', 'chat')
    await tmux.waitFor('consume', /❯ chat/)
    tmux.run('send-keys', '-t', 'consume', 'Enter')
    const shown = await tmux.waitFor('consume', /chat-0@1 world/)
    expect(shown).toContain('chat-0@0 user1 hello')
    tmux.run('send-keys', '-t', 'consume', 'C-c')
    const end = await tmux.waitFor('consume', /EXIT=\d+/)
    expect(end).toMatch(/2 records/)
    expect(end).toMatch(/EXIT=0/)
  })

  it('topics delete asks before deleting on a terminal', async () => {
    startKcli('delete', 'topics delete other')
    await tmux.waitFor('delete', /Delete topic other and all its data\?/)
    tmux.run('send-keys', '-t', 'delete', 'y')
    tmux.run('send-keys', '-t', 'delete', 'Enter')
    const end = await tmux.waitFor('delete', /EXIT=\d+/)
    expect(end).toMatch(/│ other │ deleted │/) // a cli-table3 table on a terminal
    expect(end).toMatch(/EXIT=0/)
  })
})
