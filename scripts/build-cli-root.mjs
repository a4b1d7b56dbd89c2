// Runs after `tsc` in `npm run build`: makes dist/ the oclif root that bin/run.js starts from,
// with a command manifest written from the very build it describes.
//
// Without a manifest oclif imports every command module at every start, only to list the commands
// (about 60 ms of each `kcli` invocation). A manifest at the project root would go stale whenever a
// command changes without a rebuild, and bin/dev.js (which runs the TypeScript sources) would then
// trust it; so the project root never has one. dist/ gets its own package.json (the root's, with
// commands at ./commands) and oclif.manifest.json instead: both are replaced by every build,
// together with the code they describe, and bin/dev.js never reads them.
//
//   node scripts/build-cli-root.mjs        (plain Node: it runs on a fresh clone before tsx exists)

import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Plugin} from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

const distPackage = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  type: pkg.type,
  license: pkg.license,
  oclif: {...pkg.oclif, commands: './commands'},
  // oclif loads a core plugin only if it is also a dependency of the root.
  dependencies: pkg.dependencies,
}
writeFileSync(join(dist, 'package.json'), `${JSON.stringify(distPackage, null, 2)}\n`)

// As `oclif manifest` does it: load the plugin without any manifest, failing on a command that
// cannot be loaded, and keep flag defaults marked noCacheDefault out of the file.
const plugin = new Plugin({errorOnManifestCreate: true, ignoreManifest: true, respectNoCacheDefault: true, root: dist, type: 'core'})
await plugin.load()
const count = Object.keys(plugin.manifest.commands).length
if (count === 0) throw new Error(`no commands found under ${join(dist, 'commands')}`)
writeFileSync(join(dist, 'oclif.manifest.json'), JSON.stringify(plugin.manifest))
console.log(`dist/oclif.manifest.json: ${count} commands`)
