import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createWhatsAppModule } from '../../src/platforms/whatsapp/module.js';
import { useDatabaseAuthState } from '../../src/platforms/whatsapp/auth-store.js';
import { openStore } from '../../src/store/db.js';
import { fakeSocketFactory, groupMeta, type FakeWhatsAppSocket } from '../fakes/whatsapp-socket.js';
import { startFeedServer } from '../helpers/feed-server.js';
import { gzipBomb, startInternalServer } from '../helpers/internal-server.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { articlePage, tempDir, until } from './helpers.js';

/**
 * The fetch guard through the whole app: a fake news site on 127.0.0.1 (allowed with
 * FETCH_ALLOW_PRIVATE=127.0.0.1/32) whose feed carries hostile thin items — a link to a secret file, to an
 * "internal" server on 127.0.0.2 (not allowed) directly and through a 302 — next to a legitimate thin item
 * and an article whose image is a gzip bomb. WhatsApp is the platform (the default, guarded image
 * download), over the Baileys-typed fake socket; real SQLite.
 */

const GROUP = '120363000000000011@g.us';
const CHANNEL = '120363000000000012@newsletter';
const OWN = '5511900000000@s.whatsapp.net';
const EDITOR = '5511999998888';
const SECRET = 'SEGREDO_DO_BOT_123456abcdefghijklmnop';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const thin = (id: string, title: string, link: string, minute: number, extra = '') => `<item>
  <title>${title}</title>
  <link>${link}</link>
  <guid isPermaLink="false">${id}</guid>
  <pubDate>${new Date(Date.now() - 3_600_000 + minute * 60_000).toUTCString()}</pubDate>${extra}
</item>`;

async function setup() {
  const dir = tempDir('manchete-guard-e2e-');
  const secretFile = join(dir, '.env');
  writeFileSync(secretFile, `TELEGRAM_BOT_TOKEN=${SECRET}\n`);
  const databaseUrl = `sqlite:${join(dir, 'db.sqlite')}`;
  const seed = await openStore(databaseUrl);
  const auth = await useDatabaseAuthState(seed.db, 'default');
  auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Manchete' };
  auth.state.creds.account = { details: new Uint8Array([1]), accountSignatureKey: new Uint8Array([2]), accountSignature: new Uint8Array([3]), deviceSignature: new Uint8Array([4]) };
  await auth.saveCreds();
  await seed.close();

  const internal = await startInternalServer('127.0.0.2');
  const bomb = await gzipBomb(128 * 1024 * 1024);
  let items: string[] = [];
  const site = await startFeedServer({});
  site.route('/feed.xml', () => ({
    body: `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Teste</title><link>${site.origin}/</link><description>feed</description>${items.join('\n')}</channel></rss>`,
    contentType: 'application/rss+xml',
  }));
  site.route('/vai', { redirect: { to: `${internal.origin}/admin`, status: 302 } });
  site.route('/legitima', {
    body: articlePage(site.urlFor('/legitima'), { title: 'Matéria legítima', lead: 'O lead verdadeiro que vem da página da matéria publicada pelo jornal.', section: 'Brasil' }),
    contentType: 'text/html',
  });
  site.route('/bomba.jpg', { body: bomb, headers: { 'content-encoding': 'gzip' }, contentType: 'image/jpeg' });

  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    FEED_URLS: site.urlFor('/feed.xml'),
    WHATSAPP_ENABLED: 'true',
    WHATSAPP_CHATS: `${GROUP},${CHANNEL}`,
    WHATSAPP_GAP: '20ms-40ms',
    WHATSAPP_CHAT_GAP: '50ms',
    EDITORS: `whatsapp:${EDITOR}`,
    HTTP_PORT: '0',
    FETCH_PAGES: 'true',
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    PAGE_MAX_BYTES: '1MB',
    LOG_LEVEL: 'debug',
  });
  const sockets = fakeSocketFactory((s: FakeWhatsAppSocket) => {
    s.groups.set(GROUP, groupMeta(GROUP, { subject: 'Notícias', announce: true, members: [[OWN, 'admin']] }));
    s.newsletters.set(`jid:${CHANNEL}`, { id: CHANNEL, name: 'Canal', viewer_metadata: { role: 'OWNER' } } as never);
  });
  const mem = memoryLogger();
  // No fetchImage override: the module's own guarded download is under test.
  const whatsapp = await createWhatsAppModule(config, mem.logger, [], { socketFactory: sockets.factory });
  const app: App = await startApp({ config, logger: mem.logger, platforms: [whatsapp], print: () => undefined });
  cleanup.push(async () => {
    await app.stop();
    await site.close();
    await internal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await until(() => sockets.sockets.length > 0, 5_000, 'a socket');
  sockets.last().open();
  await until(() => whatsapp.state() === 'open', 5_000, 'open');
  const feedUrl = site.urlFor('/feed.xml');
  await until(async () => (await app.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
  const incoming = (from: string, text: string) =>
    sockets.last().ev.emit('messages.upsert', {
      type: 'notify',
      messages: [{ key: { remoteJid: `${from}@s.whatsapp.net`, fromMe: false, id: `IN${Math.random().toString(36).slice(2)}` }, message: { conversation: text }, messageTimestamp: Math.floor(Date.now() / 1000) }],
    });
  return { app, socket: () => sockets.last(), mem, feedUrl, site, internal, secretFile, incoming, setItems: (x: string[]) => (items = x) };
}

const allText = (s: FakeWhatsAppSocket) => s.sent.map((m) => JSON.stringify(m.content)).join('\n');

describe('fetch guard end to end', () => {
  it('hostile thin items (secret file, internal address, 302 to it) are not read; the legitimate one and a post with a bomb image go out', async () => {
    const t = await setup();
    t.setItems([
      thin('s1', 'Item com link para arquivo', pathToFileURL(t.secretFile).href, 10),
      thin('s2', 'Item com link interno', `${t.internal.origin}/admin`, 11),
      thin('s3', 'Item com redirecionamento', t.site.urlFor('/vai'), 12),
      thin('s4', 'Item legítimo', t.site.urlFor('/legitima'), 13),
      thin('s5', 'Notícia com foto', t.site.urlFor('/legitima?foto'), 14,
        `<description>Uma notícia com descrição própria e uma imagem que é uma bomba de compressão gzip.</description><enclosure url="${t.site.urlFor('/bomba.jpg')}" type="image/jpeg" length="1000"/>`),
    ]);
    const report = await t.app.pipeline.pollFeed(t.feedUrl);
    expect(report.status).toBe('ok');
    // The item linking to a file never becomes an article: its link is not http(s) (feed.item_skipped).
    expect(report.fresh).toBe(4);
    await until(() => t.socket().sent.filter((m) => m.jid === GROUP).length === 4, 20_000, 'four posts in the group');
    await until(() => t.socket().sent.filter((m) => m.jid === CHANNEL).length === 4, 20_000, 'four posts in the channel');

    // Nothing reached the internal server, not even a TCP connection.
    expect(t.internal.connections).toBe(0);
    expect(t.internal.hits).toBe(0);
    // The secret is nowhere: not in what was sent, not in the outbox, not in the logs.
    const sent = allText(t.socket());
    expect(sent).not.toContain(SECRET);
    expect(sent).not.toContain('INTERNAL-ONLY');
    const store = await openStore(t.app.config.databaseUrl);
    const rows = await store.db.selectFrom('deliveries').selectAll().execute();
    await store.close();
    expect(rows.length).toBeGreaterThanOrEqual(8);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    expect(JSON.stringify(rows)).not.toContain('INTERNAL-ONLY');
    expect(t.mem.lines.join('')).not.toContain(SECRET);
    // Each refusal is one fetch.blocked event naming the URL; the feed itself went on.
    const blocked = t.mem.lines.map((l) => JSON.parse(l) as { event?: string; url?: string; msg: string }).filter((l) => l.event === 'fetch.blocked');
    expect(blocked.map((b) => b.url).sort()).toEqual([`${t.internal.origin}/admin`, t.site.urlFor('/vai')].sort());
    const skipped = t.mem.lines.map((l) => JSON.parse(l) as { event?: string; msg: string }).filter((l) => l.event === 'feed.item_skipped');
    expect(skipped.length).toBe(1);
    expect(blocked.find((b) => b.url === t.site.urlFor('/vai'))!.msg).toContain('redirected from');
    // The legitimate thin item was enriched from its page.
    expect(sent).toContain('O lead verdadeiro que vem da página da matéria');
    // The bomb image: refused within the limit, fetched once for both destinations, the post went out without it.
    expect(sent).toContain('Notícia com foto');
    expect(t.socket().sent.some((m) => 'image' in m.content)).toBe(false);
    expect(t.site.requests.filter((r) => r.path === '/bomba.jpg')).toHaveLength(1);
    expect(t.mem.lines.join('')).toMatch(/image http:\/\/127\.0\.0\.1:\d+\/bomba\.jpg is larger than 1 MB/);
  }, 40_000);

  it('an editor /push to a private address is refused with the clear message and nothing is fetched', async () => {
    const t = await setup();
    const url = `${t.internal.origin}/painel`;
    t.incoming(EDITOR, `/push ${url}`);
    const editorChat = `${EDITOR}@s.whatsapp.net`;
    await until(() => t.socket().sent.some((m) => m.jid === editorChat), 10_000, 'a reply');
    const reply = allText(t.socket());
    expect(reply).toContain('127.0.0.2');
    // WhatsApp replies break underscores so they cannot turn into italics.
    expect(reply.replace(/ˍ/g, '_')).toContain('FETCH_ALLOW_PRIVATE');
    expect(reply).not.toContain('INTERNAL-ONLY');
    expect(t.internal.connections).toBe(0);
    expect(t.mem.lines.some((l) => l.includes('"event":"fetch.blocked"') && l.includes(url))).toBe(true);
  }, 20_000);
});
