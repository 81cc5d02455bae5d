import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFakeHub, type FakeHub } from '../fakes/websub-hub.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { articlePage, rss, sleep, tempDir, until, type Story } from './helpers.js';

/**
 * Instant intake end to end: the whole app over real HTTP with the real telegraf client against the fake
 * Bot API, a fake news site, a real SQLite file, and (for WebSub) the in-repo fake hub on 127.0.0.1.
 */

const CHANNEL = -1001000000010;
const SECRET = 'publish-secret-for-tests-0123456789';
const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A free loopback port, so PUBLIC_URL can name the listener before it starts. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function setup(opts: { env?: Record<string, string>; hub?: FakeHub; selfPath?: string } = {}) {
  const dir = tempDir();
  let stories: Story[] = [{ id: 'a1', title: 'Notícia antiga', section: 'Mundo', minute: 1 }];
  const site: FeedServer = await startFeedServer({});
  const feedBody = () => {
    const xml = rss(site.origin, stories);
    if (!opts.hub) return xml;
    // The feed advertises its hub and self URL the usual way (atom:link in the channel).
    return xml
      .replace('<rss version="2.0">', '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">')
      .replace('<channel>', `<channel><atom:link rel="hub" href="${opts.hub.url}"/><atom:link rel="self" href="${site.urlFor(opts.selfPath ?? '/feed.xml')}"/>`);
  };
  site.route('/feed.xml', () => ({ body: feedBody(), contentType: 'application/rss+xml; charset=utf-8' }));
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
  const port = await freePort();
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_CHATS: '@canal',
    HTTP_PORT: String(port),
    FETCH_PAGES: 'false',
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    LOG_LEVEL: 'debug',
    PUBLISH_WEBHOOK_SECRET: SECRET,
    ...(opts.hub ? { PUBLIC_URL: `http://127.0.0.1:${port}` } : {}),
    ...opts.env,
  });
  const mem = memoryLogger();
  const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
  const app: App = await startApp({ config, logger: mem.logger, platforms, routes: EMPTY_ROUTES, print: () => undefined, websub: { checkEveryMs: 100 } });
  cleanup.push(async () => {
    await app.stop();
    await fake.close();
    await site.close();
    await opts.hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const feedUrl = site.urlFor('/feed.xml');
  await until(async () => (await app.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
  const publish = async (body: string, signature = sign(body)) => {
    const res = await fetch(`${app.httpUrl}/hooks/publish`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-manchete-signature': signature }, body });
    return { status: res.status, json: (await res.json()) as { id?: string; error?: string } };
  };
  /** A second start on the same database with other settings (the first app must be stopped). */
  const restart = async (env: Record<string, string>) => {
    const next = loadConfig({ ...Object.fromEntries(Object.entries({ DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, FEED_URLS: site.urlFor('/feed.xml'), TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_CHATS: '@canal', HTTP_PORT: String(port), FETCH_PAGES: 'false', FETCH_ALLOW_PRIVATE: '127.0.0.1/32', ...(opts.hub ? { PUBLIC_URL: `http://127.0.0.1:${port}` } : {}) })), ...env });
    const again = await startApp({ config: next, logger: mem.logger, platforms: await createPlatformModules(next, mem.logger, EMPTY_ROUTES), routes: EMPTY_ROUTES, print: () => undefined, websub: { checkEveryMs: 100 } });
    cleanup.push(() => again.stop());
    return again;
  };
  return { app, fake, site, mem, feedUrl, publish, restart, setStories: (s: Story[]) => (stories = s), stories: () => stories };
}

const subscriptions = (app: App) => app.store.db.selectFrom('websub_subscriptions').selectAll().execute();

describe('CMS publish hook, end to end', () => {
  it('a signed JSON Feed item reaches the channel at once; the same story again is 200 with the same id and posts nothing', async () => {
    const t = await setup();
    const item = JSON.stringify({ id: `${t.site.origin}/?p=7`, url: `${t.site.origin}/noticia/urgente`, title: 'Urgente: ponte interditada', summary: 'A prefeitura interditou a ponte principal da cidade depois de uma vistoria nesta manhã.', tags: ['Cidades'] });
    const first = await t.publish(item);
    expect(first.status).toBe(202);
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 1, 10_000, 'the post');
    expect(t.fake.sentTo(CHANNEL)[0]!.plain).toContain('Urgente: ponte interditada');
    const again = await t.publish(item);
    expect(again).toEqual({ status: 200, json: { id: first.json.id, duplicate: true, edits: 0 } });
    // The feed later carries the same story (same guid): polling knows it too.
    t.setStories([...t.stories(), { id: 'urgente', guid: `${t.site.origin}/?p=7`, title: 'Urgente: ponte interditada', section: 'Cidades', minute: 30 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.app.dispatcher.idle();
    expect(t.fake.sentTo(CHANNEL)).toHaveLength(1);
  });

  it('{"url"} reads the page (guarded fetch), and a WordPress post object is read like the WordPress source', async () => {
    const t = await setup();
    const pageUrl = t.site.urlFor('/noticia/pagina');
    const page = articlePage(pageUrl, { title: 'Da página do site', lead: 'O lead vem das etiquetas og da página, lida com o buscador protegido.', section: 'Economia' });
    // Published a week ago: recorded, not posted (MAX_ARTICLE_AGE applies as to polled items), and the answer says so.
    t.site.route('/noticia/antiga', { body: page.replace(pageUrl, t.site.urlFor('/noticia/antiga')), contentType: 'text/html; charset=utf-8' });
    const old = await t.publish(JSON.stringify({ url: t.site.urlFor('/noticia/antiga') }));
    expect(old).toMatchObject({ status: 202, json: { deliveries: 0, posted: false } });
    t.site.route('/noticia/pagina', { body: page.replace('2026-11-25T10:00:00-03:00', new Date().toISOString()), contentType: 'text/html; charset=utf-8' });
    const byUrl = JSON.stringify({ url: pageUrl });
    expect(await t.publish(byUrl)).toMatchObject({ status: 202, json: { deliveries: 1 } });
    const wp = JSON.stringify({
      id: 99,
      link: `${t.site.origin}/2026/12/02/wp/`,
      guid: { rendered: `${t.site.origin}/?p=99` },
      title: { rendered: 'Post do WordPress' },
      excerpt: { rendered: '<p>Resumo do post do WordPress com detalhes suficientes para virar o lead.</p>' },
      date_gmt: new Date().toISOString().slice(0, 19),
    });
    expect((await t.publish(wp)).status).toBe(202);
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 2, 10_000, 'two posts');
    const posts = t.fake.sentTo(CHANNEL).map((m) => m.plain);
    expect(posts[0]).toContain('Da página do site');
    expect(posts[1]).toContain('Post do WordPress');
    // A private address the guard does not allow is refused, not fetched.
    const blocked = JSON.stringify({ url: 'http://10.0.0.5/x' });
    const refused = await t.publish(blocked);
    expect(refused.status).toBe(422);
    expect(refused.json.error).toContain('FETCH_ALLOW_PRIVATE');
  });

  it('in Telegram webhook mode the hook is on the public listener, not on the admin one', async () => {
    const t = await setup({ env: { TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram-hook', TELEGRAM_WEBHOOK_SECRET: 'segredo_de_teste_123', ADMIN_PORT: '0' } });
    expect(t.app.adminUrl).not.toBe(t.app.httpUrl);
    const item = JSON.stringify({ url: `${t.site.origin}/n/publico`, title: 'Pelo ouvinte público', summary: 'Uma notícia publicada pelo gancho no ouvinte público do modo webhook.' });
    const atAdmin = await fetch(`${t.app.adminUrl}/hooks/publish`, { method: 'POST', headers: { 'x-manchete-signature': sign(item) }, body: item });
    expect(atAdmin.status).toBe(404);
    expect((await t.publish(item)).status).toBe(202);
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 1, 10_000, 'the post');
  });

  it('an unsigned or wrongly signed request posts nothing', async () => {
    const t = await setup();
    const item = JSON.stringify({ url: `${t.site.origin}/n/x`, title: 'Falsa', summary: 'Uma notícia que ninguém assinou e que não deve ser publicada.' });
    expect((await t.publish(item, '')).status).toBe(401);
    expect((await t.publish(item, sign('outra coisa'))).status).toBe(401);
    await sleep(300);
    await t.app.dispatcher.idle();
    expect(t.fake.sent).toHaveLength(0);
  });
});

describe('WebSub, end to end with the fake hub', () => {
  it('subscribes, is verified, takes fat and thin pings, refuses unsigned and wrongly signed ones, renews, and polls slower while live', async () => {
    const hub = await startFakeHub({ leaseSeconds: 3 });
    const t = await setup({ hub, env: { WEBSUB_POLL_INTERVAL: '30m', WEBSUB_LEASE: '1h' } });
    const topic = t.feedUrl;
    await hub.waitFor(() => hub.active(topic).length === 1, 10_000, 'a verified subscription');
    const req = hub.requests[0]!;
    expect(req).toMatchObject({ mode: 'subscribe', topic, leaseSeconds: 3600 });
    expect(req.callback).toMatch(new RegExp(`^${t.app.httpUrl}/websub/[A-Za-z0-9_-]{16,}$`));
    expect(req.secret).toMatch(/^[0-9a-f]{64}$/);
    await until(async () => (await subscriptions(t.app))[0]?.state === 'live', 5_000, 'the row live');
    expect(t.mem.lines.join('\n')).not.toContain(req.secret!);

    // Verification GETs we did not ask for are 404: wrong topic, no pending request, unknown id.
    expect((await hub.verify(req.callback, { 'hub.mode': 'subscribe', 'hub.topic': 'https://other.example/feed', 'hub.challenge': 'x' })).status).toBe(404);
    expect((await hub.verify(req.callback, { 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.challenge': 'x' })).status).toBe(404);
    expect((await hub.verify(`${t.app.httpUrl}/websub/AAAAAAAAAAAAAAAAAAAAAAAA`, { 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.challenge': 'x' })).status).toBe(404);

    // While live, the feed's period is WEBSUB_POLL_INTERVAL, not POLL_INTERVAL: polls sit on a grid of
    // that period (sources/poller.ts nextSlot), so an off-grid poll's next one is ½ to 1½ periods away.
    await t.app.pipeline.pollFeed(t.feedUrl);
    const row = (await t.app.feeds.get(t.feedUrl))!;
    const gap = Date.parse(row.next_poll_at!) - Date.parse(row.last_polled_at!);
    expect(gap).toBeGreaterThanOrEqual(15 * 60_000);
    expect(gap).toBeLessThanOrEqual(45 * 60_000);

    // A fat ping: the feed's content, signed. It is ingested without a poll.
    const polls = () => t.site.requests.filter((r) => r.path === '/feed.xml').length;
    t.setStories([...t.stories(), { id: 'gorda', title: 'Chegou pelo hub', section: 'Mundo', minute: 40 }]);
    const before = polls();
    const fatBody = rss(t.site.origin, t.stories());
    expect((await hub.publish(topic, { body: fatBody })).map((r) => r.status)).toEqual([202]);
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 1, 10_000, 'the fat ping post');
    expect(t.fake.sentTo(CHANNEL)[0]!.plain).toContain('Chegou pelo hub');
    expect(polls()).toBe(before);

    // Unsigned and wrongly signed notifications are refused and their content is not used.
    t.setStories([...t.stories(), { id: 'falsa', title: 'Notícia forjada', section: 'Mundo', minute: 41 }]);
    const forged = rss(t.site.origin, t.stories());
    expect((await hub.publish(topic, { body: forged, signature: 'none' })).map((r) => r.status)).toEqual([403]);
    expect((await hub.publish(topic, { body: forged, signature: 'wrong' })).map((r) => r.status)).toEqual([403]);
    expect((await hub.publish(topic, { body: '', signature: 'wrong' })).map((r) => r.status)).toEqual([403]);
    await sleep(300);
    await t.app.dispatcher.idle();
    expect(t.fake.sentTo(CHANNEL)).toHaveLength(1);
    expect(polls()).toBe(before);

    // A thin ping (empty body, signed with sha1 as older hubs do): poll now. The forged story is real on the
    // site now, so the poll posts it: the refusal above was about the notification, not the story.
    t.setStories(t.stories().filter((s) => s.id !== 'falsa').concat({ id: 'fina', title: 'Aviso fino do hub', section: 'Mundo', minute: 42 }));
    expect((await hub.publish(topic, { algorithm: 'sha1' })).map((r) => r.status)).toEqual([202]);
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 2, 10_000, 'the thin ping post');
    expect(t.fake.sentTo(CHANNEL)[1]!.plain).toContain('Aviso fino do hub');
    expect(polls()).toBe(before + 1);

    // The hub granted 3 s: the lease is renewed before it ends (same callback), and stays live.
    await hub.waitFor(() => (hub.active(topic)[0]?.verifications ?? 0) >= 2, 10_000, 'a renewal');
    expect(hub.requests.filter((r) => r.mode === 'subscribe').every((r) => r.callback === req.callback && r.secret === req.secret)).toBe(true);
    const live = (await subscriptions(t.app))[0]!;
    expect(live.state).toBe('live');
    expect(Date.parse(live.expires_at!)).toBeGreaterThan(Date.now());
  });

  it('a subscription whose feed left the configuration is unsubscribed at the next start', async () => {
    const hub = await startFakeHub();
    const t = await setup({ hub });
    await hub.waitFor(() => hub.active(t.feedUrl).length === 1, 10_000, 'a verified subscription');
    await t.app.stop();
    t.site.route('/outro.xml', { body: rss(t.site.origin, []), contentType: 'application/rss+xml' });
    const again = await t.restart({ FEED_URLS: t.site.urlFor('/outro.xml') });
    await hub.waitFor(() => hub.active(t.feedUrl).length === 0, 10_000, 'the unsubscription');
    expect(hub.requests.at(-1)).toMatchObject({ mode: 'unsubscribe', topic: t.feedUrl });
    await until(async () => (await subscriptions(again)).length === 0, 5_000, 'the row removed');
  });

  it('a hub that refuses leaves polling as it was and retries later', async () => {
    const hub = await startFakeHub({ answer: 500 });
    const t = await setup({ hub });
    await until(async () => (await subscriptions(t.app))[0]?.state === 'failed', 5_000, 'the failed request');
    const row = (await subscriptions(t.app))[0]!;
    expect(row.last_error).toContain('HTTP 500');
    expect(Date.parse(row.next_attempt_at!)).toBeGreaterThan(Date.now());
    await t.app.pipeline.pollFeed(t.feedUrl);
    const feed = (await t.app.feeds.get(t.feedUrl))!;
    expect(Date.parse(feed.next_poll_at!) - Date.parse(feed.last_polled_at!)).toBeLessThan(5 * 60_000);
  });
});
