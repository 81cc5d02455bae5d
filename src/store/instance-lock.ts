import { makeInstanceId, type InstanceId } from '../lib/instance.js';
import type { Db } from './db.js';

/**
 * One running Manchete per database. Two processes on one database both claim the outbox (duplicate
 * posts) and both long-poll Telegram (a 409 loop), so the second one refuses to start and names the first.
 *
 * The lock is a row in `instance_lock` with a heartbeat and an expiry, so it dies with its process on any
 * database: a holder that stops renewing is taken over once its row expires. On the same host we also
 * know sooner: a holder whose pid is not alive is dead, and so is one whose pid is *ours* (a container
 * restarted: pid 1 again, but a different instance id `host:pid:random`). Taking over is a
 * compare-and-set on the old holder, so two processes racing for a stale lock cannot both win.
 */

const NAME = 'main';

export interface InstanceLockOptions {
  /** How long the row stays valid without a heartbeat (default 30 s). */
  ttlMs?: number;
  /** How often the heartbeat renews it (default a third of the ttl). */
  heartbeatMs?: number;
  clock?: () => Date;
  /** This process's id (lib/instance.ts), made once at start; without it one is made from `host` and `pid`. */
  instance?: InstanceId;
  /** Defaults to this process's; tests pass others. */
  host?: string;
  pid?: number;
  /** Whether a pid is alive on this host (default: `process.kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
  /** A dead holder's lock was taken over: the caller logs it. */
  onTakeover?: (stale: LockHolder) => void;
  /** The heartbeat found the row held by someone else (we were presumed dead): the caller logs it. */
  onLost?: (by: LockHolder | null) => void;
}

/** Who holds the lock. */
export interface LockHolder {
  holder: string;
  host: string;
  pid: number;
  startedAt: Date;
  heartbeatAt: Date;
  expiresAt: Date;
}

/** Another live process holds the database: the one-line message names it. */
export class InstanceLockedError extends Error {
  override readonly name = 'InstanceLockedError';
  constructor(readonly holder: LockHolder) {
    super(
      `another Manchete is already running on this database (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt.toISOString()}, last seen ${holder.heartbeatAt.toISOString()}); stop it first, or point DATABASE_URL elsewhere (SQLite serves one process; to run several instances use PostgreSQL: DATABASE_URL=postgres://…)`,
    );
  }
}

/** A held lock: `release()` on stop. */
export interface InstanceLock {
  holder: string;
  release(): Promise<void>;
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to another user: alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the holder is certainly gone: expired, or (same host) its pid is dead or is ours. Pure. */
export function isStale(h: LockHolder, me: { host: string; pid: number }, now: Date, isAlive: (pid: number) => boolean): boolean {
  if (h.expiresAt.getTime() <= now.getTime()) return true;
  if (h.host !== me.host) return false;
  return h.pid === me.pid || !isAlive(h.pid);
}

/** Takes the database's instance lock or throws `InstanceLockedError`; heartbeats until released. */
export async function acquireInstanceLock(db: Db, opts: InstanceLockOptions = {}): Promise<InstanceLock> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1000, Math.floor(ttlMs / 3));
  const clock = opts.clock ?? (() => new Date());
  const me = opts.instance ?? makeInstanceId({ ...(opts.host ? { host: opts.host } : {}), ...(opts.pid ? { pid: opts.pid } : {}) });
  const { host, pid } = me;
  const isAlive = opts.isAlive ?? defaultIsAlive;
  const holder = me.id;

  const row = (now: Date) => ({
    holder,
    host,
    pid,
    started_at: now.toISOString(),
    heartbeat_at: now.toISOString(),
    expires_at: new Date(now.getTime() + ttlMs).toISOString(),
  });

  for (let attempt = 0; attempt < 3; attempt++) {
    const now = clock();
    const inserted = await db
      .insertInto('instance_lock')
      .values({ name: NAME, ...row(now) })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 && (await read(db))?.holder === holder) return start();
    const current = await read(db);
    if (!current) continue; // released in between: try again
    if (current.holder === holder) return start();
    if (!isStale(current, { host, pid }, now, isAlive)) throw new InstanceLockedError(current);
    // Compare-and-set on the stale holder: of two processes taking over, one wins.
    const taken = await db
      .updateTable('instance_lock')
      .set(row(now))
      .where('name', '=', NAME)
      .where('holder', '=', current.holder)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) > 0) {
      opts.onTakeover?.(current);
      return start();
    }
  }
  const current = await read(db);
  if (current) throw new InstanceLockedError(current);
  throw new Error('could not take the database instance lock (it kept changing hands); try again');

  function start(): InstanceLock {
    let lost = false;
    let beating: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      beating = (async () => {
        if (lost) return;
        const now = clock();
        try {
          const r = await db
            .updateTable('instance_lock')
            .set({ heartbeat_at: now.toISOString(), expires_at: new Date(now.getTime() + ttlMs).toISOString() })
            .where('name', '=', NAME)
            .where('holder', '=', holder)
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) {
            lost = true;
            opts.onLost?.((await read(db)) ?? null);
          }
        } catch {
          // A database hiccup: the next beat tries again, well within the ttl.
        }
      })();
    }, heartbeatMs);
    timer.unref();
    return {
      holder,
      async release() {
        clearInterval(timer);
        await beating;
        await db.deleteFrom('instance_lock').where('name', '=', NAME).where('holder', '=', holder).execute();
      },
    };
  }
}

/** Who holds the lock now, or null. */
export async function readInstanceLock(db: Db): Promise<LockHolder | null> {
  return read(db);
}

async function read(db: Db): Promise<LockHolder | null> {
  const r = await db.selectFrom('instance_lock').selectAll().where('name', '=', NAME).executeTakeFirst();
  if (!r) return null;
  return {
    holder: r.holder,
    host: r.host,
    pid: Number(r.pid),
    startedAt: new Date(r.started_at),
    heartbeatAt: new Date(r.heartbeat_at),
    expiresAt: new Date(r.expires_at),
  };
}
