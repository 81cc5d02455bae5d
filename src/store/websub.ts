import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { WebSubSubscriptionTable } from './schema.js';

export type WebSubRow = Selectable<WebSubSubscriptionTable>;

/** The websub_subscriptions table: one row per feed subscribed at a hub (see sources/websub.ts). */
export class WebSubRepo {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<WebSubRow | undefined> {
    return this.db.selectFrom('websub_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async forFeed(feedUrl: string): Promise<WebSubRow | undefined> {
    return this.db.selectFrom('websub_subscriptions').selectAll().where('feed_url', '=', feedUrl).orderBy('created_at', 'desc').executeTakeFirst();
  }

  async list(): Promise<WebSubRow[]> {
    return this.db.selectFrom('websub_subscriptions').selectAll().orderBy('created_at').execute();
  }

  async insert(row: Omit<WebSubRow, 'failures'>): Promise<void> {
    await this.db.insertInto('websub_subscriptions').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<WebSubRow, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('websub_subscriptions').set(patch).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('websub_subscriptions').where('id', '=', id).execute();
  }
}
