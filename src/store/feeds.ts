import type { Selectable } from 'kysely';
import { storableText, type Db } from './db.js';
import type { FeedTable } from './schema.js';

export type FeedRow = Selectable<FeedTable>;

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

  /** Patches the feed's row; the feed's title and error text are made storable on both databases. */
  async update(url: string, patch: Partial<Omit<FeedRow, 'url' | 'created_at'>>): Promise<void> {
    const row = { ...patch };
    if (row.title !== undefined) row.title = storableText(row.title);
    if (row.last_error !== undefined) row.last_error = storableText(row.last_error);
    await this.db.updateTable('feeds').set(row).where('url', '=', url).execute();
  }
}
