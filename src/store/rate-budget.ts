import { sql } from 'kysely';
import type { GlobalBudget } from '../delivery/pacer.js';
import type { Db } from './db.js';

/**
 * The bot's global send rate, shared by every instance through one PostgreSQL row: `next_at_us` is the
 * next free slot on the database's clock. Taking a slot is one statement (the row lock orders concurrent
 * takers): the slot is `max(next, now)`, and `next` moves one gap on. No catch-up for late senders (unlike
 * the local pacer's): with several senders, making up half a gap let bursts past Telegram's window (429s). Every instance thus draws from one
 * sequence of slots `gapMs` apart, so N instances together send at the configured rate, not N times it;
 * the database's clock makes hosts with skewed clocks agree.
 *
 * One round trip per send. On SQLite there is one process and no shared row: its pacer's own gap is the
 * budget (`Pacer.budget` stays null).
 */
export class PostgresBudget implements GlobalBudget {
  private ready: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    /** The platform: `telegram`. */
    private readonly name: string,
  ) {}

  async take(gapMs: number): Promise<number> {
    this.ready ??= this.db
      .insertInto('rate_budget')
      .values({ name: this.name, next_at_us: 0 })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute()
      .then(() => undefined)
      .catch((err: unknown) => {
        this.ready = null;
        throw err;
      });
    await this.ready;
    const gapUs = Math.max(1, Math.round(gapMs * 1000));
    const asked = Date.now();
    const res = await sql<{ wait_us: string }>`
      with now_us as (select (extract(epoch from clock_timestamp()) * 1000000)::bigint as t)
      update rate_budget set next_at_us = greatest(next_at_us, (select t from now_us)) + ${gapUs}
      where name = ${this.name}
      returning (next_at_us - ${gapUs} - (select t from now_us))::text as wait_us`.execute(this.db);
    const waitUs = Number(res.rows[0]?.wait_us ?? 0);
    // The wait counts from when the database took the slot, not from when its answer arrived here: a slow
    // answer must not push this send later and bunch it with the next instance's (Telegram counts arrivals).
    return Math.max(0, waitUs / 1000 - (Date.now() - asked));
  }
}
