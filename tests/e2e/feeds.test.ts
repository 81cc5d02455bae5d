import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { openStore } from '../../src/store/db.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { startFakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { rss, sleep, tempDir, until, type Story } from './helpers.js';

/**
 * Feeds managed at run time, end to end: `manchete feeds import` as its own process against a loopback
 * site with broken feeds among good ones, and a running app that follows `feeds add` / `feeds remove`
 * made by another process on the same database, without a restart.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHANNEL = -1001000000310;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** `manchete <args>` as a separate process, the way an operator runs it; resolves with its exit code and output. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', USER: 'editora', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('feeds import from an OPML file', () => {
  it('50 feeds, 5 of them broken: 45 added, and the summary names the 5 with their reasons', async () => {
    const dir = tempDir('manchete-opml-');
    const site: FeedServer = await startFeedServer({});
    cleanup.push(async () => {
      await site.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const good = Array.from({ length: 45 }, (_, i) => `/feeds/${i}.xml`);
    for (const path of good)
      site.route(path, { body: rss(site.origin, [{ id: `${path}-1`, title: `Notícia de ${path}`, section: 'Brasil', minute: 1 }]), contentType: 'application/rss+xml' });
    const broken = {
      missing: '/quebrados/404.xml',
      notFeed: '/quebrados/pagina.html',
      timeout: '/quebrados/lento.xml',
      privateRedirect: '/quebrados/redireciona.xml',
      malformed: '/quebrados/malformado.xml',
    };
    site.route(broken.notFeed, { body: '<!doctype html><html><head><title>Capa</title></head><body><p>Não é um feed</p></body></html>', contentType: 'text/html' });
    site.route(broken.timeout, { hang: true });
    site.route(broken.privateRedirect, { redirect: { to: 'http://10.0.0.5/feed.xml', status: 302 } });
    site.route(broken.malformed, { body: '<?xml version="1.0"?><rss version="2.0"><channel><title>Cortado</title><item><title>Sem fim', contentType: 'application/rss+xml' });
    // The broken ones are spread through the file, in folders, as real exports are.
    const outlines = [...good.map((p) => site.urlFor(p))];
    Object.values(broken).forEach((p, i) => outlines.splice(i * 10 + 3, 0, site.urlFor(p)));
    const file = join(dir, 'leitor.opml');
    writeFileSync(
      file,
      `<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><head><title>Exportado</title></head><body>\n` +
        [0, 1, 2, 3, 4]
          .map((folder) => `<outline text="Pasta ${folder}">\n${outlines.slice(folder * 10, folder * 10 + 10).map((u, i) => `  <outline type="rss" text="Feed ${folder}-${i}" xmlUrl="${u}"/>`).join('\n')}\n</outline>`)
          .join('\n') +
        '\n</body></opml>\n',
    );

    site.route('/configurado.xml', { body: rss(site.origin, []), contentType: 'application/rss+xml' });
    const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, FEED_URLS: site.urlFor('/configurado.xml'), FETCH_ALLOW_PRIVATE: '127.0.0.1/32', FETCH_TIMEOUT: '1s', FEEDS_IMPORT_PER_HOST: '4' };
    const r = await cli(['feeds', 'import', file], env);
    // Some failed: exit 1, and the summary on stdout.
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /^\[\d+\/50\] ok /.test(l))).toHaveLength(45);
    expect(lines.filter((l) => /^\[\d+\/50\] failed /.test(l))).toHaveLength(5);
    const summaryAt = lines.findIndex((l) => l.startsWith(`${file}: 50 feeds in `));
    expect(lines[summaryAt]).toMatch(/: 45 added, 0 already polled, 5 failed:$/);
    const failed = lines.slice(summaryAt + 1, summaryAt + 6);
    const reasonOf = (path: string) => failed.find((l) => l.startsWith(`  ${site.urlFor(path)}: `)) ?? `(no line for ${path})`;
    expect(reasonOf(broken.missing)).toMatch(/HTTP 404/);
    expect(reasonOf(broken.notFeed)).toMatch(/is an HTML page, not a feed/);
    expect(reasonOf(broken.timeout)).toMatch(/did not answer within 1 s/);
    expect(reasonOf(broken.privateRedirect)).toMatch(/10\.0\.0\.5.*private address/);
    expect(reasonOf(broken.malformed)).toMatch(/not valid XML/);
    // The private address was refused before a packet was sent, and nothing else reached it: every request was to this site.
    expect(site.requests.filter((q) => q.path === broken.privateRedirect)).toHaveLength(1);

    const store = await openStore(env.DATABASE_URL);
    const rows = await store.db.selectFrom('feeds').select(['url', 'section', 'added_by']).where('managed', '=', 1).execute();
    await store.close();
    // The 45 good feeds, each in its folder's section; none of the broken ones.
    expect(rows).toHaveLength(45);
    expect(new Set(rows.map((r) => r.url))).toEqual(new Set(good.map((p) => site.urlFor(p))));
    expect(rows.every((r) => /^Pasta [0-4]$/.test(r.section ?? '') && r.added_by === 'opml leitor.opml (editora)')).toBe(true);
    const list = await cli(['feeds', 'list'], env);
    expect(list.stdout.trim().split('\n').at(-1)).toBe('46 feeds: 1 from configuration, 45 added at run time');
  }, 60_000);
});

describe('a running manchete start follows feeds added and removed by the CLI', () => {
  it('polls a feed added by another process, posts its new articles, and stops polling it once removed', async () => {
    const dir = tempDir('manchete-live-');
    const site: FeedServer = await startFeedServer({});
    const main: Story[] = [{ id: 'm1', title: 'Do feed configurado', section: 'Mundo', minute: 1 }];
    let added: Story[] = [{ id: 'g1', title: 'Antiga do feed novo', section: '', minute: 1 }];
    site.route('/principal.xml', () => ({ body: rss(site.origin, main), contentType: 'application/rss+xml' }));
    site.route('/novo.xml', () => ({ body: rss(site.origin, added), contentType: 'application/rss+xml' }));
    const fake = await startFakeTelegram({ token: TOKEN });
    fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      FEED_URLS: site.urlFor('/principal.xml'),
      POLL_INTERVAL: '5s',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_CHATS: '@canal',
      HTTP_PORT: '0',
      FETCH_PAGES: 'false',
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
      LOG_LEVEL: 'debug',
    };
    const config = loadConfig(env);
    const mem = memoryLogger();
    const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
    const app = await startApp({ config, logger: mem.logger, platforms, routes: EMPTY_ROUTES, print: () => undefined });
    cleanup.push(async () => {
      await app.stop();
      await fake.close();
      await site.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await until(async () => (await app.feeds.get(site.urlFor('/principal.xml')))?.primed_at != null, 10_000, 'the first poll');
    expect(site.requests.some((q) => q.path === '/novo.xml')).toBe(false);

    const add = await cli(['feeds', 'add', site.urlFor('/novo.xml'), '--section', 'Cultura'], env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Antiga do feed novo [Cultura]');
    const checks = site.requests.filter((q) => q.path === '/novo.xml').length;
    // The running app polls it at a tick: its backlog is recorded, not posted.
    await until(async () => (await app.feeds.get(site.urlFor('/novo.xml')))?.primed_at != null, 15_000, 'the added feed polled by the running app');
    expect(site.requests.filter((q) => q.path === '/novo.xml').length).toBeGreaterThan(checks);
    expect(mem.lines.some((l) => l.includes('"event":"feeds.changed"') && l.includes(site.urlFor('/novo.xml')))).toBe(true);
    expect(fake.sent).toHaveLength(0);

    // A new article in it is posted, with the section the CLI gave the feed.
    added = [...added, { id: 'g2', title: 'Nova do feed adicionado', section: '', minute: 5 }];
    await fake.waitFor(() => fake.sent.length === 1, 20_000, 'the new article of the added feed');
    expect(fake.sentTo(CHANNEL)[0]!.plain).toContain('Nova do feed adicionado');
    expect(fake.sentTo(CHANNEL)[0]!.plain).toContain('Cultura');

    const removed = await cli(['feeds', 'remove', site.urlFor('/novo.xml')], env);
    expect(removed.code, removed.stderr).toBe(0);
    const removedLine = () => mem.lines.findIndex((l) => l.includes('"event":"feeds.changed"') && l.includes('"removed":["' + site.urlFor('/novo.xml')));
    await until(() => removedLine() >= 0, 15_000, 'the tick that drops the removed feed');
    const requestsThen = site.requests.filter((q) => q.path === '/novo.xml').length;
    added = [...added, { id: 'g3', title: 'Depois da remoção', section: '', minute: 9 }];
    // Two more ticks (5 s each): the configured feed is polled again, the removed one is not.
    const mainThen = site.requests.filter((q) => q.path === '/principal.xml').length;
    await until(() => site.requests.filter((q) => q.path === '/principal.xml').length >= mainThen + 2, 20_000, 'two more polls of the configured feed');
    await sleep(200);
    expect(site.requests.filter((q) => q.path === '/novo.xml').length).toBe(requestsThen);
    await app.dispatcher.idle();
    expect(fake.sent).toHaveLength(1);
  }, 90_000);
});

describe('feeds added at run time are outside input when polled too', () => {
  it('a managed feed on a private address is refused at every poll, while a configured one there is read', async () => {
    const dir = tempDir('manchete-untrusted-');
    const site: FeedServer = await startFeedServer({});
    site.route('/configurado.xml', { body: rss(site.origin, [{ id: 'c1', title: 'Configurado', section: 'Mundo', minute: 1 }]), contentType: 'application/rss+xml' });
    site.route('/gerido.xml', { body: rss(site.origin, [{ id: 'g1', title: 'Gerido', section: 'Mundo', minute: 1 }]), contentType: 'application/rss+xml' });
    const dbUrl = `sqlite:${join(dir, 'db.sqlite')}`;
    // Written straight to the table (as if its host had resolved to a public address when it was added).
    const pre = await openStore(dbUrl);
    await new FeedRepo(pre.db).addManaged({ url: site.urlFor('/gerido.xml'), addedBy: 'teste' });
    await pre.close();
    // No FETCH_ALLOW_PRIVATE: loopback is private.
    const config = loadConfig({ DATABASE_URL: dbUrl, FEED_URLS: site.urlFor('/configurado.xml'), POLL_INTERVAL: '5s', HTTP_PORT: '0', FETCH_PAGES: 'false', LOG_LEVEL: 'debug' });
    const mem = memoryLogger();
    const app = await startApp({ config, logger: mem.logger, platforms: [], routes: EMPTY_ROUTES, print: () => undefined });
    cleanup.push(async () => {
      await app.stop();
      await site.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await until(async () => (await app.feeds.get(site.urlFor('/gerido.xml')))?.failures === 1, 15_000, 'the managed feed polled once');
    expect((await app.feeds.get(site.urlFor('/gerido.xml')))?.last_error).toMatch(/resolves to a loopback address \(127\.0\.0\.1\); allow it with FETCH_ALLOW_PRIVATE/);
    expect(site.requests.filter((q) => q.path === '/gerido.xml')).toHaveLength(0);
    await until(async () => (await app.feeds.get(site.urlFor('/configurado.xml')))?.primed_at != null, 15_000, 'the configured feed read');
    expect(await app.feeds.get(site.urlFor('/configurado.xml'))).toMatchObject({ failures: 0, last_error: null });
  }, 30_000);
});
