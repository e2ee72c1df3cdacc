#!/usr/bin/env node
import 'reflect-metadata'
import { main } from './cli-main.js'

// the `fastify-pachinko` bin: see cli-main.ts
process.exitCode = await main(process.argv.slice(2), { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) })
