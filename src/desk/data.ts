import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import type { FeedRow } from '../store/feeds.js';
import { getPauseState } from '../commands/repo.js';
import { platformsNow, type PlatformNow } from '../delivery/status.js';
import type { Dispatcher } from '../delivery/dispatcher.js';
import type { PlatformModule } from '../platforms/types.js';

/** What the desk pages show, read from the same places `/health` and `/status` read. */

export interface DeskSources {
  db: Db;
  dispatcher: Pick<Dispatcher, 'breakers'>;
  platforms: readonly Pick<PlatformModule, 'platform' | 'state'>[];
  feeds: { list(): Promise<FeedRow[]> };
  clock?: () => Date;
}

export interface QueueLine {
  destination: string;
  pending: number;
  sending: number;
  sentHour: number;
  failed: number;
  dead: number;
}

export interface DeskState {
  platforms: PlatformNow[];
  pause: { paused: boolean; by: string | null; at: string | null };
  queue: QueueLine[];
  lastSent: { id: number; destination: string; title: string | null; sentAt: string }[];
  failingFeeds: { url: string; error: string | null; failures: number; nextPollAt: string | null }[];
}

export async function deskState(s: DeskSources): Promise<DeskState> {
  const now = (s.clock ?? (() => new Date()))();
  const hourAgo = new Date(now.getTime() - 3_600_000).toISOString();
  const rows = await s.db
    .selectFrom('deliveries')
    .select(['destination_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where((eb) => eb.or([eb('status', 'in', ['pending', 'sending', 'failed', 'dead']), eb.and([eb('status', '=', 'sent'), eb('sent_at', '>=', hourAgo)])]))
    .groupBy(['destination_id', 'status'])
    .execute();
  const byDest = new Map<string, QueueLine>();
  for (const d of await s.db.selectFrom('destinations').select('id').execute()) byDest.set(d.id, { destination: d.id, pending: 0, sending: 0, sentHour: 0, failed: 0, dead: 0 });
  for (const r of rows) {
    const line = byDest.get(r.destination_id) ?? { destination: r.destination_id, pending: 0, sending: 0, sentHour: 0, failed: 0, dead: 0 };
    const n = Number(r.n);
    if (r.status === 'sent') line.sentHour = n;
    else if (r.status === 'pending' || r.status === 'sending' || r.status === 'failed' || r.status === 'dead') line[r.status] = n;
    byDest.set(r.destination_id, line);
  }
  const sent = await s.db
    .selectFrom('deliveries')
    .leftJoin('articles', 'articles.id', 'deliveries.article_id')
    .select(['deliveries.id', 'deliveries.destination_id', 'articles.title', 'deliveries.sent_at'])
    .where('deliveries.status', '=', 'sent')
    .orderBy('deliveries.sent_at', 'desc')
    .orderBy('deliveries.id', 'desc')
    .limit(10)
    .execute();
  const pause = await getPauseState(s.db);
  const feeds = await s.feeds.list();
  return {
    platforms: platformsNow(s).platforms,
    pause: { paused: pause.paused, by: pause.by, at: pause.at?.toISOString() ?? null },
    queue: [...byDest.values()].sort((a, b) => a.destination.localeCompare(b.destination)),
    lastSent: sent.map((r) => ({ id: r.id, destination: r.destination_id, title: r.title, sentAt: r.sent_at ?? '' })),
    failingFeeds: feeds.filter((f) => f.failures > 0).map((f) => ({ url: f.url, error: f.last_error, failures: f.failures, nextPollAt: f.next_poll_at })),
  };
}

export interface QueueRow {
  id: number;
  destination: string;
  kind: string;
  status: string;
  attempts: number;
  title: string | null;
  error: string | null;
  nextAttemptAt: string;
}

/** Pending, sending and failed rows, oldest first per status, at most `limit`. */
export async function queueRows(db: Db, limit = 200): Promise<QueueRow[]> {
  const rows = await db
    .selectFrom('deliveries')
    .leftJoin('articles', 'articles.id', 'deliveries.article_id')
    .select(['deliveries.id', 'deliveries.destination_id', 'deliveries.kind', 'deliveries.status', 'deliveries.attempts', 'articles.title', 'deliveries.last_error', 'deliveries.next_attempt_at'])
    .where('deliveries.status', 'in', ['pending', 'sending', 'failed'])
    .orderBy('deliveries.status')
    .orderBy('deliveries.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, destination: r.destination_id, kind: r.kind, status: r.status, attempts: r.attempts, title: r.title, error: r.last_error, nextAttemptAt: r.next_attempt_at }));
}

/** One failed row back to pending with its attempts reset (like `requeueFailed`, for one row). */
export async function requeueOne(db: Db, id: number, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now.toISOString(), updated_at: now.toISOString() })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** A pending row (not one being sent) becomes cancelled. */
export async function cancelOne(db: Db, id: number, actor: string, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('deliveries')
    .set({ status: 'cancelled', last_error: `cancelled by ${actor}`, updated_at: now.toISOString() })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Progress of a push: how many of its deliveries are sent, failed, and in all. */
export async function pushProgress(db: Db, ids: number[]): Promise<{ total: number; sent: number; failed: number }> {
  if (ids.length === 0) return { total: 0, sent: 0, failed: 0 };
  const rows = await db.selectFrom('deliveries').select(['status']).where('id', 'in', ids).execute();
  return { total: ids.length, sent: rows.filter((r) => r.status === 'sent').length, failed: rows.filter((r) => r.status === 'failed' || r.status === 'dead').length };
}

export async function feedItemsSeen(db: Db): Promise<Map<string, number>> {
  const rows = await db.selectFrom('articles').select(['feed_url', sql<number>`count(*)`.as('n')]).groupBy('feed_url').execute();
  return new Map(rows.filter((r) => r.feed_url).map((r) => [r.feed_url!, Number(r.n)]));
}
