/**
 * `npm run generate`: regenerates src/lib/protocol/generated from ../shared/kafka-reference
 * (Kafka 4.0.0's message definitions and error codes). The output is committed.
 */
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {generate} from './codegen/generate.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const referenceDir = process.env.KAFKA_REFERENCE_DIR ?? resolve(root, '../shared/kafka-reference')
const outDir = join(root, 'src/lib/protocol/generated')

const files = generate(referenceDir)
mkdirSync(outDir, {recursive: true})
for (const old of readdirSync(outDir)) if (!files.has(old)) rmSync(join(outDir, old))
for (const [name, code] of files) writeFileSync(join(outDir, name), code)
console.log(`wrote ${files.size} files to ${outDir}`)
