import type { Transaction } from 'kysely';
import type { Db } from './db.js';
import type { Database } from './schema.js';

/**
 * The digests' tables: `digest_items` (articles collected for a destination's next digest) and
 * `digest_slots` (every slot handled, sent or empty). A slot row and the digest's delivery are written in
 * one transaction, and (destination, slot) is the key: a slot can never be sent twice, not even by a
 * process that died between queueing the digest and recording it.
 */

/** A collected article waiting for a digest, with what ordering needs. */
export interface WaitingItem {
  articleId: string;
  collectedAt: string;
  publishedAt: string | null;
}

export class DigestRepo {
  constructor(private readonly db: Db) {}

  /** Collects an article for a destination's next digest; collecting it again changes nothing. */
  async collect(destinationId: string, articleId: string, at: Date): Promise<void> {
    await this.db
      .insertInto('digest_items')
      .values({ destination_id: destinationId, article_id: articleId, collected_at: at.toISOString(), digest_slot: null })
      .onConflict((oc) => oc.columns(['destination_id', 'article_id']).doNothing())
      .execute();
  }

  /** Whether an article is collected for this destination (waiting or already in a digest). */
  async collected(destinationId: string, articleId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('digest_items')
      .select('article_id')
      .where('destination_id', '=', destinationId)
      .where('article_id', '=', articleId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The newest `limit` articles waiting for a destination's digest (collected at or before `cutoff`),
   * newest first by publication (collection time when undated), and how many wait in all.
   */
  async waiting(destinationId: string, cutoff: Date, limit: number): Promise<{ items: WaitingItem[]; total: number }> {
    const base = this.db
      .selectFrom('digest_items')
      .where('digest_items.destination_id', '=', destinationId)
      .where('digest_items.digest_slot', 'is', null)
      .where('digest_items.collected_at', '<=', cutoff.toISOString());
    const count = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const rows = await base
      .innerJoin('articles', 'articles.id', 'digest_items.article_id')
      .select(['digest_items.article_id', 'digest_items.collected_at', 'articles.published_at'])
      .orderBy((eb) => eb.fn.coalesce('articles.published_at', 'digest_items.collected_at'), 'desc')
      .orderBy('digest_items.article_id', 'desc')
      .limit(limit)
      .execute();
    return {
      items: rows.map((r) => ({ articleId: r.article_id, collectedAt: r.collected_at, publishedAt: r.published_at })),
      total: Number(count?.n ?? 0),
    };
  }

  /** The latest scheduled slot handled for a destination (ms), or null when none ever was. */
  async lastScheduled(destinationId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('digest_slots')
      .select((eb) => eb.fn.max('slot').as('slot'))
      .where('destination_id', '=', destinationId)
      .where('kind', '=', 'scheduled')
      .executeTakeFirst();
    return row?.slot ? Date.parse(String(row.slot)) : null;
  }

  /**
   * Records a slot and takes its articles, inside the caller's transaction (the one that queues the
   * digest's delivery). `shown` must still be waiting: when another digest took one of them meanwhile, this
   * throws DigestRaceError and the transaction rolls back. Every other article collected by `cutoff` is
   * taken too (older than the newest `max`, it is left out of the briefing). Throws the store's
   * unique-key error when the slot was handled already.
   */
  async record(
    trx: Transaction<Database>,
    r: { destinationId: string; slot: string; kind: 'scheduled' | 'manual'; deliveryId: number | null; shown: string[]; cutoff: Date; actor: string | null; at: Date },
  ): Promise<void> {
    await trx
      .insertInto('digest_slots')
      .values({
        destination_id: r.destinationId,
        slot: r.slot,
        kind: r.kind,
        delivery_id: r.deliveryId,
        articles: r.shown.length,
        actor: r.actor,
        created_at: r.at.toISOString(),
      })
      .execute();
    if (r.shown.length) {
      const taken = await trx
        .updateTable('digest_items')
        .set({ digest_slot: r.slot })
        .where('destination_id', '=', r.destinationId)
        .where('digest_slot', 'is', null)
        .where('article_id', 'in', r.shown)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== r.shown.length) throw new DigestRaceError(r.destinationId, r.slot);
    }
    await trx
      .updateTable('digest_items')
      .set({ digest_slot: r.slot })
      .where('destination_id', '=', r.destinationId)
      .where('digest_slot', 'is', null)
      .where('collected_at', '<=', r.cutoff.toISOString())
      .execute();
  }

  /** Whether a slot was handled (sent or empty). */
  async handled(destinationId: string, slot: string): Promise<boolean> {
    const row = await this.db.selectFrom('digest_slots').select('slot').where('destination_id', '=', destinationId).where('slot', '=', slot).executeTakeFirst();
    return row !== undefined;
  }
}

/** Another digest (an editor's `/resumo`, or the clock) took some of the same articles first. */
export class DigestRaceError extends Error {
  constructor(
    readonly destinationId: string,
    readonly slot: string,
  ) {
    super(`digest ${slot} for ${destinationId}: another digest took some of its articles first`);
    this.name = 'DigestRaceError';
  }
}
