import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import Sqlite from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database } from './schema.js';
import { migrations, type DialectKind } from './migrations/index.js';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  dialect: DialectKind;
  close(): Promise<void>;
}

/**
 * Opens the database named by DATABASE_URL and brings its schema up to date.
 * - `sqlite:./data/manchete.db` (the default; the folder is created) or `sqlite::memory:`;
 * - `postgres://user:pass@host:5432/db` (needs the optional `pg` package).
 */
export async function openStore(url: string): Promise<Store> {
  let db: Db;
  let dialect: DialectKind;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length) || ':memory:';
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const sqlite = new Sqlite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    dialect = 'sqlite';
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresDialect } = await import('kysely');
    let pg: { Pool: new (o: { connectionString: string; max?: number }) => unknown };
    try {
      pg = (await import(/* optional */ 'pg' as string)) as typeof pg;
    } catch {
      throw new Error('DATABASE_URL is a PostgreSQL URL but the "pg" package is not installed: run `npm install pg`');
    }
    const Pool = pg.Pool ?? (pg as unknown as { default: typeof pg }).default.Pool;
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new Pool({ connectionString: url, max: 10 }) as never }),
    });
    dialect = 'postgres';
  } else {
    throw new Error(`DATABASE_URL="${url}" is not supported; use sqlite:./data/manchete.db or postgres://user:pass@host/db`);
  }
  await migrate(db, dialect);
  return { db, dialect, close: () => db.destroy() };
}

export async function migrate(db: Db, dialect: DialectKind): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}

/** The current time as stored in the database. */
export const isoNow = (now: Date = new Date()): string => now.toISOString();
