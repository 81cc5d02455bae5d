import { sql } from 'kysely';
import type { GlobalBudget } from '../delivery/pacer.js';
import type { Db } from './db.js';

/** How long one clock-offset sample stays the reference before a newer one (however slow) replaces it. */
const OFFSET_TTL_MS = 60_000;

/**
 * The bot's global send rate, shared by every instance through one PostgreSQL row: `next_at_us` is the
 * next free slot on the database's clock. Taking a slot is one statement (the row lock orders concurrent
 * takers): the slot is `max(next, now)`, and `next` moves one gap on. No catch-up for late senders (unlike
 * the local pacer's): with several senders, making up half a gap let bursts past Telegram's window (429s).
 * Every instance thus draws from one sequence of slots `gapMs` apart, so N instances together send at the
 * configured rate, not N times it; the database's clock makes hosts with skewed clocks agree.
 *
 * The slot comes back as a time on the database's clock and is turned into this host's clock with an
 * offset estimated from the statements themselves (the database's time against the midpoint of the round
 * trip, from the quickest recent round trip, as NTP does). Counting the wait from when the statement was
 * sent or from when its answer came would make every send early or late by the database's queueing time,
 * and two instances' sends would land closer than a gap (Telegram counts arrivals).
 *
 * One round trip per send. On SQLite there is one process and no shared row: its pacer's own gap is the
 * budget (`Pacer.budget` stays null).
 */
export class PostgresBudget implements GlobalBudget {
  private ready: Promise<void> | null = null;
  /** Database clock minus this host's clock (ms), from the sample with the shortest round trip. */
  private offset: { ms: number; rtt: number; at: number } | null = null;

  constructor(
    private readonly db: Db,
    /** The platform: `telegram`. */
    private readonly name: string,
    private readonly clock: () => number = Date.now,
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
    const asked = this.clock();
    const res = await sql<{ slot_us: string; now_us: string }>`
      with now_us as (select (extract(epoch from clock_timestamp()) * 1000000)::bigint as t)
      update rate_budget set next_at_us = greatest(next_at_us, (select t from now_us)) + ${gapUs}
      where name = ${this.name}
      returning (next_at_us - ${gapUs})::text as slot_us, (select t from now_us)::text as now_us`.execute(this.db);
    const answered = this.clock();
    const row = res.rows[0];
    if (!row) return answered;
    this.sample(Number(row.now_us) / 1000, asked, answered);
    return Number(row.slot_us) / 1000 - this.offset!.ms;
  }

  /** One offset sample: kept when its round trip is the quickest seen lately, or the reference is old. */
  private sample(dbMs: number, asked: number, answered: number): void {
    const rtt = answered - asked;
    const cur = this.offset;
    if (!cur || rtt <= cur.rtt || answered - cur.at > OFFSET_TTL_MS) this.offset = { ms: dbMs - (asked + answered) / 2, rtt, at: answered };
  }
}
