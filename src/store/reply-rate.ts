import { sql } from 'kysely';
import type { Db } from './db.js';

/**
 * REPLY_RATE per user in the database, for several instances on one PostgreSQL database: a user who
 * spreads commands over instances (webhook mode) or across a takeover of the updates lease gets the
 * same limit as with one process. The same sliding window as the in-memory limiter
 * (commands/rate-limit.ts); one short transaction per reply, serialised per user by an advisory lock.
 */
export class DbReplyRateLimiter {
  private readonly dropping = new Set<string>();
  private calls = 0;

  constructor(
    private readonly db: Db,
    private readonly count: number,
    private readonly perMs: number,
  ) {}

  async take(key: string, now: Date): Promise<{ allowed: boolean; firstDrop: boolean }> {
    const t = now.getTime();
    const allowed = await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`reply:${key}`}))`.execute(trx);
      const row = await trx
        .selectFrom('reply_hits')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('key', '=', key)
        .where('at_ms', '>', t - this.perMs)
        .executeTakeFirst();
      if (Number(row?.n ?? 0) >= this.count) return false;
      await trx.insertInto('reply_hits').values({ key, at_ms: t }).execute();
      return true;
    });
    // Memory stays flat: hits past every window are dropped now and then.
    if (++this.calls % 200 === 0) await this.db.deleteFrom('reply_hits').where('at_ms', '<=', t - this.perMs).execute().catch(() => undefined);
    if (allowed) {
      this.dropping.delete(key);
      return { allowed, firstDrop: false };
    }
    const firstDrop = !this.dropping.has(key);
    this.dropping.add(key);
    if (this.dropping.size > 10_000) this.dropping.clear();
    return { allowed, firstDrop };
  }
}
