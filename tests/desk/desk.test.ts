import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page } from 'playwright-core';
import { browserAvailable, launchChromium } from './browser.js';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { setPaused } from '../../src/commands/repo.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { articlePage, rss, tempDir, until, type Story } from '../e2e/helpers.js';

/**
 * The web desk in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against the
 * whole app: a fake news site, the fake Bot API with the real telegraf client, a real SQLite file.
 * With DESK_SCREENSHOTS=1 the same run writes docs/desk-*.png at desktop and phone sizes.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const seedFile = resolve(repoRoot, '../shared/seeds/000_7e1905dfbb2939a1.txt');
const SHOTS = process.env.DESK_SCREENSHOTS === '1';
const CHANNEL = -1001000000010;
const GROUP = -1001000000020;
const PASSWORD = 'senha-da-redacao-123';

let app: App;
let fake: FakeTelegram;
let site: FeedServer;
let browser: Browser;
let dir: string;
let stories: Story[];

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(join(repoRoot, 'docs'), { recursive: true });
  for (const [size, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(repoRoot, 'docs', `desk-${name}-${size}.png`), fullPage: false });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function signIn(page: Page, password = PASSWORD) {
  await page.goto(`${app.adminUrl}/desk/`);
  expect(new URL(page.url()).pathname).toBe('/desk/login');
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}


describe.skipIf(!browserAvailable)('web desk in Chromium', () => {
  beforeAll(async () => {
    dir = tempDir('manchete-desk-');
    stories = [{ id: 'a1', title: 'Primeira notícia da manhã', section: 'Mundo', minute: 1 }];
    site = await startFeedServer({});
    site.route('/feed.xml', () => ({ body: rss(site.origin, stories), contentType: 'application/rss+xml; charset=utf-8' }));
    fake = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
    fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
    fake.addChat({ id: GROUP, type: 'supergroup', title: 'Redação', botIsAdmin: true });
    const config = loadConfig({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      FEED_URLS: site.urlFor('/feed.xml'),
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_CHATS: `@canal,${GROUP}`,
      HTTP_PORT: '0',
      FETCH_PAGES: 'false',
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
      ADMIN_PASSWORD: PASSWORD,
      TELEGRAM_CHAT_GAP: '50ms',
      LOG_LEVEL: 'info',
    });
    const mem = memoryLogger();
    const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
    app = await startApp({ config, logger: mem.logger, platforms, routes: EMPTY_ROUTES, print: () => undefined, deskLiveMs: 200 });
    await until(async () => (await app.feeds.get(site.urlFor('/feed.xml')))?.primed_at != null, 10_000, 'the first poll');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await fake?.close();
    await site?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password, then signs in; the session cookie is HttpOnly and SameSite=Strict; security headers are set', async () => {
    const page = await browser.newPage({ locale: 'pt-BR' });
    await signIn(page, 'errada');
    await page.locator('.error').waitFor();
    expect(await page.locator('.error').innerText()).toContain('incorretos');
    expect(new URL(page.url()).pathname).toBe('/desk/login');
    const res = await page.goto(`${app.adminUrl}/desk/login`);
    const headers = res!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    await signIn(page);
    expect(new URL(page.url()).pathname).toBe('/desk/');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'manchete_desk')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.close();
  });

  it('the desk updates live when a message goes out through the fake Bot API', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'pt-BR' });
    await signIn(page);
    await page.locator('.platforms [data-platform=telegram]').waitFor();
    expect(await page.locator('.platforms [data-platform=telegram]').innerText()).toContain('conectado');
    const before = fake.sentTo(CHANNEL).length;
    stories = [...stories, { id: 'a2', title: 'Notícia que chega ao vivo', section: 'Mundo', minute: 5 }];
    await app.pipeline.pollFeed(site.urlFor('/feed.xml'));
    await fake.waitFor(() => fake.sentTo(CHANNEL).length > before, 10_000, 'the new story sent');
    // No reload: the SSE part replaces the list.
    await page.locator('.last-sent', { hasText: 'Notícia que chega ao vivo' }).waitFor({ timeout: 10_000 });
    await shot(page, 'home');
    await page.close();
  });

  it('previews a story as bubbles, pushes it to two destinations, progress reaches 2 of 2, and the bubble matches what Telegram received', async () => {
    const hasSeed = existsSync(seedFile);
    let title = 'Prefeitura anuncia <script>alert(1)</script> obras & reformas';
    let lead = 'A prefeitura anunciou nesta segunda-feira um pacote de obras em escolas e postos de saúde da cidade.';
    if (hasSeed) {
      const blocks = readFileSync(seedFile, 'utf8').split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean);
      title = blocks[1]!;
      lead = blocks[2]!;
    }
    const url = `${site.origin}/materia/1`;
    site.route('/materia/1', { body: articlePage(url, { title, lead, section: 'Mundo' }), contentType: 'text/html; charset=utf-8' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'pt-BR' });
    await signIn(page);
    await page.goto(`${app.adminUrl}/desk/preview`);
    await page.fill('input[name=url]', url);
    await page.click('form.row button[type=submit]');
    const bubbles = page.locator('.dest .bubble.telegram .text');
    await bubbles.first().waitFor();
    expect(await bubbles.count()).toBe(2);
    const bubbleText = await bubbles.first().innerText();
    expect(bubbleText).toContain(title);
    // Feed-supplied markup is text: no script element inside the bubbles.
    expect(await page.locator('.bubble script').count()).toBe(0);
    await shot(page, 'preview');
    const sentBefore = { channel: fake.sentTo(CHANNEL).length, group: fake.sentTo(GROUP).length };
    await page.click('button.primary');
    await page.locator('.progress-text', { hasText: 'enviado para 2 de 2 destinos' }).waitFor({ timeout: 15_000 });
    const got = fake.sentTo(CHANNEL).slice(sentBefore.channel);
    expect(got).toHaveLength(1);
    expect(fake.sentTo(GROUP).length).toBe(sentBefore.group + 1);
    const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
    expect(norm(bubbleText)).toBe(norm(got[0]!.plain));
    // The push is audited with the web user.
    await page.goto(`${app.adminUrl}/desk/audit`);
    expect(await page.locator('table.audit').innerText()).toMatch(/web:admin\s+push\.enqueued/);
    await page.close();
  });

  it('requeues a failed row, and resumes paused posting', async () => {
    await setPaused(app.store.db, true, 'telegram:777', new Date());
    // The running dispatcher reads the switch every 2 s.
    await new Promise((r) => setTimeout(r, 2_500));
    const dest = (await app.destinations.list()).find((d) => d.chatId === '@canal')!;
    const [id] = await app.outbox.enqueue([{ articleId: null, destinationId: dest.id, kind: 'article', priority: 0, payload: [{ kind: 'text', text: 'Linha que falhou' }] }]);
    await app.outbox.finish(id!, 'failed', 'Bad Request: teste de falha');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'pt-BR' });
    await signIn(page);
    await page.goto(`${app.adminUrl}/desk/queue`);
    const row = page.locator(`tr[data-id="${id}"]`);
    expect(await row.innerText()).toContain('teste de falha');
    await row.locator('button').click();
    await until(async () => (await app.outbox.get(id!))?.status !== 'failed', 5_000, 'the row requeued');
    expect((await app.outbox.get(id!))?.attempts).toBe(0);
    expect(await page.locator('.pause').innerText()).toContain('telegram:777');
    await page.click('form[action="/desk/pause"] button');
    await until(async () => (await app.outbox.get(id!))?.status === 'sent', 10_000, 'the requeued row sent after resuming');
    expect(fake.sentTo(CHANNEL).some((m) => m.plain === 'Linha que falhou')).toBe(true);
    await page.goto(`${app.adminUrl}/desk/audit`);
    const audit = await page.locator('table.audit').innerText();
    expect(audit).toMatch(/web:admin\s+queue\.requeue/);
    expect(audit).toMatch(/web:admin\s+resume/);
    await page.close();
  });

  it('refuses a form without its CSRF token (403), and a request without a session', async () => {
    const page = await browser.newPage({ locale: 'pt-BR' });
    await signIn(page);
    await page.goto(`${app.adminUrl}/desk/queue`);
    const pausedBefore = (await app.store.db.selectFrom('settings').selectAll().where('key', '=', 'posting.paused').executeTakeFirst())?.value;
    await page.evaluate(`document.querySelector('form[action="/desk/pause"] input[name=_csrf]').remove()`);
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/desk/pause')), page.click('form[action="/desk/pause"] button')]);
    expect(res.status()).toBe(403);
    expect((await app.store.db.selectFrom('settings').selectAll().where('key', '=', 'posting.paused').executeTakeFirst())?.value).toBe(pausedBefore);
    // Another site's page posting with the browser's cookie is refused by its Origin, sign-in included.
    const cross = await fetch(`${app.adminUrl}/desk/login`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: new URLSearchParams({ user: 'admin', password: PASSWORD }) });
    expect(cross.status).toBe(403);
    const anonymous = await fetch(`${app.adminUrl}/desk/pause`, { method: 'POST', body: new URLSearchParams({ paused: 'true' }) });
    expect(anonymous.status).toBe(401);
    await page.close();
  });

  it('works at 390×844 and switches to English', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'pt-BR' });
    await signIn(page);
    await page.click('a[href^="/desk/lang/en"]');
    expect(await page.locator('nav').innerText()).toContain('Queue');
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await page.goto(`${app.adminUrl}/desk/feeds`);
    expect(await page.locator('table.feeds').innerText()).toContain('/feed.xml');
    await page.close();
  });
});
