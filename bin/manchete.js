#!/usr/bin/env node
// The `manchete` command (and `npm start`): loads .env when present and runs the compiled CLI from dist/
// when that build is up to date with the sources; otherwise the TypeScript sources through tsx (a
// development checkout, or an install without dev dependencies). tsx is only loaded in that second case:
// it costs about 35 MB of memory for as long as the process runs.
import { existsSync } from 'node:fs';
import { buildIsFresh } from './build.js';

if (existsSync('.env')) process.loadEnvFile('.env');
let runCli;
if (buildIsFresh()) {
  ({ runCli } = await import('../dist/src/cli.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../src/cli.ts'));
}
process.exitCode = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`manchete: ${s}\n`),
  env: process.env,
});
