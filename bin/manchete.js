#!/usr/bin/env node
// The `manchete` command: loads .env when present and runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';
import { existsSync } from 'node:fs';

if (existsSync('.env')) process.loadEnvFile('.env');
register();
const { runCli } = await import('../src/cli.ts');
process.exitCode = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`manchete: ${s}\n`),
  env: process.env,
});
