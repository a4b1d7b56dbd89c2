// kcli in a real terminal for tests: a private tmux server (-L) per test file; sessions are
// started with a command line, typed into with send-keys and read with capture-pane.

import {spawnSync, type SpawnSyncReturns} from 'node:child_process'

export const hasTmux = spawnSync('tmux', ['-V']).status === 0

export class TmuxServer {
  constructor(private readonly name: string) {}

  run(...args: string[]): SpawnSyncReturns<string> {
    return spawnSync('tmux', ['-L', this.name, ...args], {encoding: 'utf8'})
  }

  screen(session: string): string {
    return this.run('capture-pane', '-p', '-t', session).stdout
  }

  /** Polls the screen of `session` every 100 ms until it matches; throws with the screen after `timeoutMs`. */
  async waitFor(session: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = this.screen(session)
      if (pattern.test(text)) return text
      if (Date.now() > deadline) throw new Error(`screen ${session} never matched ${pattern}:\n${text}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  kill(): void {
    this.run('kill-server')
  }
}
