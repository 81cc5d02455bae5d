import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page } from 'playwright-core';
import { browserAvailable, launchChromium } from './browser.js';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { recentAudit } from '../../src/commands/repo.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { rss, tempDir, until } from '../e2e/helpers.js';

/**
 * The desk's Feeds page in headless Chromium against the whole app: an OPML file of feeds served on
 * loopback (one broken) imported through the page with live progress, a managed feed removed, the OPML
 * exported as a download.
 */

const CHANNEL = -1001000000010;
const PASSWORD = 'senha-da-redacao-123';

let app: App;
let fake: FakeTelegram;
let site: FeedServer;
let browser: Browser;
let dir: string;

async function signIn(page: Page) {
  await page.goto(`${app.adminUrl}/desk/`);
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/desk\/$/);
}

describe.skipIf(!browserAvailable)('desk Feeds page in Chromium', () => {
  beforeAll(async () => {
    dir = tempDir('manchete-desk-feeds-');
    site = await startFeedServer({});
    const story = (id: string, title: string) => [{ id, title, section: 'Mundo', minute: 1 }];
    site.route('/configured.xml', () => ({ body: rss(site.origin, story('c1', 'Da configuração')), contentType: 'application/rss+xml; charset=utf-8' }));
    for (const n of [1, 2, 3]) site.route(`/f${n}.xml`, () => ({ body: rss(site.origin, story(`f${n}`, `Notícia <b>${n}</b> do feed ${n}`)), contentType: 'application/rss+xml; charset=utf-8' }));
    site.route('/broken.xml', () => ({ status: 500, body: 'down' }));
    fake = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
    fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
    const config = loadConfig({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      FEED_URLS: site.urlFor('/configured.xml'),
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_CHATS: '@canal',
      HTTP_PORT: '0',
      FETCH_PAGES: 'false',
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
      ADMIN_PASSWORD: PASSWORD,
      FEEDS_IMPORT_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
    });
    const mem = memoryLogger();
    const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
    app = await startApp({ config, logger: mem.logger, platforms, routes: EMPTY_ROUTES, print: () => undefined, deskLiveMs: 100 });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await fake?.close();
    await site?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('import an OPML file: progress reaches the end, the summary names the broken feed, the list shows the added ones; remove one; export downloads the rest', async () => {
    const page = await browser.newPage({ locale: 'pt-BR', acceptDownloads: true });
    await signIn(page);
    await page.goto(`${app.adminUrl}/desk/feeds`);
    const configured = site.urlFor('/configured.xml');
    expect(await page.locator(`tr[data-feed="${configured}"]`).innerText()).toContain('da configuração');
    expect(await page.locator(`tr[data-feed="${configured}"] button`).count()).toBe(0);

    const urls = [1, 2, 3].map((n) => site.urlFor(`/f${n}.xml`));
    const broken = site.urlFor('/broken.xml');
    const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
      <outline text="Mundo">${urls.map((u, i) => `<outline type="rss" text="F${i + 1}" xmlUrl="${u}"/>`).join('')}</outline>
      <outline type="rss" text="Quebrado" xmlUrl="${broken}"/></body></opml>`;
    await page.setInputFiles('input[name=opml]', { name: 'feeds.opml', mimeType: 'text/x-opml', buffer: Buffer.from(opml) });
    await page.click('#import-opml button[type=submit]');
    await page.waitForURL(/\/desk\/feeds\/import\//);
    // The live part (SSE) shows the end: 4 of 4, and the failure with its reason.
    await page.locator('.import-done').waitFor({ timeout: 20_000 });
    expect(await page.locator('.progress-text').innerText()).toBe('importando 4 de 4');
    expect(await page.locator('.import-done').innerText()).toContain('3 adicionados');
    const failures = await page.locator('.import-failures').innerText();
    expect(failures).toContain(broken);
    expect(failures).toMatch(/500/);

    await page.goto(`${app.adminUrl}/desk/feeds`);
    for (const u of urls) expect(await page.locator(`tr[data-feed="${u}"] button`, { hasText: 'Remover' }).count()).toBe(1);
    expect(await page.locator(`tr[data-feed="${broken}"]`).count()).toBe(0);

    await page.locator(`tr[data-feed="${urls[1]}"] button`, { hasText: 'Remover' }).click();
    await page.locator('#feed-removed').waitFor();
    expect(await page.locator(`tr[data-feed="${urls[1]}"]`).count()).toBe(0);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-opml')]);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).toBe('manchete-feeds.opml');
    for (const u of [configured, urls[0]!, urls[2]!]) expect(text).toContain(u);
    expect(text).not.toContain(urls[1]!);
    expect(text).not.toContain(broken);

    const audit = (await recentAudit(app.store.db, 50)).map((r) => `${r.actor} ${r.action}`);
    expect(audit).toEqual(expect.arrayContaining(['web:admin feeds.import', 'web:admin feeds.remove']));
    await until(async () => (await app.feeds.get(urls[0]!)) !== undefined, 5_000, 'the imported feed stored');
    await page.close();
  }, 60_000);

  it('adds a feed from the form after checking it (first items shown, escaped) and shows the error of a broken one', async () => {
    const page = await browser.newPage({ locale: 'en' });
    await signIn(page);
    await page.goto(`${app.adminUrl}/desk/feeds`);
    await page.fill('#add-feed input[name=url]', site.urlFor('/broken.xml'));
    await page.click('#add-feed button[type=submit]');
    await page.locator('#feed-error').waitFor();
    expect(await page.locator('#feed-error').innerText()).toMatch(/500/);
    await page.fill('#add-feed input[name=url]', site.urlFor('/f2.xml'));
    await page.fill('#add-feed input[name=section]', 'Esportes');
    await page.fill('#add-feed input[name=interval]', '10m');
    await page.click('#add-feed button[type=submit]');
    await page.locator('#feed-added').waitFor();
    const added = await page.locator('#feed-added').innerText();
    expect(added).toContain('Notícia 2 do feed 2');
    expect(await page.locator('#feed-added b').count()).toBe(0);
    expect(await page.locator(`tr[data-feed="${site.urlFor('/f2.xml')}"] button`, { hasText: 'Remove' }).count()).toBe(1);
    await page.close();
  }, 60_000);
});
