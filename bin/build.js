#!/usr/bin/env node
// Compiles Manchete (tsc -p tsconfig.build.json → dist/) and records when, so `npm start` and
// bin/manchete.js can tell a fresh build from a stale one. `--if-stale` builds only when a source changed
// since the last build. Runs from `npm install`/`npm ci` (the `prepare` script), `npm start` and `npm run build`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
/** Written after a successful build, with the time the build started (an edit during it counts as newer). */
export const STAMP = join(ROOT, 'dist', '.build-stamp');
export const COMPILED_CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** The newest modification time (ms) among the build's inputs: the folders tsconfig.build.json includes and the tsconfigs. */
function newestSource(root) {
  let newest = 0;
  const visit = (path) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (/\.(ts|json)$/.test(path)) newest = Math.max(newest, st.mtimeMs);
  };
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  for (const dir of build.include ?? []) visit(join(root, dir));
  visit(join(root, 'tsconfig.json'));
  visit(join(root, 'tsconfig.build.json'));
  return newest;
}

/** True when `root`/dist/ holds a build at least as new as every source file (`root` is a parameter for the tests). */
export function buildIsFresh(root = ROOT) {
  try {
    return statSync(join(root, 'dist', '.build-stamp')).mtimeMs >= newestSource(root) && statSync(join(root, 'dist', 'src', 'cli.js')).isFile();
  } catch {
    return false;
  }
}

/** The TypeScript compiler, or null when dev dependencies are not installed (`npm install --omit=dev`). */
function tscPath() {
  try {
    return createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

/** Builds dist/; returns the exit code. */
export function build({ ifStale = false } = {}) {
  if (ifStale && buildIsFresh()) return 0;
  const tsc = tscPath();
  if (!tsc) {
    process.stderr.write(
      'manchete: TypeScript is not installed (dev dependencies omitted), so dist/ cannot be built here; `npm start` runs the sources through tsx instead (about 35 MB more). Build where dev dependencies are installed (`npm ci && npm prune --omit=dev` keeps dist/).\n',
    );
    return 0;
  }
  const started = new Date();
  process.stderr.write('manchete: compiling to dist/ (tsc -p tsconfig.build.json)…\n');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) {
    process.stderr.write('manchete: the build failed (see above); fix it, or run the sources directly with `npm run dev`\n');
    return r.status ?? 1;
  }
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${started.toISOString()}\n`);
  utimesSync(STAMP, started, started);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = build({ ifStale: process.argv.includes('--if-stale') });
}
