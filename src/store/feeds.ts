import type { Selectable } from 'kysely';
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

/** The feeds table: each feed's polling state (validators, failures, next poll). */
export class FeedRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The feed's row, created on first sight. */
  async ensure(url: string): Promise<FeedRow> {
    const row = await this.get(url);
    if (row) return row;
    await this.db
      .insertInto('feeds')
      .values({
        url,
        final_url: null,
        title: null,
        etag: null,
        last_modified: null,
        min_interval_s: null,
        last_polled_at: null,
        last_ok_at: null,
        next_poll_at: null,
        failures: 0,
        last_error: null,
        primed_at: null,
        created_at: this.clock().toISOString(),
      })
      .onConflict((oc) => oc.column('url').doNothing())
      .execute();
    return (await this.get(url))!;
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
        .values({
          url: feed.url,
          final_url: null,
          title: storableText(feed.title ?? null),
          etag: null,
          last_modified: null,
          min_interval_s: null,
          last_polled_at: null,
          last_ok_at: null,
          next_poll_at: null,
          failures: 0,
          last_error: null,
          primed_at: null,
          created_at: now,
          managed: 1,
          ...settings,
          added_by: feed.addedBy,
          added_at: now,
        })
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
