import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { openStore } from '../../src/store/db.js';
import { ArticleRepo } from '../../src/store/articles.js';
import { normalizeItem } from '../../src/articles/normalize.js';
import { parseFeed } from '../../src/sources/parse.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { articlePage, rss, sleep, tempDir, until, type Story } from './helpers.js';

/**
 * Delivery that heals itself, over the whole app in this process (real telegraf against the fake Bot API,
 * a real SQLite file, a fake news site over HTTP): guid churn and archive dumps post nothing, a crowded
 * poll is capped and reported, and edits survive a stop and keep the page's lead.
 */

const CHANNEL = -1001000000310;
const GROUP = -1001000000320;
const EDITOR = 777;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function world(initial: Story[], env: Record<string, string> = {}) {
  const dir = tempDir('manchete-heal-');
  let stories = initial;
  const site: FeedServer = await startFeedServer({});
  site.route('/feed.xml', () => ({ body: rss(site.origin, stories), contentType: 'application/rss+xml; charset=utf-8' }));
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' }, limits: { perChatPerSecond: 1000, perGroupPerMinute: 100_000 } });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
  fake.addChat({ id: GROUP, type: 'supergroup', title: 'Redação', botIsAdmin: true });
  fake.addChat({ id: EDITOR, type: 'private', firstName: 'Editora', languageCode: 'pt-br' });
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_CHATS: `@canal,${GROUP}`,
    TELEGRAM_CHAT_GAP: '10ms',
    TELEGRAM_GROUP_PER_MINUTE: '1000',
    TELEGRAM_MAX_PER_SECOND: '200',
    EDITORS: `telegram:${EDITOR}`,
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    LOG_LEVEL: 'debug',
    POLL_INTERVAL: '1h',
    ...env,
  });
  const apps: App[] = [];
  let mem = memoryLogger();
  const start = async (): Promise<App> => {
    mem = memoryLogger();
    const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
    const app = await startApp({ config, logger: mem.logger, platforms, routes: EMPTY_ROUTES, print: () => undefined });
    apps.push(app);
    await until(async () => (await app.feeds.get(site.urlFor('/feed.xml')))?.primed_at != null, 10_000, 'the first poll');
    return app;
  };
  cleanup.push(async () => {
    for (const a of apps) await a.stop();
    await fake.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { site, fake, config, start, feedUrl: site.urlFor('/feed.xml'), logs: () => mem.lines, setStories: (s: Story[]) => (stories = s) };
}

const story = (i: number, over: Partial<Story> = {}): Story => ({ id: `s${i}`, title: `Notícia ${i}`, section: 'Mundo', minute: i, ...over });

async function settle(app: App) {
  await app.dispatcher.idle();
  await sleep(200);
  await app.dispatcher.idle();
}

describe('no archive blasts', () => {
  it('a feed whose 30 items all change guid (same links) after the first poll posts nothing', async () => {
    const before = Array.from({ length: 30 }, (_, i) => story(i));
    const w = await world(before);
    const app = await w.start();
    // A CMS migration: every guid rewritten, the links unchanged.
    w.setStories(before.map((s) => ({ ...s, guid: `https://cms.example/?p=${1000 + s.minute}` })));
    const report = await app.pipeline.pollFeed(w.feedUrl);
    expect(report).toMatchObject({ status: 'ok', fresh: 0, queued: 0 });
    await settle(app);
    expect(w.fake.sent).toHaveLength(0);
    // Still the same 30 rows: the new guids did not make new articles.
    expect((await app.store.db.selectFrom('articles').select('id').execute()).length).toBe(30);
    // A genuinely new story after the migration still goes out.
    w.setStories([...before.map((s) => ({ ...s, guid: `https://cms.example/?p=${1000 + s.minute}` })), story(99, { title: 'Depois da migração' })]);
    expect((await app.pipeline.pollFeed(w.feedUrl)).fresh).toBe(1);
    await w.fake.waitFor(() => w.fake.sent.length === 2, 10_000, 'the new story in both chats');
  });

  it('a feed that suddenly lists 200 items dated more than 48 h ago posts none of them; an undated item counts as new', async () => {
    const w = await world([story(1)]);
    const app = await w.start();
    const archive = Array.from({ length: 200 }, (_, i) => story(1000 + i, { minute: -3 * 24 * 60 - i }));
    w.setStories([story(1), ...archive]);
    const report = await app.pipeline.pollFeed(w.feedUrl);
    expect(report).toMatchObject({ status: 'ok', fresh: 0, backlog: 200, queued: 0 });
    await settle(app);
    expect(w.fake.sent).toHaveLength(0);
    w.setStories([story(1), ...archive, story(2, { title: 'Sem data', undated: true })]);
    expect((await app.pipeline.pollFeed(w.feedUrl)).fresh).toBe(1);
    await w.fake.waitFor(() => w.fake.sent.length === 2, 10_000, 'the undated story in both chats');
    expect(w.fake.sentTo(CHANNEL)[0]!.plain).toContain('Sem data');
    expect(w.logs().some((l) => l.includes('"event":"feed.stale_items"') && l.includes('"stale":200'))).toBe(true);
  });

  it('60 genuinely new items in one poll: posts the newest 20, records 40, warns, and /status shows it', async () => {
    const w = await world([story(0)]);
    const app = await w.start();
    const fresh = Array.from({ length: 60 }, (_, i) => story(100 + i));
    w.setStories([story(0), ...fresh]);
    const report = await app.pipeline.pollFeed(w.feedUrl);
    expect(report).toMatchObject({ status: 'ok', fresh: 20, backlog: 40 });
    await w.fake.waitFor(() => w.fake.sent.length === 40, 20_000, '20 posts in each chat');
    await settle(app);
    expect(w.fake.sent).toHaveLength(40);
    const titles = w.fake.sentTo(CHANNEL).map((m) => /Notícia \d+/.exec(m.plain)?.[0]);
    // The newest 20, oldest first.
    expect(titles).toEqual(fresh.slice(40).map((s) => s.title));
    const warn = w.logs().map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'feed.held_back');
    expect(warn).toMatchObject({ feed: w.feedUrl, heldBack: 40, posted: 20, level: 40 });
    expect(await app.feeds.get(w.feedUrl)).toMatchObject({ held_back: 40 });
    const replies = await app.router.handleMessage({
      platform: 'telegram',
      chatId: String(EDITOR),
      chatType: 'private',
      senderId: String(EDITOR),
      senderName: 'Editora',
      languageCode: 'en',
      text: '/status',
      messageId: 'm1',
      addressedToBot: true,
      canShowButtons: true,
      receivedAt: new Date(),
    });
    expect(replies.map((r) => r.text).join('\n')).toContain('40 new items held back');
    // The next poll has nothing new: the 40 stay recorded, never posted, and the count stays on /status.
    expect((await app.pipeline.pollFeed(w.feedUrl)).fresh).toBe(0);
    expect(await app.feeds.get(w.feedUrl)).toMatchObject({ held_back: 40 });
  });
});

describe('edits that survive a stop', () => {
  it('a stop between recording a new version and queueing its edits is recovered at the next start', async () => {
    const w = await world([story(1)]);
    const first = await w.start();
    w.setStories([story(1), story(2, { title: 'Título original' })]);
    await first.pipeline.pollFeed(w.feedUrl);
    await w.fake.waitFor(() => w.fake.sent.length === 2, 10_000, 'the post in both chats');
    await settle(first);
    await first.stop();

    // The process records the corrected title and dies before queueing the edits.
    const corrected = [story(1), story(2, { title: 'Título corrigido' })];
    const store = await openStore(w.config.databaseUrl);
    const parsed = parseFeed(rss(w.site.origin, corrected), w.feedUrl);
    const list = parsed.items.map((i) => normalizeItem(i, { feedUrl: w.feedUrl, summaryMaxChars: 300, boilerplate: [] })!).filter(Boolean);
    const rec = await new ArticleRepo(store.db).record(list, { firstPoll: false, backfill: 0 });
    expect(rec.updated).toHaveLength(1);
    await store.close();
    w.setStories(corrected);

    await w.start();
    await w.fake.waitFor(() => w.fake.edits.length === 2, 10_000, 'two edits after the restart');
    const m = w.fake.sentTo(CHANNEL)[0]!;
    expect(w.fake.message(CHANNEL, m.message_id)!.plain).toContain('Título corrigido');
    expect(w.logs().some((l) => l.includes('"event":"pipeline.edits_resumed"'))).toBe(true);
  });

  it('an edit of an enriched article keeps the lead read from its page', async () => {
    const w = await world([story(1)], { FETCH_PAGES: 'true' });
    const pageLead = 'O lide que só a página tem, com detalhes que o feed não trouxe para os leitores.';
    w.site.route('/noticia/s2', { body: articlePage(w.site.urlFor('/noticia/s2'), { title: 'Título original', lead: pageLead, section: 'Mundo' }), contentType: 'text/html; charset=utf-8' });
    const app = await w.start();
    w.setStories([story(1), story(2, { title: 'Título original', lead: '' })]);
    await app.pipeline.pollFeed(w.feedUrl);
    await w.fake.waitFor(() => w.fake.sent.length === 2, 10_000, 'the post in both chats');
    expect(w.fake.sentTo(CHANNEL)[0]!.plain).toContain(pageLead);
    // The feed's lead is still thin: an unchanged feed is still unchanged (no spurious edit)…
    expect((await app.pipeline.pollFeed(w.feedUrl)).updated).toBe(0);
    // …and a corrected title edits the message, keeping the page's lead.
    w.setStories([story(1), story(2, { title: 'Título corrigido', lead: '' })]);
    expect((await app.pipeline.pollFeed(w.feedUrl)).updated).toBe(1);
    await w.fake.waitFor(() => w.fake.edits.length === 2, 10_000, 'two edits');
    const edited = w.fake.message(CHANNEL, w.fake.sentTo(CHANNEL)[0]!.message_id)!.plain;
    expect(edited).toContain('Título corrigido');
    expect(edited).toContain(pageLead);
  });
});
