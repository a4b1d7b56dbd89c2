#!/usr/bin/env node
// The installed CLI: runs the compiled commands in dist/, which `npm run build` makes an oclif
// root of its own with a command manifest (scripts/build-cli-root.mjs). bin/dev.js runs the
// TypeScript sources instead, with no manifest.
import {execute} from '@oclif/core'

await execute({dir: new URL('../dist/', import.meta.url).href})
