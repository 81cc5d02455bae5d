import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { proto } from '@whiskeysockets/baileys';
import type { Article } from '../../src/articles/article.js';
import { migrate, openStore, redactDatabaseUrl, StoreConnectError, type Store } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations/index.js';
import { ArticleRepo } from '../../src/store/articles.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { Outbox, type NewDelivery } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import {
  addSubscription,
  clearSubscriptions,
  getPauseState,
  getSubscriber,
  recentAudit,
  removeSubscription,
  setPaused,
  subscribersForTopics,
  subscriptionsOf,
  upsertSubscriber,
  writeAudit,
} from '../../src/commands/repo.js';
import { isPaired, useDatabaseAuthState } from '../../src/platforms/whatsapp/auth-store.js';
import { acquireLease, releaseLease, renewLease } from '../../src/platforms/whatsapp/lease.js';
import { acquireInstanceLock, InstanceLockedError, readInstanceLock } from '../../src/store/instance-lock.js';
import { PendingPushes } from '../../src/commands/pending.js';
import { freePort, postgresUnavailable, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

/**
 * The store, the outbox, the command repo and the WhatsApp auth/lease tables against a real PostgreSQL 15
 * (a throwaway cluster on 127.0.0.1): the same kysely code and migrations that the SQLite tests pin down
 * must behave the same here. Skipped, with the reason in the suite's name, where PostgreSQL is not installed.
 */

const t0 = new Date('2025-03-10T12:00:00.000Z');

function article(id: string, over: Partial<Article> = {}): Article {
  return {
    id,
    url: `https://jornal.example/${id}`,
    title: `Título ${id}`,
    lead: `Lide ${id}`,
    body: `Corpo ${id}`,
    section: null,
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: null,
    updatedAt: null,
    feedUrl: 'https://jornal.example/feed',
    ...over,
  };
}

function delivery(destinationId: string, priority = 0, over: Partial<NewDelivery> = {}): NewDelivery {
  return { articleId: null, destinationId, kind: 'article', priority, payload: [], ...over };
}

describe('openStore on PostgreSQL: failures (no server needed)', () => {
  it('says the server cannot be reached, without printing the password', async () => {
    const port = await freePort(); // nobody listens there
    const url = `postgres://manchete:hunter2@127.0.0.1:${port}/news`;
    const err = await openStore(url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreConnectError);
    const e = err as StoreConnectError;
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.url).toBe(`postgres://manchete:***@127.0.0.1:${port}/news`);
    expect(e.message).toBe(
      `DATABASE_URL postgres://manchete:***@127.0.0.1:${port}/news: cannot connect (ECONNREFUSED); is PostgreSQL running?`,
    );
    expect(e.message).not.toContain('hunter2');
  });

  it('masks the password of an unsupported URL too', async () => {
    await expect(openStore('mysql://root:hunter2@db/news')).rejects.toThrow('DATABASE_URL="mysql://root:***@db/news" is not supported');
  });

  it('redacts passwords in the user part and in parameters, and leaves password-less URLs alone', () => {
    expect(redactDatabaseUrl('postgres://u:p%40ss@db:5432/news?sslmode=require')).toBe('postgres://u:***@db:5432/news?sslmode=require');
    expect(redactDatabaseUrl('postgresql://u@db/news?password=x')).toBe('postgresql://u@db/news?password=***');
    expect(redactDatabaseUrl('postgres://u:secret@[broken/news')).toBe('postgres://u:***@[broken/news');
    expect(redactDatabaseUrl('sqlite:./data/manchete.db')).toBe('sqlite:./data/manchete.db');
  });
});

describe.skipIf(postgresUnavailable !== null)(
  `PostgreSQL store${postgresUnavailable ? ` (skipped: ${postgresUnavailable})` : ''}`,
  () => {
    let cluster: PostgresCluster;
    const stores: Store[] = [];
    /** A migrated store on a database of its own. */
    const freshStore = async (name: string): Promise<Store> => {
      const store = await openStore(await cluster.createDatabase(name));
      stores.push(store);
      return store;
    };

    beforeAll(async () => {
      cluster = await startPostgres();
    }, 30_000);

    afterAll(async () => {
      for (const s of stores) await s.close().catch(() => undefined);
      await cluster?.stop();
    }, 30_000);

    describe('migrations', () => {
      it('creates every table, and running them again (or from a second instance) changes nothing', async () => {
        const url = await cluster.createDatabase('migrations');
        // Two instances starting at once against an empty database: kysely's migration lock serialises them.
        const [a, b] = await Promise.all([openStore(url), openStore(url)]);
        stores.push(a, b);
        expect(a.dialect).toBe('postgres');
        const tables = await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(a.db);
        expect(tables.rows.map((r) => r.table_name)).toEqual(
          [
            'articles', 'audit_log', 'deliveries', 'desk_sessions', 'destinations', 'digest_items', 'digest_slots', 'feed_claims', 'feeds', 'instance_lock', 'instances', 'kysely_migration', 'kysely_migration_lock',
            'leases', 'pending_pushes', 'rate_budget', 'reply_hits', 'settings', 'subscriber_alerts', 'subscribers', 'subscriptions', 'telegram_updates', 'wa_auth', 'websub_subscriptions',
          ],
        );
        const applied = async () =>
          (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(a.db)).rows.map((r) => r.name);
        const names = Object.keys(migrations('postgres'));
        expect(await applied()).toEqual(names);

        await migrate(a.db, 'postgres');
        const c = await openStore(url);
        await c.close();
        expect(await applied()).toEqual(names);
      });

      it('survives the server dropping idle connections: reported, not thrown, and the next query reconnects', async () => {
        const url = await cluster.createDatabase('connection_loss');
        const lost: string[] = [];
        const store = await openStore(url, { onConnectionError: (m) => lost.push(m) });
        stores.push(store);
        const killer = await openStore(url);
        stores.push(killer);
        const { rows } = await sql<{ n: number }>`
          select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where datname = 'connection_loss' and pid <> pg_backend_pid()`.execute(killer.db);
        expect(rows[0]?.n).toBeGreaterThan(0);
        await expect.poll(() => lost.length).toBeGreaterThan(0);
        expect(lost[0]).toMatch(/^DATABASE_URL postgres:\/\/manchete@127\.0\.0\.1:\d+\/connection_loss: connection lost: /);
        expect(await new FeedRepo(store.db).list()).toEqual([]);
      });

      it('fails with a clear error for a database that does not exist', async () => {
        const url = cluster.url.replace(/\/postgres$/, '/no_such_db');
        await expect(openStore(url)).rejects.toThrow(/DATABASE_URL postgres:\/\/manchete@127\.0\.0\.1:\d+\/no_such_db: the database does not exist \(3D000/);
      });
    });

    describe('ArticleRepo', () => {
      let store: Store;
      beforeAll(async () => {
        store = await freshStore('articles');
      });

      it('records a first poll as backlog but the newest, then sees fresh and updated stories', async () => {
        let now = t0;
        const repo = new ArticleRepo(store.db, () => now);
        const at = (h: number) => new Date(Date.UTC(2025, 2, 10, h));
        const first = [
          article('a1', { publishedAt: at(8) }),
          article('a2', { publishedAt: at(10) }),
          article('a3', { publishedAt: at(9) }),
          article('a2', { publishedAt: at(10) }), // a feed listing one story twice
        ];
        const r1 = await repo.record(first, { firstPoll: true, backfill: 1 });
        expect(r1.fresh.map((a) => a.id)).toEqual(['a2']);
        expect(r1).toMatchObject({ backlog: 2, unchanged: 0, updated: [] });
        const states = await store.db.selectFrom('articles').select(['id', 'state', 'version']).orderBy('id').execute();
        expect(states).toEqual([
          { id: 'a1', state: 'backlog', version: 1 },
          { id: 'a2', state: 'new', version: 1 },
          { id: 'a3', state: 'backlog', version: 1 },
        ]);

        now = new Date(t0.getTime() + 60_000);
        const r2 = await repo.record(
          [
            article('a4', { publishedAt: at(12) }),
            article('a5', { publishedAt: at(11) }),
            article('a1', { publishedAt: at(8), title: 'Título a1 (atualizado)' }),
            article('a2', { publishedAt: at(10) }),
          ],
          { firstPoll: false, backfill: 1 },
        );
        expect(r2.fresh.map((a) => a.id)).toEqual(['a5', 'a4']); // oldest first
        expect(r2.unchanged).toBe(1);
        expect(r2.updated).toHaveLength(1);
        expect(r2.updated[0]).toMatchObject({ version: 2, firstSeenAt: t0 });
        expect(r2.updated[0]?.article.id).toBe('a1');
        expect(await repo.get('a1')).toMatchObject({ title: 'Título a1 (atualizado)', version: 2 });

        expect(await repo.record([], { firstPoll: false, backfill: 5 })).toEqual({ fresh: [], updated: [], backlog: 0, heldBack: 0, stale: 0, unchanged: 0 });
      });

      it('put inserts, keeps the version for the same text and bumps it for a new one; fields round-trip', async () => {
        const repo = new ArticleRepo(store.db, () => t0);
        const a = article('p1', {
          section: 'Política',
          tags: ['eleições', 'STF'],
          imageUrl: 'https://jornal.example/p1.jpg',
          imageCaption: 'Legenda',
          imageCredit: 'Foto: Agência',
          author: 'Maria',
          publishedAt: new Date('2025-03-09T10:00:00.000Z'),
          updatedAt: new Date('2025-03-09T11:00:00.000Z'),
          feedUrl: null,
        });
        expect(await repo.put(a)).toBe(1);
        expect(await repo.put(a)).toBe(1);
        expect(await repo.put({ ...a, lead: 'Outro lide' })).toBe(2);
        expect(await repo.get('p1')).toEqual({ ...a, lead: 'Outro lide', version: 2 });
        expect(await repo.byUrl('https://jornal.example/p1')).toMatchObject({ id: 'p1' });
        expect(await repo.get('nope')).toBeUndefined();
      });

      it('stores text with NUL characters, which PostgreSQL rejects, by dropping them', async () => {
        const repo = new ArticleRepo(store.db, () => t0);
        expect(await repo.put(article('nul', { title: 'Tí\u0000tulo', body: 'a\u0000b', author: '\u0000Ana' }))).toBe(1);
        expect(await repo.get('nul')).toMatchObject({ title: 'Título', body: 'ab', author: 'Ana' });
        // Same text as before once cleaned: no new version.
        expect(await repo.put(article('nul', { title: 'Tí\u0000tulo', body: 'a\u0000b', author: '\u0000Ana' }))).toBe(1);
      });

      it('latest sorts by publication; sections count the most frequent first', async () => {
        const fresh = await freshStore('articles_latest');
        const repo = new ArticleRepo(fresh.db, () => t0);
        await repo.put(article('l1', { section: 'Mundo', publishedAt: new Date('2025-03-01T00:00:00Z') }));
        await repo.put(article('l2', { section: 'Esportes', publishedAt: new Date('2025-03-03T00:00:00Z') }));
        await repo.put(article('l3', { section: 'Mundo', publishedAt: new Date('2025-03-02T00:00:00Z') }));
        await repo.put(article('l4', { section: null, publishedAt: new Date('2025-03-04T00:00:00Z') }));
        expect((await repo.latest(2)).map((a) => a.id)).toEqual(['l4', 'l2']);
        expect((await repo.latest(5, (a) => a.section === 'Mundo')).map((a) => a.id)).toEqual(['l3', 'l1']);
        expect(await repo.sections()).toEqual(['Mundo', 'Esportes']);
        await repo.setState(['l1', 'l2'], 'new');
        expect((await repo.unrouted()).map((a) => a.id).sort()).toEqual(['l1', 'l2']);
      });
    });

    describe('FeedRepo', () => {
      it('ensure creates once (also when two instances race), update patches, list sorts by URL', async () => {
        const store = await freshStore('feeds');
        let now = t0;
        const feeds = new FeedRepo(store.db, () => now);
        const [x, y] = await Promise.all([feeds.ensure('https://b.example/feed'), feeds.ensure('https://b.example/feed')]);
        expect(x).toEqual(y);
        expect(x).toMatchObject({ url: 'https://b.example/feed', failures: 0, created_at: t0.toISOString(), primed_at: null });
        now = new Date(t0.getTime() + 1000);
        expect((await feeds.ensure('https://b.example/feed')).created_at).toBe(t0.toISOString());
        await feeds.ensure('https://a.example/rss');
        await feeds.update('https://b.example/feed', {
          etag: '"v1"',
          failures: 3,
          min_interval_s: 600,
          title: 'Jornal\u0000',
          last_error: 'HTTP 503\u0000',
          next_poll_at: '2025-03-10T12:10:00.000Z',
        });
        const list = await feeds.list();
        expect(list.map((f) => f.url)).toEqual(['https://a.example/rss', 'https://b.example/feed']);
        expect(list[1]).toMatchObject({ title: 'Jornal', etag: '"v1"', failures: 3, min_interval_s: 600, last_error: 'HTTP 503' });
        expect(typeof list[1]?.failures).toBe('number');
        expect(await feeds.get('https://nope.example/')).toBeUndefined();
      });

      it('feeds added at run time: add (racing too), update, read as managed in order, remove', async () => {
        const store = await freshStore('managed_feeds');
        let now = t0;
        const feeds = new FeedRepo(store.db, () => now);
        const adds = await Promise.all([
          feeds.addManaged({ url: 'https://c.example/feed', section: 'Política', intervalS: 300, addedBy: 'cli (ana)' }),
          feeds.addManaged({ url: 'https://c.example/feed', section: 'Política', intervalS: 300, addedBy: 'cli (ana)' }),
        ]);
        expect(adds.filter(Boolean).length).toBeGreaterThanOrEqual(1);
        now = new Date(t0.getTime() + 1000);
        await feeds.ensure('https://a.example/configured');
        expect(await feeds.addManaged({ url: 'https://a.example/configured', addedBy: 'cli (bia)' })).toBe(true);
        expect(await feeds.addManaged({ url: 'https://c.example/feed', section: 'Brasil', addedBy: 'cli (bia)' })).toBe(false);
        expect(await feeds.managed()).toEqual([
          { url: 'https://c.example/feed', section: 'Brasil', intervalS: null },
          { url: 'https://a.example/configured', section: null, intervalS: null },
        ]);
        expect(await feeds.get('https://c.example/feed')).toMatchObject({ managed: 1, added_by: 'cli (ana)', added_at: t0.toISOString() });
        expect(await feeds.removeManaged('https://c.example/feed')).toBe(true);
        expect(await feeds.removeManaged('https://c.example/feed')).toBe(false);
        expect((await feeds.managed()).map((m) => m.url)).toEqual(['https://a.example/configured']);
      });
    });

    describe('Outbox', () => {
      let store: Store;
      let now: Date;
      let outbox: Outbox;
      beforeAll(async () => {
        store = await freshStore('outbox');
        now = t0;
        outbox = new Outbox(store.db, () => now);
      });
      const clearQueue = () => store.db.deleteFrom('deliveries').execute();

      it('enqueue returns the new ids in order; the window is priority first, then age', async () => {
        await clearQueue();
        expect(await outbox.enqueue([])).toEqual([]);
        const ids = await outbox.enqueue([
          delivery('telegram:@a', 0, { articleId: 'x1', payload: [{ kind: 'text', text: 'oi' }] }),
          delivery('telegram:@a', 10),
          delivery('telegram:@b', 0),
          delivery('telegram:@b', 20),
          delivery('telegram:@a', 10, { notBefore: new Date('2025-03-10T22:00:00.000Z') }),
        ]);
        expect(ids).toHaveLength(5);
        ids.forEach((id) => expect(typeof id).toBe('number'));
        expect([...ids].sort((p, q) => p - q)).toEqual(ids);
        const [i0, i1, i2, i3, i4] = ids as [number, number, number, number, number];
        const window = await outbox.window(10);
        expect(window.map((w) => w.id)).toEqual([i3, i1, i4, i0, i2]);
        expect(window[2]).toEqual({ id: i4, destination_id: 'telegram:@a', kind: 'article', priority: 10, next_attempt_at: '2025-03-10T22:00:00.000Z' });
        expect((await outbox.window(2)).map((w) => w.id)).toEqual([i3, i1]);
        // The first row of each chat (window function, same SQL as on SQLite).
        expect((await outbox.heads(10, 1)).map((w) => w.id)).toEqual([i3, i1]);
        expect((await outbox.heads(10, 2)).map((w) => w.id)).toEqual([i3, i1, i4, i2]);
        expect(await outbox.exists('x1', 'telegram:@a')).toBe(true);
        expect(await outbox.exists('x1', 'telegram:@b')).toBe(false);
        expect(JSON.parse((await outbox.get(i0))!.payload)).toEqual([{ kind: 'text', text: 'oi' }]);
      });

      it('enqueues more rows than one insert statement takes', async () => {
        await clearQueue();
        const ids = await outbox.enqueue(Array.from({ length: 450 }, (_, i) => delivery(`telegram:@d${i % 7}`)));
        expect(ids).toHaveLength(450);
        expect(new Set(ids).size).toBe(450);
        expect(await outbox.counts()).toEqual({ pending: 450 });
      });

      it('two workers claiming one row at the same moment: exactly one wins', async () => {
        await clearQueue();
        const [id] = (await outbox.enqueue([delivery('telegram:@a')])) as [number];
        const results = await Promise.all([outbox.claim(id, 'w1', 60_000), outbox.claim(id, 'w2', 60_000)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const row = await outbox.get(id);
        expect(row?.status).toBe('sending');
        expect(row?.claimed_by).toBe(results[0] ? 'w1' : 'w2');
        expect(row?.claimed_until).toBe('2025-03-10T12:01:00.000Z');
        expect(await outbox.claim(id, 'w3', 60_000)).toBe(false);
      });

      it('four workers racing over twenty rows claim each row exactly once', async () => {
        await clearQueue();
        const ids = await outbox.enqueue(Array.from({ length: 20 }, () => delivery('telegram:@race')));
        const won = await Promise.all(
          ['w1', 'w2', 'w3', 'w4'].map(async (w) => {
            const mine: number[] = [];
            for (const id of ids) if (await outbox.claim(id, w, 60_000)) mine.push(id);
            return mine;
          }),
        );
        expect(won.flat().sort((p, q) => p - q)).toEqual(ids);
      });

      it('walks a delivery through progress, retries, sending and the terminal states', async () => {
        await clearQueue();
        const [a, b, c, d] = (await outbox.enqueue([
          delivery('telegram:@a', 0, { articleId: 'art' }),
          delivery('telegram:@a'),
          delivery('telegram:@b'),
          delivery('telegram:@b'),
        ])) as [number, number, number, number];

        expect(await outbox.claim(a, 'w1', 60_000)).toBe(true);
        await outbox.recordProgress(a, ['10']);
        expect((await outbox.get(a))?.message_ids).toBe('["10"]');
        now = new Date(t0.getTime() + 5_000);
        await outbox.markSent(a, ['10', '11']);
        expect(await outbox.get(a)).toMatchObject({
          status: 'sent',
          attempts: 1,
          message_ids: '["10","11"]',
          sent_at: '2025-03-10T12:00:05.000Z',
          claimed_by: null,
          claimed_until: null,
        });
        expect((await outbox.sentFor('art', t0)).map((r) => r.id)).toEqual([a]);
        expect(await outbox.sentFor('art', new Date(t0.getTime() + 10_000))).toEqual([]);

        expect(await outbox.claim(b, 'w1', 60_000)).toBe(true);
        await outbox.retryAt(b, new Date('2025-03-10T12:05:00.000Z'), 'HTTP 429', false);
        expect(await outbox.get(b)).toMatchObject({ status: 'pending', attempts: 0, last_error: 'HTTP 429', next_attempt_at: '2025-03-10T12:05:00.000Z' });
        await outbox.retryAt(b, new Date('2025-03-10T12:06:00.000Z'), 'timeout', true);
        expect(await outbox.get(b)).toMatchObject({ status: 'pending', attempts: 1 });
        await outbox.finish(b, 'failed', 'gave up');
        expect(await outbox.get(b)).toMatchObject({ status: 'failed', attempts: 2, last_error: 'gave up' });

        expect(await outbox.claim(c, 'w1', 60_000)).toBe(true);
        expect(await outbox.killDestination('telegram:@b', 'bot was kicked')).toBe(2);
        expect(await outbox.get(d)).toMatchObject({ status: 'dead', last_error: 'bot was kicked' });
        expect(await outbox.killDestination('telegram:@b', 'again')).toBe(0);

        expect(await outbox.counts()).toEqual({ sent: 1, failed: 1, dead: 2 });
      });

      it('recover returns expired or own claims to pending; depth and counts are numbers', async () => {
        await clearQueue();
        now = t0;
        const [mine, theirsLive, theirsExpired, waiting] = (await outbox.enqueue([
          delivery('telegram:@a'),
          delivery('telegram:@a'),
          delivery('telegram:@b'),
          delivery('telegram:@b'),
        ])) as [number, number, number, number];
        await outbox.claim(mine, 'me', 600_000);
        await outbox.claim(theirsLive, 'other', 600_000);
        await outbox.claim(theirsExpired, 'other', 1_000);
        now = new Date(t0.getTime() + 60_000);

        const depth = await outbox.depth();
        depth.forEach((r) => expect(typeof r.n).toBe('number'));
        expect(depth.sort((p, q) => `${p.destination_id}${p.status}`.localeCompare(`${q.destination_id}${q.status}`))).toEqual([
          { destination_id: 'telegram:@a', status: 'sending', n: 2 },
          { destination_id: 'telegram:@b', status: 'pending', n: 1 },
          { destination_id: 'telegram:@b', status: 'sending', n: 1 },
        ]);
        const counts = await outbox.counts();
        Object.values(counts).forEach((n) => expect(typeof n).toBe('number'));
        expect(counts).toEqual({ pending: 1, sending: 3 });

        expect(await outbox.recover('me')).toBe(2);
        expect((await outbox.get(mine))?.status).toBe('pending');
        expect((await outbox.get(theirsExpired))?.status).toBe('pending');
        expect(await outbox.get(theirsLive)).toMatchObject({ status: 'sending', claimed_by: 'other' });
        expect((await outbox.get(waiting))?.status).toBe('pending');
        expect(await outbox.recover()).toBe(1);
        expect(await outbox.counts()).toEqual({ pending: 4 });
      });
    });

    describe('DestinationRegistry', () => {
      it('upserts, reads, marks dead, revives only when asked, and follows a migrated chat', async () => {
        const store = await freshStore('destinations');
        const registry = new DestinationRegistry(store.db, () => t0);
        const dest = { id: 'telegram:-100123', platform: 'telegram' as const, chatId: '-100123', threadId: null, options: { silent: true } };
        expect(await registry.upsert(dest)).toEqual({ ...dest, status: 'active', statusReason: null, title: null, kind: null });
        await registry.markDead(dest.id, 'bot was kicked');
        expect(await registry.get(dest.id)).toMatchObject({ status: 'dead', statusReason: 'bot was kicked' });
        expect(await registry.upsert(dest, false)).toMatchObject({ status: 'dead', statusReason: 'bot was kicked' });
        expect(await registry.upsert(dest)).toMatchObject({ status: 'active', statusReason: null });

        await registry.migrate(dest.id, '-100999');
        expect(await registry.get(dest.id)).toMatchObject({ chatId: '-100999', statusReason: 'migrated to -100999' });
        // The routes file still names the old chat: the migrated id is kept.
        expect(await registry.upsert(dest)).toMatchObject({ chatId: '-100999', status: 'active', statusReason: 'migrated to -100999' });

        await registry.describe(dest.id, { title: 'Canal', kind: 'channel' });
        await registry.upsert({ id: 'whatsapp:1203@g.us', platform: 'whatsapp', chatId: '1203@g.us', threadId: null, options: {} });
        expect((await registry.list()).map((d) => d.id)).toEqual(['telegram:-100123', 'whatsapp:1203@g.us']);
        expect((await registry.list('telegram'))[0]).toMatchObject({ title: 'Canal', kind: 'channel' });
        expect(await registry.get('telegram:nope')).toBeUndefined();
      });
    });

    describe('command repo', () => {
      it('keeps subscribers and topics, routes by topic once per subscriber, audits and pauses', async () => {
        const store = await freshStore('commands');
        const db = store.db;
        const ana = await upsertSubscriber(db, { platform: 'telegram', chatId: '10', locale: 'pt-BR', name: 'Ana\u0000' }, t0);
        const bob = await upsertSubscriber(db, { platform: 'telegram', chatId: '2', locale: 'en', name: null }, t0);
        const wa = await upsertSubscriber(db, { platform: 'whatsapp', chatId: '5511@s.whatsapp.net', locale: 'pt-BR', name: null }, t0);
        expect(await getSubscriber(db, ana)).toEqual({ id: ana, platform: 'telegram', chatId: '10', locale: 'pt-BR', active: true, name: 'Ana' });

        expect(await addSubscription(db, ana, 'Política', t0)).toBe(true);
        expect(await addSubscription(db, ana, 'politica', t0)).toBe(false);
        expect(await addSubscription(db, ana, 'Mundo', t0)).toBe(true);
        await addSubscription(db, bob, 'Mundo', t0);
        await addSubscription(db, wa, 'Mundo', t0);
        expect(await subscriptionsOf(db, ana)).toEqual(['mundo', 'politica']);

        expect(await subscribersForTopics(db, 'telegram', ['Mundo', 'POLÍTICA', ''])).toEqual([
          { id: 'telegram:10', platform: 'telegram', chatId: '10', locale: 'pt-BR' },
          { id: 'telegram:2', platform: 'telegram', chatId: '2', locale: 'en' },
        ]);
        expect(await subscribersForTopics(db, 'whatsapp', ['mundo'])).toEqual([
          { id: wa, platform: 'whatsapp', chatId: '5511@s.whatsapp.net', locale: 'pt-BR' },
        ]);
        expect(await subscribersForTopics(db, 'telegram', [])).toEqual([]);

        expect(await removeSubscription(db, ana, 'POLÍTICA')).toBe(true);
        expect(await removeSubscription(db, ana, 'politica')).toBe(false);
        expect(await clearSubscriptions(db, bob, t0)).toBe(1);
        expect((await getSubscriber(db, bob))?.active).toBe(false);
        expect(await subscribersForTopics(db, 'telegram', ['mundo'])).toEqual([
          { id: 'telegram:10', platform: 'telegram', chatId: '10', locale: 'pt-BR' },
        ]);

        await writeAudit(db, { actor: 'telegram:1', action: 'push', detail: 'https://x.example/\u0000a', outcome: 'ok', articleId: 'guid:x' }, t0);
        await writeAudit(db, { actor: 'telegram:1', action: 'pause', detail: null, outcome: 'refused' }, new Date(t0.getTime() + 1000));
        expect(await recentAudit(db, 5)).toEqual([
          { actor: 'telegram:1', action: 'pause', detail: null, outcome: 'refused', articleId: null, at: new Date(t0.getTime() + 1000) },
          { actor: 'telegram:1', action: 'push', detail: 'https://x.example/a', outcome: 'ok', articleId: 'guid:x', at: t0 },
        ]);

        expect(await getPauseState(db)).toEqual({ paused: false, by: null, at: null });
        await setPaused(db, true, 'telegram:1', t0);
        expect(await getPauseState(db)).toEqual({ paused: true, by: 'telegram:1', at: t0 });
        await setPaused(db, false, 'telegram:2', new Date(t0.getTime() + 1000));
        expect(await getPauseState(db)).toEqual({ paused: false, by: 'telegram:2', at: new Date(t0.getTime() + 1000) });
      });
    });

    describe('WhatsApp auth state and lease', () => {
      let store: Store;
      beforeAll(async () => {
        store = await freshStore('whatsapp');
      });

      it('round-trips creds and keys (Buffers, protobufs, deletes, many keys at once)', async () => {
        const auth = await useDatabaseAuthState(store.db, 'default');
        auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Redação' };
        auth.state.creds.account = { details: new Uint8Array([1, 2, 3]) };
        await auth.saveCreds();
        await auth.saveCreds(); // the upsert path
        const appKey = proto.Message.AppStateSyncKeyData.fromObject({ keyData: Buffer.from('k'), timestamp: 1_700_000_000 });
        const preKeys = Object.fromEntries(
          Array.from({ length: 200 }, (_, i) => [String(i), { public: new Uint8Array([i % 256]), private: Buffer.from([1, i % 256]) }]),
        );
        await auth.state.keys.set({ 'pre-key': preKeys, 'app-state-sync-key': { AAAA: appKey }, session: { s1: new Uint8Array([42]) } });
        await auth.state.keys.set({ 'pre-key': { '0': null, '1': { public: new Uint8Array([9]), private: Buffer.from([9]) } } });

        const again = await useDatabaseAuthState(store.db, 'default');
        expect(isPaired(again.state.creds)).toBe(true);
        expect(Buffer.from(again.state.creds.noiseKey.public)).toEqual(Buffer.from(auth.state.creds.noiseKey.public));
        const ids = Array.from({ length: 400 }, (_, i) => String(i));
        const got = await again.state.keys.get('pre-key', ids);
        expect(Object.keys(got)).toHaveLength(199);
        expect(got).not.toHaveProperty('0');
        expect(Buffer.from(got['1']!.public)).toEqual(Buffer.from([9]));
        expect(Buffer.from(got['199']!.private)).toEqual(Buffer.from([1, 199]));
        const app = (await again.state.keys.get('app-state-sync-key', ['AAAA']))['AAAA'];
        expect(app).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
        expect(Buffer.from(app!.keyData!).toString()).toBe('k');

        // Another session in the same table is independent.
        const other = await useDatabaseAuthState(store.db, 'second');
        expect(isPaired(other.state.creds)).toBe(false);
        expect(await other.state.keys.get('session', ['s1'])).toEqual({});

        await again.state.keys.clear?.();
        expect(await again.state.keys.get('session', ['s1'])).toEqual({});
        expect(isPaired((await useDatabaseAuthState(store.db, 'default')).state.creds)).toBe(true);
        await again.clear();
        expect(isPaired((await useDatabaseAuthState(store.db, 'default')).state.creds)).toBe(false);
      });

      it('five processes racing for one lease: exactly one gets it; expiry, renewal and release', async () => {
        let now = Date.parse('2025-03-01T12:00:00Z');
        const clock = () => now;
        const holders = ['h1', 'h2', 'h3', 'h4', 'h5'];
        const results = await Promise.all(holders.map((h) => acquireLease(store.db, 'whatsapp:default', h, 60_000, clock)));
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        const winner = winners[0]!.holder;
        for (const r of results) expect(r).toMatchObject({ holder: winner, expiresAt: new Date('2025-03-01T12:01:00Z') });

        const loser = holders.find((h) => h !== winner)!;
        expect((await renewLease(store.db, 'whatsapp:default', loser, 60_000, clock)).ok).toBe(false);
        now += 30_000;
        expect((await renewLease(store.db, 'whatsapp:default', winner, 60_000, clock)).expiresAt).toEqual(new Date('2025-03-01T12:01:30Z'));
        now += 60_001;
        const taken = await acquireLease(store.db, 'whatsapp:default', loser, 60_000, clock);
        expect(taken.ok).toBe(true);
        expect((await renewLease(store.db, 'whatsapp:default', winner, 60_000, clock)).ok).toBe(false);
        await releaseLease(store.db, 'whatsapp:default', winner); // not theirs: no-op
        expect((await acquireLease(store.db, 'whatsapp:default', 'h9', 60_000, clock)).ok).toBe(false);
        await releaseLease(store.db, 'whatsapp:default', loser);
        expect((await acquireLease(store.db, 'whatsapp:default', 'h9', 60_000, clock)).ok).toBe(true);
      });
    });

    describe('self-healing delivery (migration 005)', () => {
      it('the instance lock: a second instance is refused, a dead or expired one taken over', async () => {
        const url = await cluster.createDatabase('instance_lock');
        const [a, b] = await Promise.all([openStore(url), openStore(url)]);
        stores.push(a, b);
        let now = t0;
        const first = await acquireInstanceLock(a.db, { host: 'h1', pid: 10, clock: () => now, isAlive: () => true });
        await expect(acquireInstanceLock(b.db, { host: 'h2', pid: 11, clock: () => now })).rejects.toBeInstanceOf(InstanceLockedError);
        now = new Date(t0.getTime() + 31_000);
        const taken: string[] = [];
        const second = await acquireInstanceLock(b.db, { host: 'h2', pid: 11, clock: () => now, onTakeover: (h) => taken.push(h.holder) });
        expect(taken).toEqual([first.holder]);
        expect((await readInstanceLock(a.db))?.holder).toBe(second.holder);
        await first.release();
        expect((await readInstanceLock(a.db))?.holder).toBe(second.holder);
        await second.release();
        expect(await readInstanceLock(a.db)).toBeNull();
      });

      it('record: a known canonical URL under a new guid is the same article; the cap and the age limit hold', async () => {
        const store = await freshStore('record_005');
        let now = t0;
        const repo = new ArticleRepo(store.db, () => now);
        await repo.record([article('g1'), article('g2')], { firstPoll: true, backfill: 0 });
        const churned = [article('x1', { url: 'https://jornal.example/g1', title: 'Título g1', lead: 'Lide g1', body: 'Corpo g1' }), article('x2', { url: 'https://jornal.example/g2', title: 'Novo título' })];
        const rec = await repo.record(churned, { firstPoll: false, backfill: 0, maxNew: 20, maxAgeMs: 48 * 3_600_000 });
        expect(rec.fresh).toHaveLength(0);
        expect(rec.updated.map((u) => u.article.id)).toEqual(['g2']);
        const old = Array.from({ length: 5 }, (_, i) => article(`o${i}`, { publishedAt: new Date(t0.getTime() - 72 * 3_600_000) }));
        const fresh = Array.from({ length: 8 }, (_, i) => article(`n${i}`, { publishedAt: new Date(t0.getTime() - i * 60_000) }));
        now = new Date(t0.getTime() + 1000);
        const r2 = await repo.record([...old, ...fresh], { firstPoll: false, backfill: 0, maxNew: 3, maxAgeMs: 48 * 3_600_000 });
        expect(r2.fresh.map((a) => a.id)).toEqual(['n2', 'n1', 'n0']);
        expect(r2).toMatchObject({ stale: 5, heldBack: 5, backlog: 10 });
        expect(await repo.editsUnqueued()).toEqual([{ article: expect.objectContaining({ id: 'g2', title: 'Novo título' }), version: 2 }]);
        await repo.editsQueued('g2', 2);
        expect(await repo.editsUnqueued()).toEqual([]);
      });

      it('pending pushes: stored, found after a new store instance, expired after the ttl, claimed once', async () => {
        const url = await cluster.createDatabase('pending_pushes');
        const store = await openStore(url);
        stores.push(store);
        const p = await new PendingPushes(store.db, 600_000, () => 'ABC234').add({
          platform: 'telegram',
          chatId: '42',
          threadId: null,
          actor: 'telegram:42',
          editorId: '42',
          locale: 'pt-BR',
          preview: { articleId: 'url:x', url: 'https://jornal.example/x', title: 'X', text: 'X', destinations: [], article: article('url:x', { publishedAt: t0 }) },
          destinations: [{ id: 'telegram:@canal', label: '@canal' }],
          createdAt: t0,
        });
        const again = await openStore(url);
        stores.push(again);
        const pending = new PendingPushes(again.db, 600_000);
        const found = await pending.lookup(p.code, new Date(t0.getTime() + 599_000));
        expect(found.status).toBe('ok');
        expect(found.status === 'ok' && found.push.kind !== 'digest' && found.push.preview.article.publishedAt?.getTime()).toBe(t0.getTime());
        expect((await pending.ofActor('telegram:42', t0)).map((x) => x.code)).toEqual(['ABC234']);
        expect((await pending.lookup('abc234', new Date(t0.getTime() + 600_001))).status).toBe('expired');
        expect(await pending.delete('ABC234')).toBe(true);
        expect(await pending.delete('ABC234')).toBe(false);
      });
    });
  },
);
