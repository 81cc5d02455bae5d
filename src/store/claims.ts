import { sql } from 'kysely';
import type { Db } from './db.js';

/**
 * Claims with expiry, for several instances on one PostgreSQL database.
 *
 * - **Feeds**: before polling, an instance claims the due feeds it wants with `FOR UPDATE SKIP LOCKED`:
 *   of instances ticking at the same moment, each feed goes to exactly one, and the others skip it
 *   without waiting. The claim re-checks the feed's `next_poll_at` under the lock, so an instance that read
 *   the feed as due just before another finished polling it does not poll it again. The claim is released
 *   when the poll ends; a dead instance's claim expires after the lease, and the feed is due again.
 * - **Deliveries**: a row being sent is `sending` with `claimed_by` (the instance id) and `claimed_until`
 *   (now + lease). The holder renews its claims at every heartbeat; a row whose claim expired belongs to a
 *   dead instance and is put back to pending, where another instance sends it (at most the messages that
 *   were in flight are repeated).
 */

export class FeedClaims {
  constructor(
    private readonly db: Db,
    private readonly holder: string,
    private readonly leaseMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Of `urls` (due as this instance read them), those this instance now holds and should poll. */
  async claim(urls: string[]): Promise<string[]> {
    if (urls.length === 0) return [];
    const now = this.clock();
    const nowIso = now.toISOString();
    const until = new Date(now.getTime() + this.leaseMs).toISOString();
    await this.db
      .insertInto('feed_claims')
      .values(urls.map((url) => ({ url, holder: null, expires_at: nowIso })))
      .onConflict((oc) => oc.column('url').doNothing())
      .execute();
    const res = await sql<{ url: string }>`
      update feed_claims set holder = ${this.holder}, expires_at = ${until}
      where url in (
        select c.url from feed_claims c join feeds f on f.url = c.url
        where c.url in (${sql.join(urls)})
          and (c.holder is null or c.expires_at <= ${nowIso})
          and (f.next_poll_at is null or f.next_poll_at <= ${nowIso})
        for update of c skip locked
      )
      returning url`.execute(this.db);
    return res.rows.map((r) => r.url);
  }

  /** The poll is over (its next_poll_at is written): the feed is free again. */
  async release(url: string): Promise<void> {
    await this.db.updateTable('feed_claims').set({ holder: null }).where('url', '=', url).where('holder', '=', this.holder).execute();
  }

  /** Heartbeat: extends this instance's feed claims (a slow poll keeps its feed). */
  async renew(): Promise<void> {
    const until = new Date(this.clock().getTime() + this.leaseMs).toISOString();
    await this.db.updateTable('feed_claims').set({ expires_at: until }).where('holder', '=', this.holder).execute();
  }

  /** Feeds this instance is polling now. */
  async held(): Promise<string[]> {
    const rows = await this.db.selectFrom('feed_claims').select('url').where('holder', '=', this.holder).execute();
    return rows.map((r) => r.url);
  }
}

/** Heartbeat: extends the claims of every row this instance is sending. Returns how many. */
export async function renewDeliveryClaims(db: Db, holder: string, leaseMs: number, now: Date = new Date()): Promise<number> {
  const res = await db
    .updateTable('deliveries')
    .set({ claimed_until: new Date(now.getTime() + leaseMs).toISOString() })
    .where('status', '=', 'sending')
    .where('claimed_by', '=', holder)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/**
 * Rows `sending` whose claim expired (their instance died, or lost the database for longer than the
 * lease) go back to pending. Only expired claims: a live instance's rows are never taken. Returns how many.
 */
export async function reclaimExpiredDeliveries(db: Db, now: Date = new Date()): Promise<number> {
  const res = await db
    .updateTable('deliveries')
    .set({ status: 'pending', claimed_by: null, claimed_until: null, updated_at: now.toISOString() })
    .where('status', '=', 'sending')
    .where('claimed_until', '<', now.toISOString())
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
