import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ArticleRepo } from '../../src/store/articles.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { OVERDUE_GRACE_MS, Pipeline } from '../../src/delivery/ingest.js';
import { slotAfter } from '../../src/sources/poller.js';
import { rendererFor } from '../../src/render/renderer.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { tempDir } from '../e2e/helpers.js';

/**
 * Polling many feeds through the real pipeline, a real SQLite file and news sites on several loopback
 * addresses (127.0.0.2…): the schedule (spread, stable across restarts, overdue feeds after a long stop),
 * the concurrency limits overall and per host, and what a 304 costs.
 */

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const INTERVAL = 10 * 60_000;

interface Site {
  urls: string[];
  /** Requests per feed index. */
  hits: number[];
  /** Headers of every request, in order. */
  requests: { feed: number; host: string; ifNoneMatch?: string; ifModifiedSince?: string }[];
  /** Highest number of requests answered at once, overall and per Host header. */
  peak: { overall: number; perHost: Map<string, number> };
  /** The feed's content version: a change adds an item and changes the validators. */
  version: number[];
}

/** `feeds` RSS feeds spread over `hosts` loopback addresses, conditional GET by ETag and Last-Modified, each answer delayed by `delayMs`. */
async function sites(feeds: number, hosts: number, delayMs = 0): Promise<Site> {
  const site: Site = { urls: [], hits: Array(feeds).fill(0), requests: [], peak: { overall: 0, perHost: new Map() }, version: Array(feeds).fill(1) };
  let active = 0;
  const perHost = new Map<string, number>();
  const servers: Server[] = [];
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const i = Number(/\/f\/(\d+)\.xml$/.exec(req.url ?? '')?.[1]);
    const host = (req.headers.host ?? '').split(':')[0]!;
    site.hits[i]!++;
    site.requests.push({ feed: i, host, ifNoneMatch: req.headers['if-none-match'], ifModifiedSince: req.headers['if-modified-since'] });
    active++;
    perHost.set(host, (perHost.get(host) ?? 0) + 1);
    site.peak.overall = Math.max(site.peak.overall, active);
    site.peak.perHost.set(host, Math.max(site.peak.perHost.get(host) ?? 0, perHost.get(host)!));
    setTimeout(() => {
      active--;
      perHost.set(host, perHost.get(host)! - 1);
      const v = site.version[i]!;
      const etag = `"${i}-${v}"`;
      const lastModified = new Date(Date.UTC(2026, 0, 1, 0, v)).toUTCString();
      if (req.headers['if-none-match'] === etag || req.headers['if-modified-since'] === lastModified) {
        res.writeHead(304, { etag, 'last-modified': lastModified }).end();
        return;
      }
      const items = Array.from({ length: v + 1 }, (_, k) => `<item><title>Notícia ${k} do site ${i}</title><link>https://site${i}.example/n/${k}</link><guid>s${i}-n${k}</guid><description>Resumo da notícia ${k} com palavras suficientes para um lead.</description></item>`);
      res.writeHead(200, { 'content-type': 'application/rss+xml', etag, 'last-modified': lastModified }).end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Site ${i}</title><link>https://site${i}.example/</link>${items.join('')}</channel></rss>`);
    }, delayMs);
  };
  for (let h = 0; h < hosts; h++) {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, `127.0.0.${h + 2}`, r));
    servers.push(server);
  }
  for (let i = 0; i < feeds; i++) {
    const h = i % hosts;
    site.urls.push(`http://127.0.0.${h + 2}:${(servers[h]!.address() as AddressInfo).port}/f/${i}.xml`);
  }
  cleanup.push(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  return site;
}

/** Counts the statements a store runs, by kind (SelectQueryNode, UpdateQueryNode…). */
class StatementCounter implements KyselyPlugin {
  readonly counts = new Map<string, number>();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.counts.set(args.node.kind, (this.counts.get(args.node.kind) ?? 0) + 1);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
  reset(): void {
    this.counts.clear();
  }
}

async function openDb(dir: string): Promise<Store> {
  return openStore(`sqlite:${join(dir, 'db.sqlite')}`);
}

function pipelineOn(store: Store, clock: () => Date, over: { concurrency?: { overall: number; perHost: number }; retentionMs?: number; counter?: StatementCounter; random?: () => number } = {}) {
  const config = loadConfig({});
  const db = over.counter ? store.db.withPlugin(over.counter) : store.db;
  const feeds = new FeedRepo(db, clock, over.random);
  let syncs = 0;
  const sync = feeds.sync.bind(feeds);
  feeds.sync = (urls) => {
    syncs++;
    return sync(urls);
  };
  const pipeline = new Pipeline({
    feeds,
    articles: new ArticleRepo(db, clock),
    outbox: new Outbox(db),
    destinations: new DestinationRegistry(db),
    renderer: rendererFor(config),
    logger: memoryLogger().logger,
    targets: [],
    feedSettings: new Map(),
    pollIntervalMs: INTERVAL,
    backfill: 0,
    summaryMaxChars: 300,
    editWindowMs: config.editWindowMs,
    timeZone: 'UTC',
    fetch: { ...config.fetch, fetchPages: false },
    clock,
    ...(over.concurrency ? { concurrency: over.concurrency } : {}),
    ...(over.retentionMs ? { retentionMs: over.retentionMs } : {}),
  });
  return { pipeline, feeds, syncs: () => syncs };
}

describe('the poll schedule', () => {
  it('new feeds are polled at once, then each at its own slot: spread over the interval, once per interval, and the same after a restart', async () => {
    const dir = tempDir('manchete-spread-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const site = await sites(300, 3);
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const clock = () => new Date(now);
    let store = await openDb(dir);
    let p = pipelineOn(store, clock);
    const first = await p.pipeline.pollDue(site.urls);
    expect(first).toHaveLength(300);
    expect(first.every((r) => r.status === 'ok')).toBe(true);
    // The same list again (another array): written to the table once, and nothing is due.
    expect(await p.pipeline.pollDue([...site.urls])).toEqual([]);
    expect(p.syncs()).toBe(1);
    const rows = await p.feeds.list();
    const phases = new Map(rows.map((r) => [r.url, r.poll_phase]));
    // Each feed's next poll is its slot: phase × interval past a multiple of the interval, 0.5–1.5 intervals away.
    for (const r of rows) {
      const next = Date.parse(r.next_poll_at!);
      expect(next).toBe(slotAfter(now + INTERVAL / 2, INTERVAL, r.poll_phase));
      expect(next - now).toBeGreaterThanOrEqual(INTERVAL / 2);
      expect(next - now).toBeLessThan(1.5 * INTERVAL);
    }
    await store.close();

    // A restart: the schedule is in the table. Nothing is due at once; every feed comes due at its slot.
    store = await openDb(dir);
    p = pipelineOn(store, clock);
    expect(await p.pipeline.pollDue(site.urls)).toEqual([]);
    expect(new Map((await p.feeds.list()).map((r) => [r.url, r.poll_phase]))).toEqual(phases);
    site.hits.fill(0);
    const perMinute = new Map<number, number>();
    // First polls put each feed 0.5 to 1.5 intervals ahead: in the next 2.5 intervals, each is due twice.
    const end = now + 2.5 * INTERVAL;
    while (now < end) {
      now += 5_000;
      const reports = await p.pipeline.pollDue(site.urls);
      for (const r of reports) {
        expect(r.status).toBe('not-modified');
        const minute = Math.floor((now % INTERVAL) / 60_000);
        perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      }
    }
    // Every feed polled twice (once per interval), never more.
    expect(site.hits.filter((h) => h !== 2)).toEqual([]);
    // Spread: 600 polls over the 10 minutes of the interval, no minute with more than twice its share.
    expect([...perMinute.keys()].length).toBe(10);
    for (const n of perMinute.values()) expect(n).toBeLessThanOrEqual(2 * 60);
    await store.close();
  });

  it('after a long stop, overdue feeds are not polled at once: each waits for its own slot, so catching up takes one interval', async () => {
    const dir = tempDir('manchete-overdue-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const site = await sites(200, 2);
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const clock = () => new Date(now);
    let store = await openDb(dir);
    await pipelineOn(store, clock).pipeline.pollDue(site.urls);
    await store.close();
    // Down for three intervals.
    now += 3 * INTERVAL;
    store = await openDb(dir);
    const p = pipelineOn(store, clock);
    site.hits.fill(0);
    const atOnce = await p.pipeline.pollDue(site.urls);
    expect(atOnce).toEqual([]);
    const rows = await p.feeds.list();
    for (const r of rows) expect(Date.parse(r.next_poll_at!)).toBe(slotAfter(now, INTERVAL, r.poll_phase));
    const start = now;
    let maxPerTick = 0;
    while (now < start + INTERVAL) {
      now += 5_000;
      maxPerTick = Math.max(maxPerTick, (await p.pipeline.pollDue(site.urls)).length);
    }
    expect(site.hits.every((h) => h === 1)).toBe(true);
    // 200 feeds over 120 ticks: a handful per tick, never the herd.
    expect(maxPerTick).toBeLessThanOrEqual(12);
    await store.close();
  });

  it('a quick restart (less than a minute overdue) polls what is due at once', async () => {
    const dir = tempDir('manchete-quick-restart-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const site = await sites(50, 1);
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const clock = () => new Date(now);
    let store = await openDb(dir);
    await pipelineOn(store, clock).pipeline.pollDue(site.urls);
    const soonest = Math.min(...(await new FeedRepo(store.db).list()).map((r) => Date.parse(r.next_poll_at!)));
    await store.close();
    now = soonest + OVERDUE_GRACE_MS / 2;
    store = await openDb(dir);
    const reports = await pipelineOn(store, clock).pipeline.pollDue(site.urls);
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.every((r) => r.status === 'not-modified')).toBe(true);
    await store.close();
  });

  it('a feed that leaves the list is no longer polled; one that joins is polled at once', async () => {
    const dir = tempDir('manchete-list-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const site = await sites(3, 1);
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const clock = () => new Date(now);
    const store = await openDb(dir);
    cleanup.push(() => store.close());
    const p = pipelineOn(store, clock);
    await p.pipeline.pollDue(site.urls.slice(0, 2));
    now += 2 * INTERVAL;
    const reports = await p.pipeline.pollDue([site.urls[1]!, site.urls[2]!]);
    expect(reports.map((r) => r.feed).sort()).toEqual([site.urls[1], site.urls[2]].sort());
    expect(site.hits).toEqual([1, 2, 1]);
    expect((await p.feeds.get(site.urls[0]!))?.watched).toBe(0);
  });
});

describe('poll concurrency', () => {
  it('never more than POLL_CONCURRENCY polls at once, nor POLL_CONCURRENCY_PER_HOST against one host, and both limits are reached', async () => {
    const dir = tempDir('manchete-limits-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    // 4 hosts, 12 feeds each, every answer takes 60 ms.
    const site = await sites(48, 4, 60);
    const store = await openDb(dir);
    cleanup.push(() => store.close());
    const p = pipelineOn(store, () => new Date(), { concurrency: { overall: 6, perHost: 2 } });
    const reports = await p.pipeline.pollDue(site.urls);
    expect(reports).toHaveLength(48);
    expect(site.peak.overall).toBe(6);
    expect([...site.peak.perHost.values()]).toEqual([2, 2, 2, 2]);
    expect(p.pipeline.pollStats).toEqual({ inFlight: 0, active: 0, waiting: 0 });
  });
});

describe('the 304 path', () => {
  it('sends If-None-Match and If-Modified-Since, and a 304 costs one small UPDATE: no parse, no article query', async () => {
    const dir = tempDir('manchete-304-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const site = await sites(1, 1);
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const counter = new StatementCounter();
    const store = await openDb(dir);
    cleanup.push(() => store.close());
    const p = pipelineOn(store, () => new Date(now), { counter });
    expect((await p.pipeline.pollDue(site.urls))[0]?.status).toBe('ok');
    const row = (await p.feeds.get(site.urls[0]!))!;
    expect(row.etag).toBe('"0-1"');
    expect(row.last_modified).toBe(new Date(Date.UTC(2026, 0, 1, 0, 1)).toUTCString());
    now = Date.parse(row.next_poll_at!);
    counter.reset();
    const [report] = await p.pipeline.pollDue(site.urls);
    expect(report?.status).toBe('not-modified');
    expect(site.requests.at(-1)).toMatchObject({ ifNoneMatch: '"0-1"', ifModifiedSince: row.last_modified });
    // The tick's due query, then the poll's one UPDATE of the feed row; nothing touches the articles.
    expect(Object.fromEntries(counter.counts)).toEqual({ SelectQueryNode: 1, UpdateQueryNode: 1 });
    const after = (await p.feeds.get(site.urls[0]!))!;
    expect(after.last_body_at).toBe(row.last_body_at);
    expect(Date.parse(after.next_poll_at!)).toBe(Date.parse(row.next_poll_at!) + INTERVAL);
  });

  it('a feed that has answered 304 for half of RETENTION is asked once without validators, and its items are seen again', async () => {
    const dir = tempDir('manchete-refresh-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const site = await sites(1, 1);
    const day = 86_400_000;
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const store = await openDb(dir);
    cleanup.push(() => store.close());
    const p = pipelineOn(store, () => new Date(now), { retentionMs: 90 * day });
    await p.pipeline.pollDue(site.urls);
    now += 40 * day;
    expect((await p.pipeline.pollFeed(site.urls[0]!)).status).toBe('not-modified');
    expect(site.requests.at(-1)?.ifNoneMatch).toBe('"0-1"');
    now += 6 * day;
    const report = await p.pipeline.pollFeed(site.urls[0]!);
    expect(report).toMatchObject({ status: 'ok', fresh: 0 });
    expect(site.requests.at(-1)?.ifNoneMatch).toBeUndefined();
    const seen = await store.db.selectFrom('articles').select('last_seen_at').execute();
    expect(seen.map((r) => r.last_seen_at)).toEqual(seen.map(() => new Date(now).toISOString()));
    expect((await p.feeds.get(site.urls[0]!))?.last_body_at).toBe(new Date(now).toISOString());
  });
});
