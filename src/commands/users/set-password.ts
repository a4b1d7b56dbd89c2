import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {failIfAny} from '../../lib/client/cli-input.js'
import type {UserChange} from '../../lib/client/users.js'
import {MAX_ITERATIONS, MIN_ITERATIONS, SCRAM_MECHANISMS, type ScramMechanism} from '../../lib/sasl/scram.js'

export interface UsersSetPasswordResult extends UserChange {
  mechanism: string
  iterations: number
}

/** Standard input up to its end, without the final newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export default class UsersSetPassword extends BaseCommand<typeof UsersSetPassword> {
  static override args = {
    user: Args.string({description: 'The user.', required: true}),
  }
  static override description = `Creates a SASL/SCRAM user or changes its password (AlterUserScramCredentials, KIP-554; kafka-configs --alter --add-config 'SCRAM-SHA-256=[password=...]' --entity-type users does the same). kcli salts and hashes the password (PBKDF2, a new random 32-byte salt): only the salt, the iteration count and the salted password go to the cluster. The password comes from --password-stdin, or is asked for on a terminal (--password also exists, but shows in the process list and shell history).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alice', description: 'Asks for the password on the terminal; SCRAM-SHA-512.'},
    {command: 'printf %s "$PW" | <%= config.bin %> <%= command.id %> alice --mechanism SCRAM-SHA-256 --password-stdin', description: 'From a script.'},
    {command: '<%= config.bin %> <%= command.id %> alice --iterations 8192 --password-stdin --json < pw.txt', description: 'More iterations, JSON result.'},
  ]
  static override flags = {
    iterations: Flags.integer({default: MIN_ITERATIONS, max: MAX_ITERATIONS, min: MIN_ITERATIONS, summary: `PBKDF2 iterations (${MIN_ITERATIONS}-${MAX_ITERATIONS}).`}),
    mechanism: Flags.string({default: 'SCRAM-SHA-512', options: [...SCRAM_MECHANISMS], summary: 'The SCRAM mechanism.'}),
    password: Flags.string({summary: 'The password (visible to other users of the machine: prefer --password-stdin).'}),
    'password-stdin': Flags.boolean({summary: 'Read the password from standard input.'}),
  }
  static override summary = 'Create a SASL/SCRAM user or change its password.'

  async run(): Promise<UsersSetPasswordResult> {
    const {flags} = this
    const user = this.args.user
    if (flags.password !== undefined && flags['password-stdin']) throw new UsageError('give --password or --password-stdin, not both')
    let password = flags.password
    if (password === undefined && flags['password-stdin']) password = await readStdin()
    if (password === undefined) {
      if (!(process.stdin.isTTY && process.stdout.isTTY)) throw new UsageError('no password: give --password-stdin (or run on a terminal to be asked)')
      const {password: ask} = await import('@inquirer/prompts')
      password = await ask({mask: '*', message: `Password for ${user}`})
      const again = await ask({mask: '*', message: 'Again'})
      if (again !== password) throw new UsageError('the passwords differ')
    }
    if (password === '') throw new UsageError('the password is empty')
    const {UsersAdmin} = await import('../../lib/client/users.js')
    const admin = new UsersAdmin(await this.kafka())
    const mechanism = flags.mechanism as ScramMechanism
    const change = await this.withTimeout('setting the password', admin.setPassword(user, mechanism, password, flags.iterations))
    const result = {...change, iterations: flags.iterations, mechanism}
    if (change.errorCode === 0) this.out.line(`${mechanism} password set for ${user} (${flags.iterations} iterations)`)
    failIfAny(change.errorCode === 0 ? [] : [{...change, item: `user ${user}`}], 1, 'users', result)
    return result
  }
}
