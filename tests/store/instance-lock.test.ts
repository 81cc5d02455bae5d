import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { acquireInstanceLock, InstanceLockedError, isStale, readInstanceLock, type LockHolder } from '../../src/store/instance-lock.js';
import { tempDir } from '../e2e/helpers.js';

/** The one-process-per-database lock on a real SQLite file, with a controlled clock and pid table. */

let stores: Store[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const s of stores) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  stores = [];
  dirs = [];
});

async function twoStores(): Promise<[Store, Store]> {
  const dir = tempDir('manchete-lock-');
  dirs.push(dir);
  const url = `sqlite:${join(dir, 'db.sqlite')}`;
  const a = await openStore(url);
  const b = await openStore(url);
  stores.push(a, b);
  return [a, b];
}

const T0 = new Date('2026-12-01T10:00:00Z');

describe('instance lock', () => {
  it('a second holder is refused with a message naming the first (pid, host, since); release lets it in', async () => {
    const [a, b] = await twoStores();
    const alive = new Set([100, 200]);
    const first = await acquireInstanceLock(a.db, { host: 'h1', pid: 100, clock: () => T0, isAlive: (p) => alive.has(p) });
    const err = await acquireInstanceLock(b.db, { host: 'h1', pid: 200, clock: () => T0, isAlive: (p) => alive.has(p) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstanceLockedError);
    expect((err as Error).message).toBe(
      'another Manchete is already running on this database (pid 100 on h1, since 2026-12-01T10:00:00.000Z, last seen 2026-12-01T10:00:00.000Z); stop it first, or point DATABASE_URL elsewhere (SQLite serves one process; to run several instances use PostgreSQL: DATABASE_URL=postgres://…)',
    );
    expect((await readInstanceLock(a.db))?.holder).toBe(first.holder);
    await first.release();
    expect(await readInstanceLock(a.db)).toBeNull();
    const second = await acquireInstanceLock(b.db, { host: 'h1', pid: 200, clock: () => T0, isAlive: (p) => alive.has(p) });
    expect(second.holder).toMatch(/^h1:200:[0-9a-f]{12}$/);
    await second.release();
  });

  it('a holder whose pid is dead on this host (SIGKILL) is taken over at once, with a takeover report', async () => {
    const [a, b] = await twoStores();
    await acquireInstanceLock(a.db, { host: 'h1', pid: 100, clock: () => T0, isAlive: () => true });
    const taken: LockHolder[] = [];
    const lock = await acquireInstanceLock(b.db, { host: 'h1', pid: 200, clock: () => T0, isAlive: (p) => p === 200, onTakeover: (h) => taken.push(h) });
    expect(taken.map((h) => h.pid)).toEqual([100]);
    expect((await readInstanceLock(b.db))?.holder).toBe(lock.holder);
    await lock.release();
  });

  it('a container restarted with the same pid (1 again) takes over its own old lock', async () => {
    const [a, b] = await twoStores();
    await acquireInstanceLock(a.db, { host: 'c0ffee', pid: 1, clock: () => T0, isAlive: () => true });
    const lock = await acquireInstanceLock(b.db, { host: 'c0ffee', pid: 1, clock: () => T0, isAlive: () => true });
    expect((await readInstanceLock(b.db))?.holder).toBe(lock.holder);
    await lock.release();
  });

  it('another host is refused while its heartbeat is fresh, and taken over once the row expires', async () => {
    const [a, b] = await twoStores();
    let now = T0;
    await acquireInstanceLock(a.db, { host: 'h1', pid: 100, clock: () => now, ttlMs: 30_000, heartbeatMs: 3_600_000 });
    now = new Date(T0.getTime() + 29_000);
    await expect(acquireInstanceLock(b.db, { host: 'h2', pid: 100, clock: () => now })).rejects.toBeInstanceOf(InstanceLockedError);
    now = new Date(T0.getTime() + 30_000);
    const lock = await acquireInstanceLock(b.db, { host: 'h2', pid: 100, clock: () => now });
    expect((await readInstanceLock(b.db))?.host).toBe('h2');
    await lock.release();
  });

  it('the heartbeat keeps the row alive, and reports a lock lost to another process', async () => {
    const [a, b] = await twoStores();
    let now = T0;
    const lost: (LockHolder | null)[] = [];
    const lock = await acquireInstanceLock(a.db, { host: 'h1', pid: 100, clock: () => now, ttlMs: 3_000, heartbeatMs: 50, onLost: (h) => lost.push(h) });
    now = new Date(T0.getTime() + 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await readInstanceLock(a.db))!.expiresAt.getTime()).toBe(now.getTime() + 3_000);
    // Someone decides we are dead (a clock far ahead) and takes over: the next beat notices.
    const other = await acquireInstanceLock(b.db, { host: 'h2', pid: 7, clock: () => new Date(now.getTime() + 60_000) });
    await new Promise((r) => setTimeout(r, 300));
    expect(lost.map((h) => h?.holder)).toEqual([other.holder]);
    await lock.release();
    // Releasing a lost lock does not remove the new holder's row.
    expect((await readInstanceLock(a.db))?.holder).toBe(other.holder);
    await other.release();
  });

  it('isStale: expired, or on this host a dead pid or our own', () => {
    const h: LockHolder = { holder: 'h1:5:x', host: 'h1', pid: 5, startedAt: T0, heartbeatAt: T0, expiresAt: new Date(T0.getTime() + 1000) };
    expect(isStale(h, { host: 'h1', pid: 6 }, T0, () => true)).toBe(false);
    expect(isStale(h, { host: 'h1', pid: 6 }, T0, () => false)).toBe(true);
    expect(isStale(h, { host: 'h1', pid: 5 }, T0, () => true)).toBe(true);
    expect(isStale(h, { host: 'h2', pid: 6 }, T0, () => false)).toBe(false);
    expect(isStale(h, { host: 'h2', pid: 6 }, new Date(T0.getTime() + 1000), () => true)).toBe(true);
  });
});
