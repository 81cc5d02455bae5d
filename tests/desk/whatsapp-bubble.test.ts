import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser } from 'playwright-core';
import { browserAvailable, launchChromium } from './browser.js';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createWhatsAppModule } from '../../src/platforms/whatsapp/module.js';
import { useDatabaseAuthState } from '../../src/platforms/whatsapp/auth-store.js';
import { openStore } from '../../src/store/db.js';
import { fakeSocketFactory, groupMeta, type FakeWhatsAppSocket } from '../fakes/whatsapp-socket.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { articlePage, rss, tempDir, until } from '../e2e/helpers.js';

/** The desk's preview draws a WhatsApp bubble for a WhatsApp destination (the fake socket, the whole app, Chromium). */

const GROUP = '120363000000000001@g.us';
const OWN = '5511900000000@s.whatsapp.net';
const PASSWORD = 'senha-da-redacao-123';

let app: App;
let site: FeedServer;
let browser: Browser;
let dir: string;

describe.skipIf(!browserAvailable)('desk preview for WhatsApp in Chromium', () => {
  beforeAll(async () => {
    dir = tempDir('manchete-desk-wa-');
    const databaseUrl = `sqlite:${join(dir, 'db.sqlite')}`;
    const seed = await openStore(databaseUrl);
    const auth = await useDatabaseAuthState(seed.db, 'default');
    auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Manchete' };
    auth.state.creds.account = { details: new Uint8Array([1]), accountSignatureKey: new Uint8Array([2]), accountSignature: new Uint8Array([3]), deviceSignature: new Uint8Array([4]) };
    await auth.saveCreds();
    await seed.close();
    site = await startFeedServer({});
    site.route('/feed.xml', () => ({ body: rss(site.origin, [{ id: 'w0', title: 'Antiga', section: 'Mundo', minute: 1 }]), contentType: 'application/rss+xml' }));
    site.route('/furo', { body: articlePage(site.urlFor('/furo'), { title: 'Furo no WhatsApp', lead: 'A redação publica agora uma informação exclusiva apurada durante a semana.', section: 'Política' }), contentType: 'text/html' });
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      FEED_URLS: site.urlFor('/feed.xml'),
      WHATSAPP_ENABLED: 'true',
      WHATSAPP_CHATS: GROUP,
      HTTP_PORT: '0',
      FETCH_PAGES: 'false',
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
      ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'info',
    });
    const sockets = fakeSocketFactory((s: FakeWhatsAppSocket) => {
      s.groups.set(GROUP, groupMeta(GROUP, { subject: 'Notícias', announce: true, members: [[OWN, 'admin']] }));
    });
    const mem = memoryLogger();
    const whatsapp = await createWhatsAppModule(config, mem.logger, [], { socketFactory: sockets.factory, fetchImage: async () => { throw new Error('no images in this test'); } });
    app = await startApp({ config, logger: mem.logger, platforms: [whatsapp], print: () => undefined, deskLiveMs: 200 });
    await until(() => sockets.sockets.length > 0, 5_000, 'a socket');
    sockets.last().open();
    await until(() => whatsapp.state() === 'open', 5_000, 'open');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await site?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a WhatsApp bubble (not a Telegram one) for the WhatsApp destination, with the story', async () => {
    const page = await browser.newPage({ locale: 'pt-BR' });
    await page.goto(`${app.adminUrl}/desk/`);
    await page.fill('input[name=user]', 'admin');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/desk\/$/);
    await page.goto(`${app.adminUrl}/desk/preview`);
    await page.fill('input[name=url]', site.urlFor('/furo'));
    await page.click('form.row button[type=submit]');
    const bubble = page.locator('.dest .bubble.whatsapp .text');
    await bubble.first().waitFor();
    expect(await page.locator('.dest .bubble.telegram').count()).toBe(0);
    const text = await bubble.first().innerText();
    expect(text).toContain('Furo no WhatsApp');
    expect(text).toContain('informação exclusiva');
    await page.close();
  }, 60_000);
});
