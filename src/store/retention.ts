import type { Logger } from '../log.js';
import type { Db } from './db.js';

/**
 * RETENTION: the articles table does not grow forever. An article goes, with its finished delivery rows,
 * once no feed has listed it for RETENTION, while keeping enough to recognise every story a feed still
 * carries:
 * - every poll that gets a body refreshes `last_seen_at` of each item in it (store/articles.ts);
 * - a feed that answers 304 still has the items of its last body: an article is kept while its feed is
 *   watched and has not got a body since the article was last seen in it (`feeds.last_body_at`), however
 *   long the feed answers 304 or fails; and such a feed is polled without validators once every
 *   RETENTION / 2 (delivery/ingest.ts), so a story carried by a second feed is refreshed there too;
 * - nothing with a pending or sending delivery, and nothing recorded but not yet routed, is touched.
 * A story that left its feed, was pruned, and comes back is older than MAX_ARTICLE_AGE (which RETENTION
 * must exceed), so it is recorded without being posted again, unless it has no date at all.
 * Deletes go in small batches, each its own short transaction, so SQLite is never locked for long.
 */

export interface PruneResult {
  articles: number;
  deliveries: number;
  /** Finished replies (rows without an article) older than the cutoff. */
  replies: number;
  /** Feeds no longer polled for RETENTION whose first-poll mark was cleared (back in the list, they start afresh). */
  feedsReset: number;
}

const FINISHED = ['sent', 'failed', 'dead', 'cancelled'];
const OPEN = ['pending', 'sending'];

export interface PruneOptions {
  now: Date;
  retentionMs: number;
  /** Articles per delete (default 500). */
  batch?: number;
  /** Between batches (default: a turn of the event loop), so polls and sends interleave. */
  pause?: () => Promise<void>;
}

export async function pruneOnce(db: Db, o: PruneOptions): Promise<PruneResult> {
  const cutoff = new Date(o.now.getTime() - o.retentionMs).toISOString();
  const batch = o.batch ?? 500;
  const pause = o.pause ?? (() => new Promise<void>((r) => setImmediate(r)));
  const out: PruneResult = { articles: 0, deliveries: 0, replies: 0, feedsReset: 0 };
  let after: { seen: string; id: string } | null = null;
  for (;;) {
    const from: { seen: string; id: string } | null = after;
    const rows: { id: string; last_seen_at: string | null }[] = await db
      .selectFrom('articles as a')
      .leftJoin('feeds as f', 'f.url', 'a.feed_url')
      .select(['a.id', 'a.last_seen_at'])
      .where('a.last_seen_at', '<', cutoff)
      .where('a.state', '<>', 'new')
      // Its feed still carries it: watched, and no body since the article was last seen in it.
      .where((eb) => eb.or([eb('f.url', 'is', null), eb('f.watched', '=', 0), eb.and([eb('f.last_body_at', 'is not', null), eb('a.last_seen_at', '<', eb.ref('f.last_body_at'))])]))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.article_id', '=', 'a.id').where('d.status', 'in', OPEN))))
      .$if(from !== null, (q) => q.where((eb) => eb.or([eb('a.last_seen_at', '>', from!.seen), eb.and([eb('a.last_seen_at', '=', from!.seen), eb('a.id', '>', from!.id)])])))
      .orderBy('a.last_seen_at')
      .orderBy('a.id')
      .limit(batch)
      .execute();
    if (!rows.length) break;
    const ids = rows.map((r) => r.id);
    after = { seen: rows.at(-1)!.last_seen_at!, id: rows.at(-1)!.id };
    await db.transaction().execute(async (trx) => {
      const d = await trx.deleteFrom('deliveries').where('article_id', 'in', ids).where('status', 'in', FINISHED).executeTakeFirst();
      const a = await trx
        .deleteFrom('articles')
        .where('id', 'in', ids)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.article_id', '=', 'articles.id').where('d.status', 'in', OPEN))))
        .executeTakeFirst();
      out.deliveries += Number(d.numDeletedRows);
      out.articles += Number(a.numDeletedRows);
    });
    if (rows.length < batch) break;
    await pause();
  }
  for (;;) {
    const ids = db
      .selectFrom('deliveries')
      .select('id')
      .where('article_id', 'is', null)
      .where('created_at', '<', cutoff)
      .where('status', 'in', FINISHED)
      .limit(batch);
    const r = await db.deleteFrom('deliveries').where('id', 'in', ids).executeTakeFirst();
    const n = Number(r.numDeletedRows);
    out.replies += n;
    if (n < batch) break;
    await pause();
  }
  const reset = await db
    .updateTable('feeds')
    .set({ primed_at: null })
    .where('watched', '=', 0)
    .where('primed_at', 'is not', null)
    .where((eb) => eb.or([eb('last_polled_at', 'is', null), eb('last_polled_at', '<', cutoff)]))
    .executeTakeFirst();
  out.feedsReset = Number(reset.numUpdatedRows);
  return out;
}

/** The pruning clock: a first pass `firstAfterMs` after start, then every `everyMs`. stop() waits for a pass in progress. */
export function startRetention(o: { db: Db; retentionMs: number; logger: Logger; everyMs?: number; firstAfterMs?: number; clock?: () => Date }): { runNow(): Promise<PruneResult | null>; stop(): Promise<void> } {
  const clock = o.clock ?? (() => new Date());
  const log = o.logger.child({ component: 'retention' });
  let running: Promise<PruneResult | null> | null = null;
  const run = () =>
    (running ??= (async () => {
      const t = Date.now();
      try {
        const r = await pruneOnce(o.db, { now: clock(), retentionMs: o.retentionMs });
        if (r.articles || r.replies || r.feedsReset)
          log.info({ event: 'retention.pruned', ...r, ms: Date.now() - t }, `pruned ${r.articles} articles not listed by any feed for ${Math.round(o.retentionMs / 86_400_000)} days, with ${r.deliveries} finished deliveries, and ${r.replies} old replies`);
        return r;
      } catch (err) {
        log.warn({ event: 'retention.failed', err: (err as Error).message }, `pruning old articles failed (${(err as Error).message}); the next pass tries again`);
        return null;
      } finally {
        running = null;
      }
    })());
  const first = setTimeout(() => void run(), o.firstAfterMs ?? 60_000);
  const every = setInterval(() => void run(), o.everyMs ?? 3_600_000);
  first.unref();
  every.unref();
  return {
    runNow: run,
    stop: async () => {
      clearTimeout(first);
      clearInterval(every);
      if (running) await running;
    },
  };
}

