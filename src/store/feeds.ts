import type { Selectable } from 'kysely';
import { pollPhase } from '../sources/poller.js';
import { storableText, type Db } from './db.js';
import type { FeedTable } from './schema.js';

export type FeedRow = Selectable<FeedTable>;

/** What the poll needs of a feed added at run time: read on every tick, so only these columns. */
export interface ManagedFeed {
  url: string;
  section: string | null;
  intervalS: number | null;
}

/** A feed to add at run time, as `manchete feeds add` / `import` give it. */
export interface NewManagedFeed {
  url: string;
  title?: string | null;
  section?: string | null;
  intervalS?: number | null;
  addedBy: string;
}

/** Rows per statement when many feeds are written at once (well under both databases' parameter limits). */
const BATCH = 400;

/**
 * The feeds table: each feed's polling state (validators, failures, next poll, its phase in the interval)
 * and whether it is in the list being polled (`watched`). The poll tick reads it with one indexed query
 * (`claimDue`); the list of feeds is written only when it changes (`sync`).
 */
export class FeedRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
    /** The random part of a new feed's phase (tests pin it). */
    private readonly random: () => number = Math.random,
  ) {}

  private newRow(url: string, now: string, watched: number) {
    return {
      url,
      final_url: null,
      title: null,
      etag: null,
      last_modified: null,
      min_interval_s: null,
      last_polled_at: null,
      last_ok_at: null,
      // A new feed is due at once: its first poll records the backlog, then it joins its slot.
      next_poll_at: now,
      failures: 0,
      last_error: null,
      primed_at: null,
      created_at: now,
      poll_phase: pollPhase(url, this.random),
      watched,
      last_body_at: null,
    };
  }

  /** The feed's row, created on first sight (not watched: a feed polled by hand is not scheduled by that). */
  async ensure(url: string): Promise<FeedRow> {
    const row = await this.get(url);
    if (row) return row;
    await this.db
      .insertInto('feeds')
      .values(this.newRow(url, this.clock().toISOString(), 0))
      .onConflict((oc) => oc.column('url').doNothing())
      .execute();
    return (await this.get(url))!;
  }

  /**
   * Makes `watched` match the list of feeds to poll: feeds new to the table are inserted (due at once),
   * known ones in the list are watched, the others are not (their rows and history stay). One read of the
   * table and writes only for what changed; the pipeline calls it when the list changes, not every tick.
   */
  async sync(urls: readonly string[]): Promise<{ added: number; watched: number; unwatched: number }> {
    const want = new Set(urls);
    const rows = await this.db.selectFrom('feeds').select(['url', 'watched']).execute();
    const known = new Map(rows.map((r) => [r.url, r.watched]));
    const add = [...want].filter((u) => !known.has(u));
    const watch = rows.filter((r) => r.watched !== 1 && want.has(r.url)).map((r) => r.url);
    const unwatch = rows.filter((r) => r.watched === 1 && !want.has(r.url)).map((r) => r.url);
    if (add.length || watch.length || unwatch.length) {
      const now = this.clock().toISOString();
      await this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < add.length; i += BATCH)
          await trx
            .insertInto('feeds')
            .values(add.slice(i, i + BATCH).map((u) => this.newRow(u, now, 1)))
            // A row made meanwhile (a poll by hand) joins the list.
            .onConflict((oc) => oc.column('url').doUpdateSet({ watched: 1 }))
            .execute();
        for (let i = 0; i < watch.length; i += BATCH) await trx.updateTable('feeds').set({ watched: 1 }).where('url', 'in', watch.slice(i, i + BATCH)).execute();
        for (let i = 0; i < unwatch.length; i += BATCH) await trx.updateTable('feeds').set({ watched: 0 }).where('url', 'in', unwatch.slice(i, i + BATCH)).execute();
      });
    }
    return { added: add.length, watched: watch.length, unwatched: unwatch.length };
  }

  /**
   * The watched feeds due at `now`, the longest overdue first, at most `limit`: one query on the
   * `feeds_due` index. On one process per database this is a plain read; a claim for several
   * processes on one PostgreSQL database belongs here too (the callers need not change).
   */
  async claimDue(now: Date, limit: number): Promise<FeedRow[]> {
    return this.db
      .selectFrom('feeds')
      .selectAll()
      .where('watched', '=', 1)
      .where('next_poll_at', '<=', now.toISOString())
      .orderBy('next_poll_at')
      .limit(limit)
      .execute();
  }

  /** Watched feeds already polled once whose next poll is before `before`: what a long stop left overdue. */
  async overdue(before: Date): Promise<Pick<FeedRow, 'url' | 'poll_phase' | 'min_interval_s'>[]> {
    return this.db
      .selectFrom('feeds')
      .select(['url', 'poll_phase', 'min_interval_s'])
      .where('watched', '=', 1)
      .where('next_poll_at', '<', before.toISOString())
      .where('primed_at', 'is not', null)
      .execute();
  }

  /** Sets many feeds' next poll at once (batched, one transaction). */
  async reschedule(next: { url: string; at: Date }[]): Promise<void> {
    if (!next.length) return;
    await this.db.transaction().execute(async (trx) => {
      for (const n of next) await trx.updateTable('feeds').set({ next_poll_at: n.at.toISOString() }).where('url', '=', n.url).execute();
    });
  }

  async get(url: string): Promise<FeedRow | undefined> {
    return this.db.selectFrom('feeds').selectAll().where('url', '=', url).executeTakeFirst();
  }

  async list(): Promise<FeedRow[]> {
    return this.db.selectFrom('feeds').selectAll().orderBy('url').execute();
  }

  /** The feeds added at run time, in the order they were added. One small indexed read: the poll tick calls it. */
  async managed(): Promise<ManagedFeed[]> {
    const rows = await this.db
      .selectFrom('feeds')
      .select(['url', 'section', 'interval_s'])
      .where('managed', '=', 1)
      .orderBy('added_at')
      .orderBy('url')
      .execute();
    return rows.map((r) => ({ url: r.url, section: r.section, intervalS: r.interval_s }));
  }

  /**
   * Adds a feed at run time, or updates its section and interval when it is one already. A row that held
   * a configured feed's polling state keeps it (validators, primed): the feed is not read as new again.
   * Returns whether the feed was new to the managed list.
   */
  async addManaged(feed: NewManagedFeed): Promise<boolean> {
    const before = await this.get(feed.url);
    const now = this.clock().toISOString();
    const settings = { section: feed.section ?? null, interval_s: feed.intervalS ?? null };
    if (!before) {
      await this.db
        .insertInto('feeds')
        // Due at once, with its own phase, and watched: the running app's next tick polls it.
        .values({ ...this.newRow(feed.url, now, 1), title: storableText(feed.title ?? null), managed: 1, ...settings, added_by: feed.addedBy, added_at: now })
        .onConflict((oc) => oc.column('url').doUpdateSet({ managed: 1, ...settings }))
        .execute();
      return true;
    }
    await this.db
      .updateTable('feeds')
      .set({
        managed: 1,
        ...settings,
        ...(before.managed ? {} : { added_by: feed.addedBy, added_at: now }),
        ...(before.title === null && feed.title ? { title: storableText(feed.title) } : {}),
      })
      .where('url', '=', feed.url)
      .execute();
    return before.managed !== 1;
  }

  /**
   * Removes a feed added at run time: its row goes, so the next tick does not poll it (and a later
   * `feeds add` reads it afresh: its backlog recorded, not posted). Its articles stay. False when the URL
   * is not a managed feed.
   */
  async removeManaged(url: string): Promise<boolean> {
    const res = await this.db.deleteFrom('feeds').where('url', '=', url).where('managed', '=', 1).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Patches the feed's row; the feed's title and error text are made storable on both databases. */
  async update(url: string, patch: Partial<Omit<FeedRow, 'url' | 'created_at'>>): Promise<void> {
    const row = { ...patch };
    if (row.title !== undefined) row.title = storableText(row.title);
    if (row.last_error !== undefined) row.last_error = storableText(row.last_error);
    await this.db.updateTable('feeds').set(row).where('url', '=', url).execute();
  }
}
