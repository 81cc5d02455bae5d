import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/server.js';
import { mountDesk } from '../../src/desk/routes.js';
import { openStore, type Store } from '../../src/store/db.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { FeedAdmin } from '../../src/delivery/managed-feeds.js';
import { setPaused } from '../../src/commands/repo.js';
import { packageRoot } from '../../src/paths.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';

/** The desk's routes in process (hono's app.request): sign-in, headers, CSRF, the desk's content escaped. */

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function deskApp() {
  const dir = mkdtempSync(join(tmpdir(), 'manchete-desk-routes-'));
  const store: Store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const feeds = new FeedRepo(store.db);
  const log = memoryLogger();
  const app = createHttpApp({ logger: log.logger });
  mountDesk(app, {
    db: store.db,
    dispatcher: { breakers: () => ({ telegram: { state: 'open', since: 1, reason: 'HTTP 502 <b>Bad Gateway</b>', probes: 0, nextProbeAt: 2, opened: 1 } }) },
    platforms: [{ platform: 'telegram', state: () => 'polling' }],
    feeds,
    logger: log.logger,
    users: [{ name: 'ana', hash: bcrypt.hashSync('senha-da-ana', 4) }],
    sessionTtlMs: 60_000,
    secureCookies: true,
    trustProxy: false,
    templatesDir: join(packageRoot(), 'templates', 'desk'),
    assetsDir: join(packageRoot(), 'src', 'desk', 'assets'),
    renderer: { render: () => [] },
    articles: { put: async () => 1, latest: async () => [], byUrl: async () => undefined },
    routing: { route: async () => [], destinationsFor: async () => [] },
    destinationIds: () => [],
    readPage: async () => null,
    wake: () => undefined,
    feedAdmin: new FeedAdmin({ repo: feeds, feedUrls: [], routeFeeds: [], check: { fetch: {} as never, summaryMaxChars: 300, itemHtmlMaxBytes: 100_000 }, actor: 'web', checkFeed: async () => ({ ok: false, reason: 'never checked here' }) as never }),
  });
  return { app, store, feeds, log };
}

const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

async function signIn(app: Awaited<ReturnType<typeof deskApp>>['app']) {
  const res = await app.request('/desk/login', form({ user: 'ana', password: 'senha-da-ana' }));
  expect(res.status).toBe(302);
  const cookie = res.headers.get('set-cookie')!;
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  expect(cookie).toMatch(/Secure/);
  return cookie.split(';')[0]!;
}

describe('desk routes', () => {
  it('sends the security headers and redirects to sign-in without a session', async () => {
    const { app } = await deskApp();
    const res = await app.request('/desk/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/desk/login');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const js = await app.request('/desk/assets/desk.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await app.request('/desk/assets/..%2Fauth.ts')).status).toBe(404);
  });

  it('shows the breaker reason, who paused, and a failing feed, all escaped', async () => {
    const { app, store, feeds } = await deskApp();
    await setPaused(store.db, true, 'telegram:777', new Date());
    await feeds.ensure('https://site.test/feed');
    await feeds.update('https://site.test/feed', { failures: 3, last_error: '<script>alert(1)</script>', next_poll_at: '2026-12-01T10:00:00.000Z' });
    const cookie = await signIn(app);
    const html = await (await app.request('/desk/', { headers: { cookie, 'accept-language': 'pt-BR' } })).text();
    expect(html).toContain('degradado');
    expect(html).toContain('HTTP 502 &lt;b&gt;Bad Gateway&lt;/b&gt;');
    expect(html).toContain('Envio automático pausado');
    expect(html).toContain('telegram:777');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert');
  });

  it('refuses a POST without the CSRF token (403) and takes it with one; the change is audited as web:<name>', async () => {
    const { app, store } = await deskApp();
    const cookie = await signIn(app);
    const page = await (await app.request('/desk/queue', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const bad = await app.request('/desk/pause', { ...form({ paused: 'true' }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie } });
    expect(bad.status).toBe(403);
    const ok = await app.request('/desk/pause', { ...form({ paused: 'true', _csrf: csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie } });
    expect(ok.status).toBe(302);
    const audit = await store.db.selectFrom('audit_log').selectAll().where('action', '=', 'pause').execute();
    expect(audit.map((a) => a.actor)).toEqual(['web:ana']);
  });

  it('limits sign-in attempts per user', async () => {
    const { app } = await deskApp();
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await app.request('/desk/login', form({ user: 'ana', password: 'errada' }))).status);
    expect(codes.slice(0, 8).every((c) => c === 401)).toBe(true);
    expect(codes.slice(8)).toEqual([429, 429]);
    // Even the right password waits out the window.
    expect((await app.request('/desk/login', form({ user: 'ana', password: 'senha-da-ana' }))).status).toBe(429);
  });

  it('refuses the feed actions without the CSRF token (403) and writes nothing', async () => {
    const { app, feeds } = await deskApp();
    const cookie = await signIn(app);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', cookie };
    await feeds.addManaged({ url: 'http://127.0.0.1:9/keep.xml', title: null, section: null, intervalS: null, addedBy: 'test' });
    expect((await app.request('/desk/feeds/add', { ...form({ url: 'http://127.0.0.1:9/new.xml' }), headers })).status).toBe(403);
    expect((await app.request('/desk/feeds/remove', { ...form({ url: 'http://127.0.0.1:9/keep.xml', _csrf: 'wrong' }), headers })).status).toBe(403);
    const body = new FormData();
    body.append('opml', new File(['<opml version="2.0"><body><outline xmlUrl="http://127.0.0.1:9/x.xml"/></body></opml>'], 'f.opml', { type: 'text/x-opml' }));
    expect((await app.request('/desk/feeds/import', { method: 'POST', body, headers: { cookie } })).status).toBe(403);
    expect((await feeds.managed()).map((m) => m.url)).toEqual(['http://127.0.0.1:9/keep.xml']);
    // With the token the remove goes through (and the page marks nothing else removable).
    const page = await (await app.request('/desk/feeds', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    expect(page).toContain('action="/desk/feeds/remove"');
    const ok = await app.request('/desk/feeds/remove', { ...form({ url: 'http://127.0.0.1:9/keep.xml', _csrf: csrf }), headers });
    expect(ok.status).toBe(200);
    expect(await feeds.managed()).toEqual([]);
    const big = new FormData();
    big.append('_csrf', csrf);
    big.append('opml', new File(['x'.repeat(1024 * 1024 + 100 * 1024)], 'big.opml', { type: 'text/x-opml' }));
    expect((await app.request('/desk/feeds/import', { method: 'POST', body: big, headers: { cookie } })).status).toBe(413);
    const exp = await app.request('/desk/feeds/export', { headers: { cookie } });
    expect(exp.headers.get('content-disposition')).toMatch(/^attachment/);
  });
});
