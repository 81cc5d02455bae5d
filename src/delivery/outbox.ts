import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import type { OutboundMessage } from '../render/types.js';
import type { Database, DeliveryTable } from '../store/schema.js';
import type { Selectable, Transaction } from 'kysely';

/**
 * The outbox: every (article, destination) pair is a row before anything is sent, so a restart resumes
 * where the last process stopped. Status moves pending → sending → sent | failed | dead (| cancelled).
 *
 * Crash bound: a row is marked `sending` before the platform call and `sent` right after each message of it.
 * A crash between the platform's answer and that write leaves the row `sending`; at the next start it goes
 * back to `pending` and its unsent parts are sent again. So a crash repeats at most the messages that were
 * in flight (one per concurrent send), never more.
 */

export type DeliveryRow = Selectable<DeliveryTable>;
export type DeliveryKind = 'article' | 'edit' | 'reply' | 'digest';

/** A queued row as the dispatcher scans it: enough to order and pace, without the payload. */
export type QueueEntry = Pick<DeliveryRow, 'id' | 'destination_id' | 'kind' | 'priority' | 'next_attempt_at'>;

/** Editor pushes go ahead of automatic posts; replies to commands ahead of both. */
export const PRIORITY = { article: 0, edit: 5, push: 10, reply: 20 } as const;

/** One send to record as done: the platform's message ids, an optional note (a degradation), when. */
export interface SentRecord {
  id: number;
  messageIds: string[];
  note?: string | null;
  sentAt?: string;
}

/** Rows per statement: well under SQLite's bound-parameter limit with a few parameters per row. */
const CHUNK = 128;

/**
 * A chunk padded with copies of its last item to the next power of two (at most CHUNK): `id IN (…)` and
 * `CASE id WHEN …` mean the same with an id repeated, and the claim and sent statements then come in eight
 * shapes instead of a hundred, so SQLite prepares each once and keeps it (a 64-row statement takes about
 * 0.5 ms to prepare).
 */
function padded<T>(chunk: T[]): T[] {
  let size = 1;
  while (size < chunk.length) size *= 2;
  if (size === chunk.length) return chunk;
  const last = chunk[chunk.length - 1]!;
  return [...chunk, ...Array.from({ length: size - chunk.length }, () => last)];
}

export interface NewDelivery {
  articleId: string | null;
  destinationId: string;
  kind: DeliveryKind;
  priority: number;
  payload: OutboundMessage[];
  articleVersion?: number;
  /** Not before this time (quiet hours). */
  notBefore?: Date;
}

export class Outbox {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Inserts deliveries in one transaction; returns their ids in order. `alsoIn` writes more in the same
   * transaction once the ids are known (a digest records its slot): if it throws, nothing is queued.
   */
  async enqueue(items: NewDelivery[], alsoIn?: (trx: Transaction<Database>, ids: number[]) => Promise<void>): Promise<number[]> {
    if (items.length === 0 && !alsoIn) return [];
    const now = this.clock().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const ids: number[] = [];
      // Chunks keep each statement under SQLite's bound-parameter limit.
      for (let i = 0; i < items.length; i += 200) {
        const rows = items.slice(i, i + 200).map((d) => ({
          article_id: d.articleId,
          destination_id: d.destinationId,
          kind: d.kind,
          priority: d.priority,
          status: 'pending',
          payload: JSON.stringify(d.payload),
          attempts: 0,
          next_attempt_at: (d.notBefore ?? this.clock()).toISOString(),
          last_error: null,
          message_ids: null,
          article_version: d.articleVersion ?? 1,
          claimed_by: null,
          claimed_until: null,
          created_at: now,
          updated_at: now,
          sent_at: null,
        }));
        const res = await trx.insertInto('deliveries').values(rows).returning('id').execute();
        ids.push(...res.map((r) => r.id));
      }
      if (alsoIn) await alsoIn(trx, ids);
      return ids;
    });
  }

  /** Has this article already been queued (or sent) for this destination? */
  async exists(articleId: string, destinationId: string, kind: DeliveryKind = 'article'): Promise<boolean> {
    const row = await this.db
      .selectFrom('deliveries')
      .select('id')
      .where('article_id', '=', articleId)
      .where('destination_id', '=', destinationId)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The head of the queue: pending rows in send order (priority, then age), due or not, without their
   * payloads. Rows not yet due still matter: they hold back later rows of the same chat so that a chat
   * receives posts in order.
   */
  async window(limit: number): Promise<QueueEntry[]> {
    return this.db
      .selectFrom('deliveries')
      .select(['id', 'destination_id', 'kind', 'priority', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .orderBy('priority', 'desc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
  }

  /**
   * The first few pending rows of every chat, in send order: what the dispatcher reads when the plain
   * window is crowded by a few chats that cannot send now (a platform down, a channel at its per-minute
   * limit), so that the other chats are not starved behind them.
   */
  async heads(limit: number, perChat = 5): Promise<QueueEntry[]> {
    const res = await sql<QueueEntry>`
      SELECT id, destination_id, kind, priority, next_attempt_at FROM (
        SELECT id, destination_id, kind, priority, next_attempt_at,
               ROW_NUMBER() OVER (PARTITION BY destination_id ORDER BY priority DESC, id ASC) AS rn
        FROM deliveries WHERE status = 'pending'
      ) AS ranked
      WHERE rn <= ${perChat}
      ORDER BY priority DESC, id ASC
      LIMIT ${limit}`.execute(this.db);
    return res.rows.map((r) => ({ ...r, id: Number(r.id), priority: Number(r.priority) }));
  }

  /** Atomically takes a pending row for sending. False when another worker took it first. */
  async claim(id: number, holder: string, leaseMs: number): Promise<boolean> {
    return (await this.claimMany([id], holder, leaseMs)).size === 1;
  }

  /**
   * Takes the pending rows among `ids` for sending, in one statement, and returns them whole (payload
   * included) by id. A row another worker claimed first (its status is no longer `pending`) is simply not
   * in the result, so two dispatch loops never hold the same row. The claim is the holder's instance id
   * and an expiry (`claimed_until`): a crashed holder's rows are taken back by `recover` once it expires.
   * This is the only place claim SQL is written; `claim` is the one-row case.
   */
  async claimMany(ids: number[], holder: string, leaseMs: number): Promise<Map<number, DeliveryRow>> {
    const out = new Map<number, DeliveryRow>();
    if (ids.length === 0) return out;
    const now = this.clock();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.db
        .updateTable('deliveries')
        .set({
          status: 'sending',
          claimed_by: holder,
          claimed_until: new Date(now.getTime() + leaseMs).toISOString(),
          updated_at: now.toISOString(),
        })
        .where('id', 'in', padded(ids.slice(i, i + CHUNK)))
        // coalesce() keeps SQLite on the primary key: on a bare `status =` it walks the queue index over
        // every pending row (100,000 in a backlog) for each claim. Same meaning on PostgreSQL.
        .where(sql<string>`coalesce(status, '')`, '=', 'pending')
        .returningAll()
        .execute();
      for (const r of rows) out.set(Number(r.id), { ...r, id: Number(r.id) });
    }
    return out;
  }

  /** Records the platform ids of the messages sent so far (called after each message of a multi-part delivery). */
  async recordProgress(id: number, messageIds: string[]): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set({ message_ids: JSON.stringify(messageIds), updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async markSent(id: number, messageIds: string[], note: string | null = null): Promise<void> {
    await this.markSentMany([{ id, messageIds, note }]);
  }

  /**
   * Records many sends in one transaction (one UPDATE per chunk of rows, the per-row values chosen with
   * CASE, which SQLite and PostgreSQL both read the same way). `sentAt` defaults to now.
   */
  async markSentMany(items: SentRecord[]): Promise<void> {
    if (items.length === 0) return;
    const now = this.clock().toISOString();
    const write = async (db: Db) => {
      for (let i = 0; i < items.length; i += CHUNK) {
        const chunk = padded(items.slice(i, i + CHUNK));
        const pick = (value: (r: SentRecord) => string | null) =>
          chunk.length === 1 ? sql<string | null>`${value(chunk[0]!)}` : sql<string | null>`CASE id ${sql.join(chunk.map((r) => sql`WHEN ${r.id} THEN ${value(r)}`), sql` `)} END`;
        await db
          .updateTable('deliveries')
          .set({
            status: 'sent',
            message_ids: pick((r) => JSON.stringify(r.messageIds)),
            sent_at: pick((r) => r.sentAt ?? now),
            updated_at: now,
            last_error: pick((r) => r.note ?? null),
            attempts: sql<number>`attempts + 1`,
            claimed_by: null,
            claimed_until: null,
          })
          .where('id', 'in', chunk.map((r) => r.id))
          .execute();
      }
    };
    if (items.length <= CHUNK) await write(this.db);
    else await this.db.transaction().execute((trx) => write(trx));
  }

  /** Back to pending, to be tried at `at`. `countAttempt` is false for waits that are not failures (429, restricted). */
  async retryAt(id: number, at: Date, error: string, countAttempt: boolean): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set({
        status: 'pending',
        next_attempt_at: at.toISOString(),
        last_error: error,
        updated_at: this.clock().toISOString(),
        claimed_by: null,
        claimed_until: null,
        ...(countAttempt ? { attempts: sql<number>`attempts + 1` } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  async finish(id: number, status: 'failed' | 'dead' | 'cancelled', error: string): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set({
        status,
        last_error: error,
        updated_at: this.clock().toISOString(),
        attempts: sql<number>`attempts + 1`,
        claimed_by: null,
        claimed_until: null,
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Puts `failed` deliveries back in the queue with their attempts reset: after an outage that outlasted
   * MAX_ATTEMPTS. Only rows that failed since `since` (by their last update); dead destinations stay dead.
   * Returns how many were requeued.
   */
  async requeueFailed(since: Date): Promise<number> {
    const now = this.clock().toISOString();
    const res = await this.db
      .updateTable('deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, updated_at: now })
      .where('status', '=', 'failed')
      .where('updated_at', '>=', since.toISOString())
      .where('destination_id', 'in', (eb) => eb.selectFrom('destinations').select('destinations.id').where('destinations.status', '=', 'active'))
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Every pending row of a destination that is gone becomes dead, with the reason. Returns how many. */
  async killDestination(destinationId: string, reason: string): Promise<number> {
    const res = await this.db
      .updateTable('deliveries')
      .set({ status: 'dead', last_error: reason, updated_at: this.clock().toISOString() })
      .where('destination_id', '=', destinationId)
      .where('status', 'in', ['pending', 'sending'])
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /**
   * At start: rows left `sending` by a process that died (or whose claim expired) go back to pending.
   * Their parts already recorded as sent are skipped; the rest is sent again (the crash bound above).
   */
  async recover(holder: string | null = null): Promise<number> {
    const now = this.clock().toISOString();
    let q = this.db
      .updateTable('deliveries')
      .set({ status: 'pending', claimed_by: null, claimed_until: null, updated_at: now })
      .where('status', '=', 'sending');
    q = holder ? q.where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', holder)])) : q;
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /**
   * Rows this process claimed but is no longer sending (a claim whose outcome the store lost while it was
   * failing) go back to pending; rows in `keep` (still in flight, or with an outcome waiting to be written)
   * stay claimed. Returns how many were released.
   */
  async releaseClaims(holder: string, keep: number[]): Promise<number> {
    let q = this.db
      .updateTable('deliveries')
      .set({ status: 'pending', claimed_by: null, claimed_until: null, updated_at: this.clock().toISOString() })
      .where('status', '=', 'sending')
      .where('claimed_by', '=', holder);
    if (keep.length) q = q.where('id', 'not in', keep);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async get(id: number): Promise<DeliveryRow | undefined> {
    return this.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The sent article deliveries of an article, for edits after an update. */
  async sentFor(articleId: string, since: Date): Promise<DeliveryRow[]> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('article_id', '=', articleId)
      .where('kind', '=', 'article')
      .where('status', '=', 'sent')
      .where('sent_at', '>=', since.toISOString())
      .execute();
  }

  /** Queue depth per destination and status, for /status and /metrics. */
  async depth(): Promise<{ destination_id: string; status: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['destination_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['pending', 'sending'])
      .groupBy(['destination_id', 'status'])
      .execute();
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
