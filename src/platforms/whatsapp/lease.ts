import type { Db } from '../../store/db.js';

/**
 * A lease row in `leases`: one process at a time holds a named resource (a WhatsApp session). Two
 * processes on one WhatsApp session corrupt its signal keys, so the second one waits and says why.
 *
 * Acquiring is one conditional upsert (`ON CONFLICT DO UPDATE … WHERE` the row is ours or expired), which
 * SQLite and PostgreSQL both run atomically; the row is then read back to see who won. Times are ISO-8601
 * strings, compared as text like everywhere else in the store.
 */

/** Milliseconds since the epoch; injected so tests control time. */
export type Clock = () => number;

export type LeaseResult =
  | { ok: true; holder: string; expiresAt: Date }
  | { ok: false; holder: string; expiresAt: Date };

/**
 * Takes the lease `name` for `holder` for `ttlMs`, or reports who holds it and until when. Taking a lease
 * you already hold extends it (so acquire doubles as renew).
 */
export async function acquireLease(db: Db, name: string, holder: string, ttlMs: number, clock: Clock): Promise<LeaseResult> {
  if (!(ttlMs > 0)) throw new RangeError(`lease ttl must be positive, got ${ttlMs}`);
  const now = clock();
  const nowIso = new Date(now).toISOString();
  const expires = new Date(now + ttlMs).toISOString();
  await db
    .insertInto('leases')
    .values({ name, holder, expires_at: expires })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, expires_at: expires })
        .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<=', nowIso)])),
    )
    .execute();
  return readLease(db, name, holder);
}

/**
 * Extends a lease this holder still has. Unlike acquire, it never takes a lease over: `ok: false` means
 * someone else holds it now (ours expired and was taken), and the caller must stop using the resource.
 */
export async function renewLease(db: Db, name: string, holder: string, ttlMs: number, clock: Clock): Promise<LeaseResult> {
  const expires = new Date(clock() + ttlMs).toISOString();
  await db.updateTable('leases').set({ expires_at: expires }).where('name', '=', name).where('holder', '=', holder).execute();
  return readLease(db, name, holder);
}

/** Gives the lease up if this holder has it; a no-op otherwise (never frees someone else's lease). */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** The operator's line while waiting: `WhatsApp session 'default' is held by host:123 until 12:00:00Z; waiting`. */
export function describeHeldLease(session: string, held: { holder: string; expiresAt: Date }): string {
  return `WhatsApp session '${session}' is held by ${held.holder} until ${held.expiresAt.toISOString()}; waiting`;
}

async function readLease(db: Db, name: string, holder: string): Promise<LeaseResult> {
  const row = await db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
  if (!row) return { ok: false, holder: '(nobody)', expiresAt: new Date(0) };
  return { ok: row.holder === holder, holder: row.holder, expiresAt: new Date(row.expires_at) };
}
