#!/usr/bin/env node
// The `manchete` command: runs the TypeScript CLI through tsx, loading .env when present.
import { register } from 'tsx/esm/api';
import { existsSync } from 'node:fs';

if (existsSync('.env') && typeof process.loadEnvFile === 'function') process.loadEnvFile('.env');
register();
await import('../src/cli.ts');
