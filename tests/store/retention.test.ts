import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ArticleRepo } from '../../src/store/articles.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { pruneOnce, startRetention } from '../../src/store/retention.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { tempDir } from '../e2e/helpers.js';
import { postgresUnavailable, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

/**
 * RETENTION on SQLite and on a real PostgreSQL: old articles go with their finished deliveries, in
 * batches; pending deliveries, unrouted articles and every item a feed still lists (even one answering
 * 304 for months) stay; a story that left its feed, was pruned and comes back is not posted again.
 */

const DAY = 86_400_000;
const FEED = 'https://jornal.example/feed';
const OTHER = 'https://outro.example/feed';
const t0 = Date.parse('2026-01-01T12:00:00.000Z');

function story(id: string, over: Partial<Article> = {}): Article {
  return {
    id: `guid:${id}-jornal-exemplo`,
    url: `https://jornal.example/${id}`,
    title: `Título ${id}`,
    lead: `Lide ${id}`,
    body: '',
    section: null,
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: new Date(t0 - DAY),
    updatedAt: null,
    feedUrl: FEED,
    ...over,
  };
}

async function scenario(store: Store) {
  let now = t0;
  const clock = () => new Date(now);
  const feeds = new FeedRepo(store.db, clock);
  const articles = new ArticleRepo(store.db, clock);
  const outbox = new Outbox(store.db);
  await feeds.sync([FEED, OTHER]);
  const [a, b, c, d] = ['current', 'dropped', 'pending', 'pushed'].map((id) => story(id));
  const e = story('other', { feedUrl: OTHER });
  const extra = Array.from({ length: 7 }, (_, i) => story(`extra${i}`));
  // Day 0: the feed lists a, b, c and the extras; the other feed lists e; d is an editor's push.
  await articles.record([a!, b!, c!, ...extra], { firstPoll: false, backfill: 0 });
  await articles.record([e], { firstPoll: false, backfill: 0 });
  await articles.put({ ...d!, feedUrl: null });
  await feeds.update(FEED, { primed_at: clock().toISOString(), last_body_at: clock().toISOString(), last_polled_at: clock().toISOString() });
  await feeds.update(OTHER, { primed_at: clock().toISOString(), last_body_at: clock().toISOString(), last_polled_at: clock().toISOString() });
  const sent = (articleId: string | null, status: string, kind: 'article' | 'reply' = 'article') =>
    outbox.enqueue([{ articleId, destinationId: 'telegram:@canal', kind, priority: 0, payload: [] }]).then(async ([id]) => {
      await store.db.updateTable('deliveries').set({ status, created_at: clock().toISOString() }).where('id', '=', id!).execute();
      return id!;
    });
  await sent(a!.id, 'sent');
  await sent(b!.id, 'sent');
  await sent(b!.id, 'failed');
  const pendingRow = await sent(c!.id, 'pending');
  await sent(d!.id, 'sent');
  await sent(e.id, 'sent');
  await sent(null, 'sent', 'reply');
  const pendingReply = await sent(null, 'pending', 'reply');
  await store.db.updateTable('articles').set({ state: 'routed' }).execute();

  // Day 1: the feed's body lists only a (b, c and the extras are gone from it). Then it answers 304 for 99 days.
  now = t0 + DAY;
  await articles.record([a!], { firstPoll: false, backfill: 0 });
  await feeds.update(FEED, { last_body_at: clock().toISOString(), last_polled_at: clock().toISOString() });
  // The other feed leaves the list.
  await feeds.sync([FEED]);
  now = t0 + 100 * DAY;
  await feeds.update(FEED, { last_polled_at: clock().toISOString() });

  let pauses = 0;
  const r = await pruneOnce(store.db, { now: clock(), retentionMs: 90 * DAY, batch: 3, pause: async () => void pauses++ });
  const left = (await store.db.selectFrom('articles').select('id').orderBy('id').execute()).map((x) => x.id);
  const deliveries = await store.db.selectFrom('deliveries').select(['id', 'article_id', 'status']).orderBy('id').execute();
  return { r, pauses, left, deliveries, ids: { a: a!.id, b: b!.id, c: c!.id, d: d!.id, e: e.id }, pendingRow, pendingReply, store, feeds, articles, clock, later: (ms: number) => (now += ms), stories: { a: a!, b: b! } };
}

function checks(open: () => Promise<Store>) {
  it('prunes what no feed lists any more, with its finished deliveries, in batches; keeps pending rows and what a 304 feed still lists', async () => {
    const store = await open();
    try {
      const s = await scenario(store);
      // b, d (the push), e (its feed left the list) and the 7 extras: 10 articles, 3 per batch.
      expect(s.r).toEqual({ articles: 10, deliveries: 4, replies: 1, feedsReset: 1 });
      expect(s.pauses).toBeGreaterThanOrEqual(3);
      // a: the feed still lists it (it answered 304 since the body that had it). c: a pending delivery.
      expect(s.left).toEqual([s.ids.a, s.ids.c].sort());
      expect(s.deliveries.map((d) => [d.article_id, d.status])).toEqual([
        [s.ids.a, 'sent'],
        [s.ids.c, 'pending'],
        [null, 'pending'],
      ]);
      // The feed that left the list starts afresh if it comes back (its first poll records, posts nothing).
      expect((await s.feeds.get(OTHER))?.primed_at).toBeNull();
      expect((await s.feeds.get(FEED))?.primed_at).not.toBeNull();
      // A second pass finds nothing more.
      expect(await pruneOnce(store.db, { now: s.clock(), retentionMs: 90 * 86_400_000 })).toEqual({ articles: 0, deliveries: 0, replies: 0, feedsReset: 0 });

      // The feed changes at last: a is known (not posted again); b came back after pruning and is older
      // than MAX_ARTICLE_AGE, so it is recorded without posting.
      const rec = await s.articles.record([s.stories.a, s.stories.b], { firstPoll: false, backfill: 0, maxAgeMs: 48 * 3_600_000 });
      expect(rec.fresh).toEqual([]);
      expect(rec.unchanged).toBe(1);
      expect(rec.stale).toBe(1);
    } finally {
      await store.close();
    }
  });
}

describe('retention on SQLite', () => {
  const dir = tempDir('manchete-retention-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  checks(() => openStore(`sqlite:${join(dir, `db${n++}.sqlite`)}`));

  it('the pruning clock runs a pass and logs what it pruned; stop() waits for it', async () => {
    const store = await openStore(`sqlite:${join(dir, 'clock.sqlite')}`);
    try {
      await scenario(store).then(async (s) => {
        // Everything already pruned by the scenario's pass: put one more old article in.
        await s.articles.put(story('late', { feedUrl: null }));
        s.later(91 * DAY);
        const mem = memoryLogger();
        const r = startRetention({ db: store.db, retentionMs: 90 * DAY, logger: mem.logger, clock: s.clock, firstAfterMs: 10_000 });
        expect(await r.runNow()).toMatchObject({ articles: 1 });
        await r.stop();
        expect(mem.lines.some((l) => l.includes('"event":"retention.pruned"'))).toBe(true);
      });
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(postgresUnavailable !== null)(`retention on PostgreSQL${postgresUnavailable ? ` (skipped: ${postgresUnavailable})` : ''}`, () => {
  let pg: PostgresCluster;
  let n = 0;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });
  checks(async () => openStore(await pg.createDatabase(`retention_${n++}`)));
});
