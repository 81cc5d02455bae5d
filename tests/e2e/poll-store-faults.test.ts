import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { startFakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { rss, sleep, tempDir, until, type Story } from './helpers.js';

/**
 * Polling against a database that refuses writes (SQLite made read-only with `PRAGMA query_only` on the
 * app's own connection), over the whole app: a real SQLite file, real telegraf against the fake Bot API,
 * a news site over HTTP that answers 304 to a matching ETag. The poll fails with the store's code in the
 * log and on /health, nothing throws, the feed's ETag is not advanced, and once the database is writable
 * the next poll records the new items and posts each exactly once.
 */

const CHANNEL = -1001000000410;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const story = (i: number): Story => ({ id: `s${i}`, title: `Notícia ${i}`, section: 'Mundo', minute: i });

async function world(initial: Story[]) {
  const dir = tempDir('manchete-pollfault-');
  let stories = initial;
  const site = await startFeedServer({});
  // The ETag follows the content, so a stored ETag that ran ahead of the items would hide them (304).
  site.route('/feed.xml', () => ({ body: rss(site.origin, stories), contentType: 'application/rss+xml; charset=utf-8', etag: `"v${stories.length}"` }));
  const fake = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' }, limits: false });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_CHATS: '@canal',
    TELEGRAM_CHAT_GAP: '10ms',
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    LOG_LEVEL: 'debug',
    POLL_INTERVAL: '1h',
  });
  const mem = memoryLogger();
  const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
  const app: App = await startApp({ config, logger: mem.logger, platforms, routes: EMPTY_ROUTES, print: () => undefined });
  const feedUrl = site.urlFor('/feed.xml');
  cleanup.push(async () => {
    await sql`PRAGMA query_only = OFF`.execute(app.store.db).catch(() => undefined);
    await app.stop();
    await fake.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await until(async () => (await app.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
  const health = async () => {
    const res = await fetch(`${app.adminUrl}/health`);
    return { status: res.status, body: (await res.json()) as { ok: boolean; reason?: string } };
  };
  return { app, fake, site, feedUrl, mem, health, setStories: (s: Story[]) => (stories = s) };
}

const events = (lines: string[], name: string) => lines.filter((l) => l.includes(`"event":"${name}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('polling while the database refuses writes', () => {
  it('a read-only database: the poll fails with SQLITE_READONLY, keeps nothing, and the items go out exactly once when it is writable again', async () => {
    const w = await world([story(1)]);
    const { app } = w;
    expect((await app.feeds.get(w.feedUrl))?.etag).toBe('"v1"');
    await app.dispatcher.idle();
    expect(w.fake.sent).toHaveLength(0);

    await sql`PRAGMA query_only = ON`.execute(app.store.db);
    w.setStories([story(1), story(2), story(3)]);
    // Resolves (no throw out of the poll), reports the failure.
    const failed = await app.pipeline.pollFeed(w.feedUrl);
    expect(failed).toMatchObject({ status: 'failed', fresh: 0, queued: 0 });
    const line = events(w.mem.lines, 'feed.failed').at(-1);
    expect(line).toMatchObject({ feed: w.feedUrl, code: 'SQLITE_READONLY', kind: 'store', level: 40 });
    expect(String(line?.msg)).toContain('the database is read-only');
    expect(app.pipeline.storeFault).toMatchObject({ code: 'SQLITE_READONLY', feed: w.feedUrl });
    // The scheduler's path reads the store only for a feed that is not due: it answers, and nothing throws.
    await expect(app.pipeline.pollDue([w.feedUrl])).resolves.toEqual([]);
    const h = await w.health();
    expect(h.status).toBe(503);
    expect(h.body.ok).toBe(false);
    expect(h.body.reason).toContain('SQLITE_READONLY');
    // Nothing of that poll was kept: not the items, not the feed's ETag.
    expect((await app.feeds.get(w.feedUrl))?.etag).toBe('"v1"');
    expect((await app.store.db.selectFrom('articles').select('id').execute()).length).toBe(1);

    await sql`PRAGMA query_only = OFF`.execute(app.store.db);
    const ok = await app.pipeline.pollFeed(w.feedUrl);
    expect(ok).toMatchObject({ status: 'ok', fresh: 2 });
    await w.fake.waitFor(() => w.fake.sent.length === 2, 10_000, 'the two new stories');
    expect(app.pipeline.storeFault).toBeNull();
    expect(events(w.mem.lines, 'feed.store_recovered')).toHaveLength(1);
    expect((await app.feeds.get(w.feedUrl))?.etag).toBe('"v3"');
    // The next poll is a 304 and posts nothing more: each item exactly once.
    expect((await app.pipeline.pollFeed(w.feedUrl)).status).toBe('not-modified');
    await until(async () => (await w.health()).body.ok, 10_000, 'health green again');
    await app.dispatcher.idle();
    await sleep(200);
    const texts = w.fake.sentTo(CHANNEL).map((m) => /Notícia \d+/.exec(m.plain)?.[0]);
    expect(texts).toEqual(['Notícia 2', 'Notícia 3']);
  });

  it('a full disk (SQLite at its max_page_count): the poll fails with SQLITE_FULL, and when space returns the items go out once', async () => {
    const w = await world([story(1)]);
    const { app } = w;
    await app.dispatcher.idle();
    // The file may not grow by a page: what no existing page can hold fails with SQLITE_FULL, as on a full disk.
    const [{ page_count: pages }] = (await sql<{ page_count: number }>`PRAGMA page_count`.execute(app.store.db)).rows as [{ page_count: number }];
    await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(app.store.db);
    const more = Array.from({ length: 15 }, (_, i) => story(10 + i));
    w.setStories([story(1), ...more]);
    expect(await app.pipeline.pollFeed(w.feedUrl)).toMatchObject({ status: 'failed', fresh: 0 });
    expect(events(w.mem.lines, 'feed.failed').at(-1)).toMatchObject({ code: 'SQLITE_FULL', kind: 'store' });
    expect(String(events(w.mem.lines, 'feed.failed').at(-1)?.msg)).toContain('the disk is full');
    expect((await w.health()).body.reason).toContain('SQLITE_FULL');
    expect((await app.feeds.get(w.feedUrl))?.etag).toBe('"v1"');

    await sql`PRAGMA max_page_count = 1073741823`.execute(app.store.db);
    expect(await app.pipeline.pollFeed(w.feedUrl)).toMatchObject({ status: 'ok', fresh: 15 });
    await w.fake.waitFor(() => w.fake.sent.length === 15, 20_000, 'the 15 new stories');
    expect((await app.pipeline.pollFeed(w.feedUrl)).status).toBe('not-modified');
    await app.dispatcher.idle();
    await sleep(200);
    expect(w.fake.sentTo(CHANNEL).map((m) => /Notícia \d+/.exec(m.plain)?.[0])).toEqual(more.map((s) => s.title));
  });
});
