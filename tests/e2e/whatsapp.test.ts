import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createWhatsAppModule } from '../../src/platforms/whatsapp/module.js';
import { useDatabaseAuthState } from '../../src/platforms/whatsapp/auth-store.js';
import { openStore } from '../../src/store/db.js';
import { fakeSocketFactory, groupMeta, type FakeWhatsAppSocket } from '../fakes/whatsapp-socket.js';
import { startFeedServer } from '../helpers/feed-server.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { articlePage, rss, tempDir, until, type Story } from './helpers.js';

/**
 * The whole app with WhatsApp as its only platform: the real connection manager, sender, pacing and
 * command wiring over a fake socket typed against Baileys' own WASocket, a fake news site, real SQLite.
 */

const GROUP = '120363000000000001@g.us';
const CHANNEL = '120363000000000002@newsletter';
const OWN = '5511900000000@s.whatsapp.net';
const EDITOR = '5511999998888';
const READER = '5521988887777';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup() {
  const dir = tempDir();
  const databaseUrl = `sqlite:${join(dir, 'db.sqlite')}`;
  // A session paired earlier by `manchete whatsapp login`.
  const seed = await openStore(databaseUrl);
  const auth = await useDatabaseAuthState(seed.db, 'default');
  auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Manchete' };
  auth.state.creds.account = { details: new Uint8Array([1]), accountSignatureKey: new Uint8Array([2]), accountSignature: new Uint8Array([3]), deviceSignature: new Uint8Array([4]) };
  await auth.saveCreds();
  await seed.close();

  let stories: Story[] = [{ id: 'w0', title: 'Antiga', section: 'Mundo', minute: 1 }];
  const site = await startFeedServer({});
  site.route('/feed.xml', () => ({ body: rss(site.origin, stories), contentType: 'application/rss+xml' }));
  site.route('/furo', { body: articlePage(site.urlFor('/furo'), { title: 'Furo no WhatsApp', lead: 'A redação publica agora uma informação exclusiva apurada durante a semana.', section: 'Política' }), contentType: 'text/html' });
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    FEED_URLS: site.urlFor('/feed.xml'),
    WHATSAPP_ENABLED: 'true',
    WHATSAPP_CHATS: `${GROUP},${CHANNEL}`,
    WHATSAPP_GAP: '20ms-40ms',
    WHATSAPP_CHAT_GAP: '50ms',
    EDITORS: `whatsapp:${EDITOR}`,
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    LOG_LEVEL: 'debug',
  });
  const sockets = fakeSocketFactory((s: FakeWhatsAppSocket) => {
    s.groups.set(GROUP, groupMeta(GROUP, { subject: 'Notícias', announce: true, members: [[OWN, 'admin']] }));
    s.newsletters.set(`jid:${CHANNEL}`, { id: CHANNEL, name: 'Canal', viewer_metadata: { role: 'OWNER' } } as never);
  });
  const mem = memoryLogger();
  const printed: string[] = [];
  const whatsapp = await createWhatsAppModule(config, mem.logger, [], { socketFactory: sockets.factory, fetchImage: async () => { throw new Error('no images in this test'); } });
  const app: App = await startApp({ config, logger: mem.logger, platforms: [whatsapp], print: (l) => printed.push(l) });
  cleanup.push(async () => {
    await app.stop();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await until(() => sockets.sockets.length > 0, 5_000, 'a socket');
  sockets.last().open();
  await until(() => whatsapp.state() === 'open', 5_000, 'open');
  const feedUrl = site.urlFor('/feed.xml');
  await until(async () => (await app.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
  const incoming = (from: string, text: string, chat = `${from}@s.whatsapp.net`, id = `IN${Math.random().toString(36).slice(2)}`) =>
    sockets.last().ev.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: chat, fromMe: false, id, ...(chat.endsWith('@g.us') ? { participant: `${from}@s.whatsapp.net` } : {}) },
          message: { conversation: text },
          messageTimestamp: Math.floor(Date.now() / 1000),
        },
      ],
    });
  return { app, socket: () => sockets.last(), whatsapp, printed, mem, feedUrl, incoming, setStories: (s: Story[]) => (stories = [...stories, ...s]) };
}

const texts = (s: FakeWhatsAppSocket, jid: string) =>
  s.sent.filter((m) => m.jid === jid).map((m) => ('text' in m.content ? m.content.text : 'caption' in m.content ? (m.content.caption ?? '') : ''));

describe('WhatsApp end to end', () => {
  it('checks destinations on connect and posts new articles to the group and the channel, paced and in order', async () => {
    const t = await setup();
    await until(() => t.printed.some((l) => l.startsWith(`${CHANNEL}:`)), 5_000, 'destination lines');
    expect(t.printed.find((l) => l.startsWith(GROUP))).toContain('ok');
    t.setStories([
      { id: 'w1', title: 'Primeira do dia', section: 'Mundo', minute: 10 },
      { id: 'w2', title: 'Segunda do dia *importante*', section: 'Brasil', minute: 11 },
    ]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await until(() => t.socket().sent.filter((m) => !m.jid.endsWith('@s.whatsapp.net')).length === 4, 10_000, 'four posts');
    for (const jid of [GROUP, CHANNEL]) {
      const got = texts(t.socket(), jid);
      expect(got[0]).toContain('*Primeira do dia*');
      expect(got[1]).toContain('Segunda do dia');
      // A title cannot inject WhatsApp markup.
      expect(got[1]).not.toContain('*importante*');
    }
    const channelPost = t.socket().sent.find((m) => m.jid === CHANNEL)!;
    expect('text' in channelPost.content && channelPost.content.linkPreview?.title).toBe('Primeira do dia');
  });

  it('answers commands in private and in groups (only "/" messages there), and an editor can push with /confirmar', async () => {
    const t = await setup();
    t.incoming(READER, '/ultimas');
    await until(() => texts(t.socket(), `${READER}@s.whatsapp.net`).length === 1, 5_000, 'a reply');
    expect(texts(t.socket(), `${READER}@s.whatsapp.net`)[0]).toContain('Antiga');
    expect(t.socket().presence.some((p) => p.type === 'composing')).toBe(true);

    t.incoming(READER, 'bom dia a todos', GROUP);
    t.incoming(READER, '/push https://example.com/x', GROUP);
    await until(() => t.socket().sent.filter((m) => m.jid === GROUP).length >= 1, 5_000, 'group reply');
    expect(texts(t.socket(), GROUP)).toHaveLength(1);

    t.incoming(EDITOR, `/push ${t.app.config.feeds[0]!.replace('/feed.xml', '/furo')}`);
    await until(() => texts(t.socket(), `${EDITOR}@s.whatsapp.net`).some((x) => /confirmar/i.test(x)), 10_000, 'the confirmation prompt');
    const prompt = texts(t.socket(), `${EDITOR}@s.whatsapp.net`).find((x) => /confirmar/i.test(x))!;
    const code = /\/confirmar\s+(\w+)/i.exec(prompt)![1]!;
    t.incoming(EDITOR, `/confirmar ${code}`);
    await until(() => texts(t.socket(), GROUP).some((x) => x.includes('Furo no WhatsApp')) && texts(t.socket(), CHANNEL).some((x) => x.includes('Furo no WhatsApp')), 10_000, 'the push');
    await until(() => texts(t.socket(), `${EDITOR}@s.whatsapp.net`).some((x) => /2 de 2/.test(x)), 10_000, 'progress');
  });

  it('waits while disconnected and sends once the connection is back', async () => {
    const t = await setup();
    t.socket().close(428, 'Connection Closed');
    await until(() => t.whatsapp.state() === 'reconnecting', 5_000, 'reconnecting');
    t.setStories([{ id: 'w9', title: 'Durante a queda', section: 'Mundo', minute: 30 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.app.outbox.counts()).pending).toBe(2);
    await until(() => t.whatsapp.state() === 'connecting' || t.whatsapp.state() === 'open', 10_000, 'a new socket');
    t.socket().open();
    await until(() => texts(t.socket(), GROUP).some((x) => x.includes('Durante a queda')), 10_000, 'sent after reconnect');
  }, 20_000);
});
