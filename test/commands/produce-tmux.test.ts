// The interactive produce prompt in a real terminal: kcli runs in a tmux session (a private tmux
// server, -L), the test types into it with send-keys and reads the screen with capture-pane.
// Skipped, with a message, when tmux is not installed.

import {spawnSync} from 'node:child_process'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import Consume from '../../src/commands/consume/index.js'
import TopicsCreate from '../../src/commands/topics/create.js'
import {repoRoot} from '../lib/cli/run-command.js'
import {kcli, startBroker, type TestBroker} from './helpers.js'

const hasTmux = spawnSync('tmux', ['-V']).status === 0
if (!hasTmux) console.warn('test/commands/produce-tmux.test.ts: tmux is not installed (apt-get install -y tmux); skipping the interactive prompt test')

const server = `kcli-test-${process.pid}`
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', server, ...args], {encoding: 'utf8'})
const screen = () => tmux('capture-pane', '-p', '-t', 'kcli').stdout

async function waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = screen()
    if (pattern.test(text)) return text
    if (Date.now() > deadline) throw new Error(`screen never matched ${pattern}:\n${text}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

let broker: TestBroker
beforeAll(async () => {
  broker = await startBroker()
  await kcli(TopicsCreate, broker.bootstrap, ['chat'])
  await kcli(TopicsCreate, broker.bootstrap, ['other'])
})
afterAll(async () => {
  if (hasTmux) tmux('kill-server')
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
    const started = tmux('new-session', '-d', '-s', 'kcli', '-x', '120', '-y', '30', command)
    expect(started.status).toBe(0)

    await waitFor(/Topic/)
    tmux('send-keys', '-t', 'kcli', 'cha')
    await waitFor(/chat/)
    tmux('send-keys', '-t', 'kcli', 'Enter')
    await waitFor(/Producing to chat/)
    tmux('send-keys', '-t', 'kcli', '-l', 'user1:hello')
    tmux('send-keys', '-t', 'kcli', 'Enter')
    await waitFor(/✓ chat-0@0/)
    tmux('send-keys', '-t', 'kcli', '-l', 'world')
    tmux('send-keys', '-t', 'kcli', 'Enter')
    await waitFor(/✓ chat-0@1/)
    tmux('send-keys', '-t', 'kcli', 'Enter')
    const end = await waitFor(/EXIT=\d+/)
    expect(end).toMatch(/produced 2 records to chat/)
    expect(end).toMatch(/EXIT=0/)

    const consumed = await kcli(Consume, broker.bootstrap, ['-t', 'chat', '--from-beginning', '--exit', '-f', '%k|%s\\n'])
    expect(consumed.stdout).toBe('user1|hello\n|world\n')
  })
})
