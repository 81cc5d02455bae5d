import type { ManagedFeed, FeedRepo, FeedRow } from '../store/feeds.js';
import { checkFeed, type FeedCheck, type FeedCheckOptions } from '../sources/check.js';
import { readOpml, writeOpml, type OpmlFeed } from '../sources/opml.js';
import { mapBounded } from '../lib/bounded.js';
import { parseDuration } from '../config.js';
import type { RouteFeed } from './routes-file.js';

/**
 * Feeds managed at run time (`manchete feeds add/remove/list/import/export`), beside the configured
 * ones. FEED_URLS and the routes file stay the operator's read-only list ("from configuration"); feeds
 * added at run time live in the feeds table (`managed = 1`) and a running `manchete start` polls the
 * union, read again at every tick (`feedPlan`), so an added feed is polled and a removed one is not
 * without a restart.
 */

/** A feed as `feeds list` and `feeds export` show it. */
export interface FeedEntry {
  url: string;
  origin: 'configuration' | 'managed';
  title: string | null;
  section: string | null;
  /** The feed's own interval, or null for POLL_INTERVAL. */
  intervalMs: number | null;
  addedBy: string | null;
  addedAt: string | null;
  /** The polling state; null when the feed was never polled (no row yet). */
  state: Pick<FeedRow, 'last_polled_at' | 'last_ok_at' | 'next_poll_at' | 'failures' | 'last_error' | 'final_url'> | null;
}

/** The configured feeds: FEED_URLS, then the routes file's, without repeats. */
export function configuredFeeds(feedUrls: readonly string[], routeFeeds: readonly RouteFeed[]): string[] {
  return [...new Set([...feedUrls, ...routeFeeds.map((f) => f.url)])];
}

/** The settings a managed feed polls with, in the routes file's shape (what the pipeline reads). */
export function managedSettings(m: ManagedFeed): RouteFeed {
  return { url: m.url, intervalMs: m.intervalS !== null ? m.intervalS * 1000 : null, boilerplate: [], backfill: null, section: m.section, trusted: false };
}

/**
 * What one poll tick polls: the configured feeds, then the managed ones (a URL in both is the
 * configuration's, with its settings), and the per-feed settings of both.
 */
export function feedPlan(configured: readonly string[], routeFeeds: readonly RouteFeed[], managed: readonly ManagedFeed[]): { urls: string[]; settings: Map<string, RouteFeed> } {
  const settings = new Map<string, RouteFeed>(routeFeeds.map((f) => [f.url, f]));
  const urls = [...configured];
  const seen = new Set(configured);
  for (const m of managed) {
    if (seen.has(m.url)) continue;
    seen.add(m.url);
    urls.push(m.url);
    settings.set(m.url, managedSettings(m));
  }
  return { urls, settings };
}

/** `5m` for 300 000 ms: the shortest way parseDuration reads back. */
export function compactDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The shortest interval a managed feed may ask for: polling a site faster than this is rude. */
export const MIN_INTERVAL_MS = 30_000;

/** `--interval` / an OPML `interval`: a duration of at least 30 s, or an error message. */
export function parseInterval(text: string): number | string {
  const ms = parseDuration(text);
  if (ms === null) return `interval "${text}" is not a duration; use 5m or 300s`;
  if (ms < MIN_INTERVAL_MS) return `interval "${text}" is shorter than 30s; a site should not be polled that often`;
  return ms;
}

export interface FeedAdminOptions {
  repo: FeedRepo;
  /** FEED_URLS. */
  feedUrls: readonly string[];
  routeFeeds: readonly RouteFeed[];
  check: Omit<FeedCheckOptions, 'section'>;
  /** Who is acting, for `added_by`: `cli (ana)`. */
  actor: string;
  /** The checker (tests may count calls); `checkFeed` by default. */
  checkFeed?: typeof checkFeed;
}

export type AddResult =
  | { status: 'added' | 'updated'; check: Extract<FeedCheck, { ok: true }> }
  | { status: 'configured' }
  | { status: 'failed'; check: Extract<FeedCheck, { ok: false }> };

export interface ImportProgress {
  done: number;
  total: number;
  url: string;
  ok: boolean;
}

export interface ImportSummary {
  total: number;
  added: string[];
  /** Already polled (configured, or managed before): not checked again. */
  already: string[];
  failed: { url: string; reason: string }[];
}

export class FeedAdmin {
  private readonly configured: Set<string>;
  private readonly check: typeof checkFeed;

  constructor(private readonly o: FeedAdminOptions) {
    this.configured = new Set(configuredFeeds(o.feedUrls, o.routeFeeds));
    this.check = o.checkFeed ?? checkFeed;
  }

  isConfigured(url: string): boolean {
    return this.configured.has(url);
  }

  /** Checks the feed, then adds it (or updates its section and interval); nothing is written when the check fails. */
  async add(url: string, opts: { section?: string | null; intervalMs?: number | null; actor?: string } = {}): Promise<AddResult> {
    if (this.isConfigured(url)) return { status: 'configured' };
    const check = await this.check(url, { ...this.o.check, section: opts.section ?? null });
    if (!check.ok) return { status: 'failed', check };
    const fresh = await this.o.repo.addManaged({
      url,
      title: check.title,
      section: opts.section ?? null,
      intervalS: opts.intervalMs != null ? Math.round(opts.intervalMs / 1000) : null,
      addedBy: opts.actor ?? this.o.actor,
    });
    return { status: fresh ? 'added' : 'updated', check };
  }

  /** Removes a managed feed. A configured one cannot be: the answer says where it is configured. */
  async remove(url: string): Promise<'removed' | 'configured' | 'unknown'> {
    if (this.isConfigured(url)) return 'configured';
    return (await this.o.repo.removeManaged(url)) ? 'removed' : 'unknown';
  }

  /** Every feed polled: the configured ones first, then the managed ones, with their polling state. */
  async list(): Promise<FeedEntry[]> {
    const rows = new Map((await this.o.repo.list()).map((r) => [r.url, r]));
    const routeFeed = new Map(this.o.routeFeeds.map((f) => [f.url, f]));
    const state = (r: FeedRow | undefined): FeedEntry['state'] =>
      r ? { last_polled_at: r.last_polled_at, last_ok_at: r.last_ok_at, next_poll_at: r.next_poll_at, failures: r.failures, last_error: r.last_error, final_url: r.final_url } : null;
    const out: FeedEntry[] = [...this.configured].map((url) => {
      const r = rows.get(url);
      const f = routeFeed.get(url);
      return { url, origin: 'configuration', title: r?.title ?? null, section: f?.section ?? null, intervalMs: f?.intervalMs ?? null, addedBy: null, addedAt: null, state: state(r) };
    });
    for (const m of await this.o.repo.managed()) {
      if (this.configured.has(m.url)) continue;
      const r = rows.get(m.url);
      out.push({
        url: m.url,
        origin: 'managed',
        title: r?.title ?? null,
        section: m.section,
        intervalMs: m.intervalS !== null ? m.intervalS * 1000 : null,
        addedBy: r?.added_by ?? null,
        addedAt: r?.added_at ?? null,
        state: state(r),
      });
    }
    return out;
  }

  /**
   * Adds every feed of an OPML document, each checked first, `concurrency` checks at a time overall and
   * `perHost` per host. Feeds already polled are not checked again. `onProgress` hears each feed as it
   * finishes. Throws OpmlError when the text is not OPML.
   */
  async importOpml(
    text: string,
    opts: { concurrency: number; perHost: number; actor?: string; onStart?: (total: number) => void | Promise<void>; onProgress?: (p: ImportProgress) => void },
  ): Promise<ImportSummary> {
    const feeds = readOpml(text);
    const managed = new Set((await this.o.repo.managed()).map((m) => m.url));
    const summary: ImportSummary = { total: feeds.length, added: [], already: [], failed: [] };
    const todo: { feed: OpmlFeed; intervalMs: number | null }[] = [];
    let done = 0;
    const report = (url: string, ok: boolean) => opts.onProgress?.({ done: ++done, total: feeds.length, url, ok });
    await opts.onStart?.(feeds.length);
    for (const feed of feeds) {
      if (this.configured.has(feed.url) || managed.has(feed.url)) {
        summary.already.push(feed.url);
        report(feed.url, true);
        continue;
      }
      const interval = feed.interval === null ? null : parseInterval(feed.interval);
      if (typeof interval === 'string') {
        summary.failed.push({ url: feed.url, reason: interval });
        report(feed.url, false);
        continue;
      }
      todo.push({ feed, intervalMs: interval });
    }
    await mapBounded(todo, { overall: opts.concurrency, perKey: opts.perHost, key: (t) => hostOf(t.feed.url) }, async ({ feed, intervalMs }) => {
      const r = await this.add(feed.url, { section: feed.section, intervalMs, ...(opts.actor ? { actor: opts.actor } : {}) });
      if (r.status === 'failed') summary.failed.push({ url: feed.url, reason: r.check.reason });
      else if (r.status === 'configured') summary.already.push(feed.url);
      else summary.added.push(feed.url);
      report(feed.url, r.status !== 'failed');
    });
    // In the file's order, whatever order the checks finished in.
    const order = new Map(feeds.map((f, i) => [f.url, i]));
    const byFile = (a: string, b: string) => order.get(a)! - order.get(b)!;
    summary.added.sort(byFile);
    summary.already.sort(byFile);
    summary.failed.sort((a, b) => byFile(a.url, b.url));
    return summary;
  }

  /** OPML 2.0 of every feed polled (configured and managed); local files in FEED_URLS are left out. */
  async exportOpml(now?: Date): Promise<{ opml: string; skipped: string[] }> {
    const all = await this.list();
    const web = all.filter((f) => /^https?:\/\//i.test(f.url));
    const opml = writeOpml(
      web.map((f) => ({ url: f.url, title: f.title, section: f.section, interval: f.intervalMs !== null ? compactDuration(f.intervalMs) : null })),
      { title: 'Manchete feeds', ...(now ? { now } : {}) },
    );
    return { opml, skipped: all.filter((f) => !web.includes(f)).map((f) => f.url) };
  }
}

/** The key the per-host limit counts by: the host name (not the port), lower case. */
export function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return url;
  }
}
