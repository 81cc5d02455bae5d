import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedStatements, openStore } from '../../src/store/db.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SQLite statements kept prepared', () => {
  it('hands out the same statement for the same SQL, drops the least recently used past the limit', () => {
    const sqlite = new Sqlite(':memory:');
    const db = cachedStatements(sqlite, 2);
    const a = db.prepare('select 1 as n');
    expect(db.prepare('select 1 as n')).toBe(a);
    const b = db.prepare('select 2 as n');
    db.prepare('select 1 as n'); // a is now the most recent
    db.prepare('select 3 as n'); // over the limit: b goes
    expect(db.prepare('select 1 as n')).toBe(a);
    expect(db.prepare('select 2 as n')).not.toBe(b);
    db.close();
    expect(sqlite.open).toBe(false);
  });

  it('a kept statement still reads right after the table changes shape (SQLite re-prepares it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manchete-stmt-'));
    dirs.push(dir);
    const store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    const { sql } = await import('kysely');
    await sql`create table t (a integer)`.execute(store.db);
    await sql`insert into t (a) values (1)`.execute(store.db);
    const read = () => sql<Record<string, unknown>>`select * from t`.execute(store.db).then((r) => r.rows);
    expect(await read()).toEqual([{ a: 1 }]);
    await sql`alter table t add column b text default 'x'`.execute(store.db);
    expect(await read()).toEqual([{ a: 1, b: 'x' }]);
    // The same insert with other values: one statement, bound anew each time.
    for (const v of [2, 3]) await store.db.insertInto('t' as never).values({ a: v } as never).execute();
    expect((await read()).map((r) => r.a)).toEqual([1, 2, 3]);
    await store.close();
  });
});
