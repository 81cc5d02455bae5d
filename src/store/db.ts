import { Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type MigrationProvider, type SqliteDatabase } from 'kysely';
import type { Pool } from 'pg';
import Sqlite from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database } from './schema.js';
import { migrations, type DialectKind } from './migrations/index.js';

/** The typed query builder every repository takes: the same code runs on SQLite and PostgreSQL. */
export type Db = Kysely<Database>;

/** An open, migrated database. `close()` ends its connections (the SQLite file or the pg pool). */
export interface Store {
  db: Db;
  dialect: DialectKind;
  close(): Promise<void>;
}

/** What `openStore` may be told besides the URL. */
export interface OpenStoreOptions {
  /**
   * Called when an idle PostgreSQL connection breaks (the server restarted, a proxy cut it). pg drops the
   * connection and the next query opens a new one, so this is for logging only; without a listener such an
   * error would crash the process. The message has the password masked.
   */
  onConnectionError?: (message: string) => void;
  /** Connections PostgreSQL may keep open at once (default 10). */
  maxConnections?: number;
  /** How long to wait for PostgreSQL to accept a connection before failing (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Called when an existing SQLite file (or its `-wal`/`-shm`) was readable by others and was made 0600.
   * The message names the file and the old mode; it is for a log line.
   */
  onPermissionsFixed?: (message: string) => void;
}

/**
 * The database could not be opened: the server is down or unreachable, refused our credentials, or has
 * no such database. `url` has its password masked, so the message is safe to print and log.
 */
export class StoreConnectError extends Error {
  override readonly name = 'StoreConnectError';
  constructor(
    /** DATABASE_URL with the password replaced by `***`. */
    readonly url: string,
    /** `ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, or PostgreSQL's SQLSTATE (`28P01`, `3D000`…). */
    readonly code: string,
    /** What the driver said, password masked. */
    readonly detail: string,
  ) {
    super(`DATABASE_URL ${url}: ${describeConnectFailure(code, detail)}`);
  }
}

function describeConnectFailure(code: string, detail: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect (${code}); is PostgreSQL running?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect (${code}: unknown host); check the host name`;
    case 'ETIMEDOUT':
      return `cannot connect (${code}: no answer); is PostgreSQL running and reachable from here?`;
    case '28P01':
    case '28000':
      return `PostgreSQL refused the login (${code}: ${detail}); check the user and password`;
    case '3D000':
      return `the database does not exist (${code}: ${detail}); create it (createdb) or fix the URL`;
    default:
      return `cannot connect (${code}: ${detail})`;
  }
}

/**
 * DATABASE_URL fit to print: the password (in the user-info part or a `password=` parameter) becomes `***`.
 * Use it wherever a database URL reaches a log line, an error or the terminal.
 */
export function redactDatabaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not a URL we can parse: mask anything between `user:` and `@`, and any password parameter.
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@').replace(/(password=)[^&]*/gi, '$1***');
  }
  if (u.password) u.password = '***';
  for (const key of [...u.searchParams.keys()]) if (/^password$/i.test(key)) u.searchParams.set(key, '***');
  return u.toString().replace(/password=%2A%2A%2A/gi, 'password=***');
}

/** The password of a URL (decoded), or null: used to scrub driver messages that might echo it. */
function passwordOf(url: string): string | null {
  try {
    const u = new URL(url);
    const p = u.password ? decodeURIComponent(u.password) : u.searchParams.get('password');
    return p || null;
  } catch {
    return null;
  }
}

/** The error code of a failed connection: Node's errno code, PostgreSQL's SQLSTATE, or a best guess. */
function connectErrorCode(err: unknown): string {
  const e = err as { code?: unknown; errors?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && e.code) return e.code;
  // Node's happy-eyeballs connect (a host with IPv4 and IPv6 addresses) fails with an AggregateError.
  if (Array.isArray(e?.errors)) for (const inner of e.errors as unknown[]) {
    const c = connectErrorCode(inner);
    if (c !== 'UNKNOWN') return c;
  }
  if (typeof e?.message === 'string' && /timeout/i.test(e.message)) return 'ETIMEDOUT';
  return 'UNKNOWN';
}

/**
 * Opens the database named by DATABASE_URL and brings its schema up to date.
 * - `sqlite:./data/manchete.db` (the default; the folder is created) or `sqlite::memory:`;
 * - `postgres://user:pass@host:5432/db`: one connection is opened first, so an unreachable server, a wrong
 *   password or a missing database fail here with a `StoreConnectError` instead of at the first query.
 *   The `pg` driver is imported only then, so SQLite deployments never load it.
 */
/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM…);
 * kysely's ROLLBACK after that fails with "cannot rollback - no transaction is active", and that error
 * replaces the real one, so a full disk would be logged as a generic SQLITE_ERROR. Skip the ROLLBACK
 * when there is no transaction left, and the caller sees the error that happened.
 */
class SqliteDialectKeepingErrors extends SqliteDialect {
  constructor(
    private readonly sqlite: Sqlite.Database,
    private readonly statements: SqliteDatabase = sqlite,
  ) {
    super({ database: statements });
  }

  override createDriver(): Driver {
    const sqlite = this.sqlite;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
        if (!sqlite.inTransaction) return;
        await super.rollbackTransaction(connection);
      }
    })({ database: this.statements });
  }
}

/** Statements kept prepared, per SQL text: enough for every shape the code issues (claims of 1…100 rows included). */
const STATEMENT_CACHE = 400;

/**
 * kysely prepares a better-sqlite3 statement for every query (about 0.1 ms each, a fifth of the database
 * time of a fast fan-out); this keeps the most recent ones by SQL text and hands them out again. Safe
 * because better-sqlite3 runs one statement at a time and nothing here streams (a statement being
 * iterated could not be reused). SQLite itself re-prepares a kept statement after a schema change.
 */
export function cachedStatements(sqlite: Sqlite.Database, max = STATEMENT_CACHE): SqliteDatabase {
  const kept = new Map<string, Sqlite.Statement>();
  return {
    close: () => {
      kept.clear();
      sqlite.close();
    },
    prepare(text: string) {
      let st = kept.get(text);
      if (st) kept.delete(text);
      else {
        st = sqlite.prepare(text);
        if (kept.size >= max) kept.delete(kept.keys().next().value!);
      }
      kept.set(text, st);
      return st;
    },
  };
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  let db: Db;
  let dialect: DialectKind;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length) || ':memory:';
    if (file !== ':memory:') prepareSqliteFile(resolve(file), options.onPermissionsFixed);
    const sqlite = new Sqlite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    // Checkpoint every 4000 pages (16 MB of WAL) instead of 1000: the outbox changes the same pages over
    // and over (a fan-out rewrites the queue's index pages with every claim), and each checkpoint copies
    // them into the file inline, on a commit. Measured: 10,000 sends about 5 % less CPU.
    sqlite.pragma('wal_autocheckpoint = 4000');
    db = new Kysely<Database>({ dialect: new SqliteDialectKeepingErrors(sqlite, cachedStatements(sqlite)) });
    dialect = 'sqlite';
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: await openPostgresPool(url, options) }) });
    dialect = 'postgres';
  } else {
    throw new Error(
      `DATABASE_URL="${redactDatabaseUrl(url)}" is not supported; use sqlite:./data/manchete.db or postgres://user:pass@host/db`,
    );
  }
  try {
    await migrate(db, dialect);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect, close: () => db.destroy() };
}

/**
 * The SQLite file holds the WhatsApp session keys, so only the owner may read it: a folder we create is
 * 0700, and a new database file is created empty with mode 0600 *before* SQLite opens it. SQLite gives its
 * `-wal` and `-shm` files the database file's mode, so they are 0600 too, whatever the umask. An existing
 * file (or `-wal`/`-shm`) that group or others can read is made 0600 and reported. An existing folder is
 * left as it is: it may be the operator's (DATABASE_URL=sqlite:./manchete.db would name the working folder).
 */
function prepareSqliteFile(path: string, onFixed?: (message: string) => void): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    // 'wx' fails if another process created it meanwhile; that one then gets the check below.
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number;
    try {
      mode = statSync(f).mode & 0o777;
    } catch {
      continue; // no -wal/-shm yet
    }
    if ((mode & 0o077) === 0) continue;
    chmodSync(f, mode & 0o700);
    onFixed?.(`${f} was readable by others (mode ${mode.toString(8).padStart(4, '0')}); it is now ${(mode & 0o700).toString(8).padStart(4, '0')}, because it holds the WhatsApp session keys`);
  }
}

/** A pg pool whose first connection has succeeded; connection failures become `StoreConnectError`. */
async function openPostgresPool(url: string, options: OpenStoreOptions): Promise<Pool> {
  const { Pool } = await import('pg');
  const safeUrl = redactDatabaseUrl(url);
  const password = passwordOf(url);
  const scrub = (text: string): string => (password ? text.split(password).join('***') : text);
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // The pool listens for errors only on idle connections. A connection that breaks while checked out (the
  // server restarts between two statements of a transaction) emits 'error' on its client, and an 'error'
  // event without a listener ends the process: listen on every client for as long as it lives. The
  // statement itself still fails through its own promise, which the caller handles. One report per error
  // (an idle client's error reaches both listeners).
  const reported = new WeakSet<Error>();
  const lost = (err: Error) => {
    if (reported.has(err)) return;
    reported.add(err);
    options.onConnectionError?.(`DATABASE_URL ${safeUrl}: connection lost: ${scrub(err.message)}`);
  };
  pool.on('error', lost);
  pool.on('connect', (client) => client.on('error', lost));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    const detail = scrub(err instanceof Error ? err.message || String(err) : String(err));
    throw new StoreConnectError(safeUrl, connectErrorCode(err), detail);
  }
  return pool;
}

/** Applies the migrations not yet applied (kysely's lock makes concurrent starts safe); a no-op when up to date. */
export async function migrate(db: Db, dialect: DialectKind): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}

/**
 * Text that both databases accept: PostgreSQL rejects the NUL character (U+0000) in text columns, which
 * SQLite stores. Applied to text from outside (feeds, pages, chat users) before it is written.
 */
export function storableText(text: string): string;
export function storableText(text: string | null): string | null;
export function storableText(text: string | null): string | null {
  return text !== null && text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

/** The current time as stored in the database. */
export const isoNow = (now: Date = new Date()): string => now.toISOString();
