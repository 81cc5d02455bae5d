/**
 * Instant intake latency: how long a story takes from the moment the site says "published" to the first
 * channel's message, through the whole app (startApp: real telegraf client, SQLite file, dispatcher and
 * pacer) against the fake Bot API with Telegram's limits enforced (20/min per channel, 1/s per chat).
 *   latency.ts webhook   POST /hooks/publish {"url"} (signed; the page is read through the fetch guard)
 *   latency.ts websub    the fake hub's fat ping (the feed's content, signed) on a live subscription
 *   latency.ts polling   the feed changes; POLL_INTERVAL=5s (the poll tick is 5 s) finds it
 * 20 stories each, one after the other with a random pause (webhook, WebSub: 1–1.5 s, to stay within the
 * channel's 20 messages a minute; polling: a random phase in the interval). Prints one JSON line with
 * p50/p95 in milliseconds.
 */
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startApp } from '../src/main.js';
import { createPlatformModules } from '../src/platforms/index.js';
import { EMPTY_ROUTES } from '../src/delivery/routes-file.js';
import { startFakeTelegram } from '../tests/fakes/telegram-api.js';
import { startFakeHub } from '../tests/fakes/websub-hub.js';
import { startFeedServer } from '../tests/helpers/feed-server.js';
import { articlePage, rss, tempDir, type Story } from '../tests/e2e/helpers.js';
import { median } from './lib.js';

const mode = (process.argv[2] ?? 'webhook') as 'webhook' | 'websub' | 'polling';
const STORIES = Number(process.argv[3] ?? 20);
const POLL_INTERVAL_MS = 5_000;
const TOKEN = '123456789:AAH-bench_token_0123456789abcdefghijk';
const SECRET = 'bench-publish-secret-0123456789abcdef';
const CHANNEL = -1001000000010;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const dir = tempDir('manchete-latency-');
const hub = mode === 'websub' ? await startFakeHub() : null;
let stories: Story[] = [{ id: 'old', title: 'Notícia antiga', section: 'Mundo', minute: 1 }];
const site = await startFeedServer({});
const feedXml = () => {
  const xml = rss(site.origin, stories);
  return hub ? xml.replace('<channel>', `<channel><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="${hub.url}"/>`) : xml;
};
site.route('/feed.xml', () => ({ body: feedXml(), contentType: 'application/rss+xml; charset=utf-8' }));
const fake = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
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
  LOG_LEVEL: 'warn',
  PUBLISH_WEBHOOK_SECRET: SECRET,
  POLL_INTERVAL: mode === 'polling' ? `${POLL_INTERVAL_MS / 1000}s` : '10m',
  ...(hub ? { PUBLIC_URL: `http://127.0.0.1:${port}` } : {}),
});
const logger = createLogger({ level: 'warn' }, new Writable({ write: (_c, _e, cb) => cb() }));
const platforms = await createPlatformModules(config, logger, EMPTY_ROUTES);
const app = await startApp({ config, logger, platforms, routes: EMPTY_ROUTES, print: () => undefined });
const feedUrl = site.urlFor('/feed.xml');
while ((await app.feeds.get(feedUrl))?.primed_at == null) await sleep(20);
if (hub) while (hub.active(feedUrl).length === 0) await sleep(20);

const latencies: number[] = [];
for (let i = 0; i < STORIES; i++) {
  const id = `s${i}`;
  const story: Story = { id, title: `Urgente ${i}: notícia de última hora`, section: 'Mundo', minute: 100 + i, lead: `Resumo da notícia urgente número ${i}, com detalhes suficientes para virar o lead.` };
  if (mode === 'polling') await sleep(Math.random() * POLL_INTERVAL_MS);
  else await sleep(1000 + Math.random() * 500);
  const before = fake.sentTo(CHANNEL).length;
  let t0: number;
  if (mode === 'webhook') {
    const url = site.urlFor(`/noticia/${id}`);
    site.route(`/noticia/${id}`, { body: articlePage(url, { title: story.title, lead: story.lead!, section: 'Mundo' }).replace('2026-11-25T10:00:00-03:00', new Date().toISOString()), contentType: 'text/html; charset=utf-8' });
    const body = JSON.stringify({ url });
    t0 = Date.now();
    const res = await fetch(`${app.httpUrl}/hooks/publish`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-manchete-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` }, body });
    if (res.status !== 202) throw new Error(`publish hook answered ${res.status}: ${await res.text()}`);
  } else {
    stories = [...stories, story];
    t0 = Date.now();
    if (hub) {
      const got = await hub.publish(feedUrl, { body: feedXml() });
      if (got[0]?.status !== 202) throw new Error(`the callback answered ${got[0]?.status}`);
    }
  }
  const deadline = t0 + 60_000;
  while (fake.sentTo(CHANNEL).length === before) {
    if (Date.now() > deadline) throw new Error(`story ${i} never reached the channel`);
    await sleep(2);
  }
  latencies.push(fake.sentTo(CHANNEL)[before]!.time - t0);
}

await app.stop();
await fake.close();
await site.close();
await hub?.close();
rmSync(dir, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
console.log(JSON.stringify({ mode, stories: STORIES, pollIntervalMs: mode === 'polling' ? POLL_INTERVAL_MS : null, p50: median(latencies), p95: pct(95), max: sorted.at(-1), latencies }));
