import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { FeedAdmin, compactDuration, feedPlan, hostOf, parseInterval } from '../../src/delivery/managed-feeds.js';
import type { RouteFeed } from '../../src/delivery/routes-file.js';
import { checkFeed } from '../../src/sources/check.js';
import { readOpml } from '../../src/sources/opml.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { rss, tempDir } from '../e2e/helpers.js';

const routeFeed = (url: string, extra: Partial<RouteFeed> = {}): RouteFeed => ({ url, intervalMs: null, boilerplate: [], backfill: null, section: null, ...extra });

describe('feedPlan: what a poll tick polls', () => {
  it('the configured feeds, then the managed ones; a URL in both keeps the configuration and its settings', () => {
    const plan = feedPlan(
      ['https://a/feed', 'https://b/feed'],
      [routeFeed('https://b/feed', { section: 'Config' })],
      [
        { url: 'https://b/feed', section: 'Gerido', intervalS: 60 },
        { url: 'https://c/feed', section: 'Economia', intervalS: 300 },
        { url: 'https://d/feed', section: null, intervalS: null },
      ],
    );
    expect(plan.urls).toEqual(['https://a/feed', 'https://b/feed', 'https://c/feed', 'https://d/feed']);
    expect(plan.settings.get('https://b/feed')?.section).toBe('Config');
    expect(plan.settings.get('https://c/feed')).toMatchObject({ section: 'Economia', intervalMs: 300_000 });
    expect(plan.settings.get('https://d/feed')).toMatchObject({ section: null, intervalMs: null });
    expect(plan.settings.has('https://a/feed')).toBe(false);
  });

  it('intervals: parsed with a floor, written back compactly; hosts by name', () => {
    expect(parseInterval('5m')).toBe(300_000);
    expect(parseInterval('10s')).toMatch(/shorter than 30s/);
    expect(parseInterval('cinco')).toMatch(/not a duration/);
    expect([300_000, 7_200_000, 45_000, 1500].map(compactDuration)).toEqual(['5m', '2h', '45s', '1500ms']);
    expect(hostOf('https://Exemplo.COM:8443/x')).toBe('exemplo.com');
  });
});

describe('FeedAdmin over a real SQLite file and a loopback site', () => {
  let dir: string;
  let store: Store;
  let repo: FeedRepo;
  let site: FeedServer;
  let admin: FeedAdmin;
  const fetch = { timeoutMs: 2000, maxBytes: 1 << 20, pageMaxBytes: 1 << 20, userAgent: 'test', fetchPages: false, allowPrivate: ['127.0.0.1/32'] };

  beforeAll(async () => {
    dir = tempDir();
    store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    repo = new FeedRepo(store.db);
    site = await startFeedServer({});
    for (const name of ['um', 'dois', 'tres', 'conf'])
      site.route(`/${name}.xml`, { body: rss(site.origin, [{ id: `${name}1`, title: `Notícia de ${name}`, section: '', minute: 1 }]), contentType: 'application/rss+xml' });
    site.route('/html', { body: '<!doctype html><html><head><title>x</title></head><body>capa</body></html>', contentType: 'text/html' });
    admin = new FeedAdmin({
      repo,
      feedUrls: [site.urlFor('/conf.xml')],
      routeFeeds: [],
      check: { fetch, summaryMaxChars: 300 },
      actor: 'cli (teste)',
    });
  });
  afterAll(async () => {
    await store.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('add checks first: a working feed is added with its settings, a broken one leaves nothing behind', async () => {
    const ok = await admin.add(site.urlFor('/um.xml'), { section: 'Mundo', intervalMs: 300_000 });
    expect(ok.status).toBe('added');
    if (ok.status !== 'added') return;
    expect(ok.check.sample.map((a) => [a.title, a.section])).toEqual([['Notícia de um', 'Mundo']]);
    const row = await repo.get(site.urlFor('/um.xml'));
    expect(row).toMatchObject({ managed: 1, section: 'Mundo', interval_s: 300, added_by: 'cli (teste)', title: 'Teste', primed_at: null });

    const bad = await admin.add(site.urlFor('/html'));
    expect(bad).toMatchObject({ status: 'failed', check: { kind: 'not-a-feed' } });
    const missing = await admin.add(site.urlFor('/nada.xml'));
    expect(missing).toMatchObject({ status: 'failed', check: { kind: 'http' } });
    if (missing.status === 'failed') expect(missing.check.reason).toContain('404');
    expect(await repo.get(site.urlFor('/html'))).toBeUndefined();
    expect(await repo.get(site.urlFor('/nada.xml'))).toBeUndefined();
    expect(await admin.add('file:///etc/passwd')).toMatchObject({ status: 'failed', check: { kind: 'invalid-url' } });
  });

  it('adding again updates the settings; a configured feed is not added; its polling state is kept', async () => {
    const again = await admin.add(site.urlFor('/um.xml'), { section: 'Brasil' });
    expect(again.status).toBe('updated');
    expect(await repo.get(site.urlFor('/um.xml'))).toMatchObject({ section: 'Brasil', interval_s: null, added_by: 'cli (teste)' });
    expect(await admin.add(site.urlFor('/conf.xml'))).toEqual({ status: 'configured' });

    // A row holding polling state (a feed that was configured once) keeps its validators when managed.
    await repo.ensure(site.urlFor('/dois.xml'));
    await repo.update(site.urlFor('/dois.xml'), { etag: '"v9"', primed_at: '2026-12-01T00:00:00.000Z' });
    expect((await admin.add(site.urlFor('/dois.xml'))).status).toBe('added');
    expect(await repo.get(site.urlFor('/dois.xml'))).toMatchObject({ managed: 1, etag: '"v9"', primed_at: '2026-12-01T00:00:00.000Z' });
  });

  it('list shows the configured feeds first, then the managed ones; remove refuses configured feeds', async () => {
    const list = await admin.list();
    expect(list.map((f) => [f.url.replace(site.origin, ''), f.origin, f.section])).toEqual([
      ['/conf.xml', 'configuration', null],
      ['/um.xml', 'managed', 'Brasil'],
      ['/dois.xml', 'managed', null],
    ]);
    expect(await admin.remove(site.urlFor('/conf.xml'))).toBe('configured');
    expect(await admin.remove(site.urlFor('/nunca.xml'))).toBe('unknown');
    expect(await admin.remove(site.urlFor('/dois.xml'))).toBe('removed');
    expect((await repo.managed()).map((m) => m.url)).toEqual([site.urlFor('/um.xml')]);
  });

  it('import checks within the limits, skips what is polled already, and export gives the same feeds back', async () => {
    let inFlight = 0;
    let peak = 0;
    const counted = new FeedAdmin({
      repo,
      feedUrls: [site.urlFor('/conf.xml')],
      routeFeeds: [],
      check: { fetch, summaryMaxChars: 300 },
      actor: 'cli (teste)',
      checkFeed: async (url, o) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          return await checkFeed(url, o);
        } finally {
          inFlight--;
        }
      },
    });
    const opml = `<opml version="2.0"><head><title>x</title></head><body>
      <outline text="Mundo">
        <outline text="Três" xmlUrl="${site.urlFor('/tres.xml')}" interval="2m"/>
        <outline text="Um" xmlUrl="${site.urlFor('/um.xml')}"/>
      </outline>
      <outline text="Conf" xmlUrl="${site.urlFor('/conf.xml')}"/>
      <outline text="Rápido" xmlUrl="${site.urlFor('/dois.xml')}" interval="1s"/>
      <outline text="Quebrado" xmlUrl="${site.urlFor('/quebrado.xml')}"/>
    </body></opml>`;
    const progress: number[] = [];
    const summary = await counted.importOpml(opml, { concurrency: 8, perHost: 1, onProgress: (p) => progress.push(p.done) });
    expect(summary.added).toEqual([site.urlFor('/tres.xml')]);
    expect(summary.already).toEqual([site.urlFor('/um.xml'), site.urlFor('/conf.xml')]);
    expect(summary.failed.map((f) => f.url)).toEqual([site.urlFor('/dois.xml'), site.urlFor('/quebrado.xml')]);
    expect(summary.failed[0]!.reason).toMatch(/shorter than 30s/);
    expect(summary.failed[1]!.reason).toContain('404');
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    // One host, one at a time.
    expect(peak).toBe(1);
    expect(await repo.get(site.urlFor('/tres.xml'))).toMatchObject({ section: 'Mundo', interval_s: 120, managed: 1 });

    const { opml: out } = await counted.exportOpml();
    expect(readOpml(out).map((f) => [f.url.replace(site.origin, ''), f.section, f.interval])).toEqual([
      ['/conf.xml', null, null],
      ['/um.xml', 'Brasil', null],
      ['/tres.xml', 'Mundo', '2m'],
    ]);
  });
});
