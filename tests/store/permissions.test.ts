import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Sqlite from 'better-sqlite3';
import { openStore } from '../../src/store/db.js';

/**
 * The SQLite file holds the WhatsApp session keys: it, its -wal/-shm and a folder we create are the
 * owner's only. The umask of the test process is set to 0 (the most permissive) so the modes come from
 * the code, not from a friendly umask.
 */

const mode = (path: string) => statSync(path).mode & 0o777;

let dir: string;
let savedUmask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'manchete-perms-'));
  savedUmask = process.umask(0);
});
afterEach(() => {
  process.umask(savedUmask);
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite file permissions', () => {
  it('a fresh database, its -wal and -shm files are 0600 and the folder it creates 0700, even with umask 0', async () => {
    expect(process.umask()).toBe(0);
    const file = join(dir, 'data', 'manchete.db');
    const fixed: string[] = [];
    const store = await openStore(`sqlite:${file}`, { onPermissionsFixed: (m) => fixed.push(m) });
    try {
      // The migrations have written, so the WAL files exist.
      expect(existsSync(`${file}-wal`)).toBe(true);
      expect(existsSync(`${file}-shm`)).toBe(true);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
      expect(mode(join(dir, 'data'))).toBe(0o700);
      // A fresh file is created private, not fixed afterwards.
      expect(fixed).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('an existing world-readable database (and its -wal/-shm) is made 0600 at open, with a message naming it', async () => {
    const file = join(dir, 'old.db');
    // An old install: created by SQLite under umask 0 → 0644 here by chmod, with a live WAL left behind.
    const old = new Sqlite(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodSync(f, 0o644);
    const fixed: string[] = [];
    const store = await openStore(`sqlite:${file}`, { onPermissionsFixed: (m) => fixed.push(m) });
    try {
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
      expect(fixed).toHaveLength(3);
      expect(fixed[0]).toContain(file);
      expect(fixed[0]).toContain('0644');
      expect(fixed[0]).toContain('0600');
    } finally {
      await store.close();
      old.close();
    }
  });

  it('an existing folder is left as the operator made it; a private file is not reported', async () => {
    const file = join(dir, 'ok.db');
    writeFileSync(file, '');
    chmodSync(file, 0o600);
    chmodSync(dir, 0o755);
    const fixed: string[] = [];
    const store = await openStore(`sqlite:${file}`, { onPermissionsFixed: (m) => fixed.push(m) });
    await store.close();
    expect(mode(dir)).toBe(0o755);
    expect(mode(file)).toBe(0o600);
    expect(fixed).toEqual([]);
  });
});
