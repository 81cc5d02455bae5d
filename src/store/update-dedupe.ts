import type { Db } from './db.js';

/**
 * Telegram update ids handled lately, in the database, so an update is handled once by one instance:
 * in webhook mode any instance may receive it (and Telegram redelivers to a webhook that answered late);
 * in long-polling mode the instance that takes the getUpdates lease over from a dead one gets again the
 * updates the dead one fetched but never confirmed. Rows older than a day are pruned (Telegram gives up
 * on an update after 24 h, and ids only grow).
 */
export class UpdateDedupe {
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly keepMs = 86_400_000,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Records `updateId`; true when this is the first time (handle it), false when it was seen already. */
  async first(updateId: number): Promise<boolean> {
    const now = this.clock();
    const res = await this.db
      .insertInto('telegram_updates')
      .values({ update_id: updateId, seen_at: now.toISOString() })
      .onConflict((oc) => oc.column('update_id').doNothing())
      .executeTakeFirst();
    if (now.getTime() - this.lastPrune > 600_000) {
      this.lastPrune = now.getTime();
      await this.prune().catch(() => undefined);
    }
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Drops ids older than `keepMs`. Returns how many. */
  async prune(): Promise<number> {
    const before = new Date(this.clock().getTime() - this.keepMs).toISOString();
    const res = await this.db.deleteFrom('telegram_updates').where('seen_at', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
