import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIsFresh } from '../../bin/build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A tiny package laid out like Manchete: sources, tsconfigs, bin/ copied from this checkout, and optionally a build. */
function fakePackage(): string {
  const root = mkdtempSync(join(tmpdir(), 'manchete-build-'));
  dirs.push(root);
  mkdirSync(join(root, 'src'));
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'tsconfig.json'), '{}\n');
  writeFileSync(join(root, 'tsconfig.build.json'), '{"include":["src"]}\n');
  const cli = (from: string) =>
    `export async function runCli(args) { process.stdout.write('${from} ' + args.join(' ') + '\\n'); return 0; }\n`;
  writeFileSync(join(root, 'src', 'cli.ts'), cli('sources'));
  for (const f of ['build.js', 'manchete.js']) copyFileSync(join(ROOT, 'bin', f), join(root, 'bin', f));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'dist', 'src'), { recursive: true });
  writeFileSync(join(root, 'dist', 'src', 'cli.js'), cli('compiled'));
  return root;
}

const at = (path: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, t, t);
};

describe('npm start runs the compiled build', () => {
  it('the start script builds when stale, then runs bin/manchete.js start (never tsx directly)', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe('node bin/build.js --if-stale && node bin/manchete.js start');
    expect(scripts.start).not.toContain('tsx');
    expect(scripts.dev).toContain('--import tsx src/cli.ts start');
    expect(scripts.prepare).toBe('node bin/build.js --if-stale');
  });

  it('buildIsFresh: no stamp is stale; a stamp newer than every source is fresh; a later edit makes it stale', () => {
    const root = fakePackage();
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'src/cli.ts']) at(join(root, f), 60);
    expect(buildIsFresh(root)).toBe(false);
    writeFileSync(join(root, 'dist', '.build-stamp'), 'x\n');
    at(join(root, 'dist', '.build-stamp'), 30);
    expect(buildIsFresh(root)).toBe(true);
    at(join(root, 'src', 'cli.ts'), 10);
    expect(buildIsFresh(root)).toBe(false);
    at(join(root, 'src', 'cli.ts'), 60);
    at(join(root, 'tsconfig.build.json'), 10);
    expect(buildIsFresh(root)).toBe(false);
    at(join(root, 'tsconfig.build.json'), 60);
    rmSync(join(root, 'dist', 'src', 'cli.js'));
    expect(buildIsFresh(root)).toBe(false);
  });

  it('bin/manchete.js runs dist/ when the build is fresh and the sources through tsx when it is stale', () => {
    const root = fakePackage();
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'src/cli.ts']) at(join(root, f), 60);
    writeFileSync(join(root, 'dist', '.build-stamp'), 'x\n');
    at(join(root, 'dist', '.build-stamp'), 30);
    const run = () => spawnSync(process.execPath, [join(root, 'bin', 'manchete.js'), 'start'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const fresh = run();
    expect(fresh.stderr).toBe('');
    expect(fresh.stdout).toBe('compiled start\n');
    at(join(root, 'src', 'cli.ts'), 0);
    const stale = run();
    expect(stale.stdout).toBe('sources start\n');
  });
});
