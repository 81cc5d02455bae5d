import type { Article } from '../articles/article.js';
import { enrichThin } from '../articles/enrich.js';
import { fetchFeed } from '../sources/fetch.js';
import { articlesFromFeed, failureWaitMs, floorSeconds, nextPollAt } from '../sources/poller.js';
import { SourceError } from '../sources/types.js';
import type { DestinationRegistry, DestinationRecord } from './destinations.js';
import type { Outbox } from './outbox.js';
import { PRIORITY } from './outbox.js';
import type { RouteFeed } from './routes-file.js';
import { Routing, type RouteOptions, type RouteTarget, type TopicSubscriber } from './routing.js';
import type { Renderer } from '../render/renderer.js';
import type { Platform } from '../render/types.js';
import type { ArticleRepo } from '../store/articles.js';
import type { FeedRepo, FeedRow } from '../store/feeds.js';
import type { Logger } from '../log.js';
import { formatDuration } from '../lib/duration.js';
import { storeErrorCode, storeErrorMeaning } from './policy.js';

/**
 * The ingest pipeline: poll a feed → parse → normalise → record (dedup, updates) → route → render →
 * outbox. One call per feed per tick; a failing feed backs off on its own and never stops the others.
 * Which destinations an article goes to, and its deliveries, are delivery/routing.ts's.
 */

export interface PipelineOptions {
  feeds: FeedRepo;
  /**
   * Several instances on one database: claims each due feed for one of them (store/claims.ts FeedClaims);
   * `claim` returns the feeds this instance should poll, `release` frees one after its poll. Absent: all.
   */
  feedClaims?: { claim(urls: string[]): Promise<string[]>; release(url: string): Promise<void> };
  articles: ArticleRepo;
  outbox: Outbox;
  destinations: DestinationRegistry;
  renderer: Renderer;
  logger: Logger;
  /** Configured destinations (TELEGRAM_CHATS, WHATSAPP_CHATS, the routes file). */
  targets: RouteTarget[];
  /** Active private subscribers' chat ids for any of these folded topics, per platform enabled for private pushes. */
  subscribers?: (platform: Platform, topics: string[]) => Promise<TopicSubscriber[]>;
  /** Platforms that may receive private pushes (Telegram; WhatsApp only with WHATSAPP_PRIVATE_PUSH). */
  privatePlatforms?: Platform[];
  feedSettings: Map<string, RouteFeed>;
  pollIntervalMs: number;
  backfill: number;
  /** New items one poll posts at most (MAX_NEW_PER_POLL); the rest are recorded as backlog. Unlimited when absent. */
  maxNewPerPoll?: number;
  /** New items published longer ago than this are recorded without posting (MAX_ARTICLE_AGE). No limit when absent. */
  maxArticleAgeMs?: number;
  summaryMaxChars: number;
  /** ITEM_HTML_MAX_BYTES: each item's HTML is cut to this before its text is read. */
  itemHtmlMaxBytes?: number;
  editWindowMs: number;
  timeZone: string;
  /** `allowPrivate`: FETCH_ALLOW_PRIVATE (what thin items' pages and redirects may reach). */
  fetch: { timeoutMs: number; maxBytes: number; pageMaxBytes: number; userAgent: string; fetchPages: boolean; allowPrivate?: readonly string[]; fetch?: typeof fetch };
  /** New work is in the outbox (the dispatcher's wake). */
  onQueued?: () => void;
  /** Every fresh article after recording (the console preview prints them). */
  onFresh?: (article: Article) => void;
  clock?: () => Date;
  /** The jitter source of the failure backoff (tests pin it). */
  random?: () => number;
}

export interface PollReport {
  feed: string;
  status: 'ok' | 'not-modified' | 'failed' | 'skipped';
  fresh: number;
  updated: number;
  backlog: number;
  queued: number;
  error?: string;
  nextPollAt?: Date;
}

/** The store refused what a poll had to record: the poll changed nothing, and /health says so until one succeeds. */
export interface PollStoreFault {
  code: string;
  meaning: string;
  message: string;
  feed: string;
  since: number;
}

export class Pipeline {
  private readonly clock: () => Date;
  private readonly polling = new Set<string>();
  private storeFault_: PollStoreFault | null = null;
  /** When a feed whose failure could not be written may be polled again (its row still says "due"). */
  private readonly retryAt = new Map<string, number>();

  /** The last poll's store error, until a poll records again (null when polling records fine). */
  get storeFault(): PollStoreFault | null {
    return this.storeFault_;
  }
  /** Where articles go and the deliveries that take them there; push and the `/push` preview use the same one. */
  readonly routing: Routing;

  constructor(private readonly o: PipelineOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.routing = new Routing({
      destinations: o.destinations,
      outbox: o.outbox,
      renderer: o.renderer,
      logger: o.logger,
      targets: o.targets,
      ...(o.subscribers ? { subscribers: o.subscribers } : {}),
      ...(o.privatePlatforms ? { privatePlatforms: o.privatePlatforms } : {}),
      timeZone: o.timeZone,
      editWindowMs: o.editWindowMs,
      ...(o.onQueued ? { onQueued: o.onQueued } : {}),
      clock: this.clock,
    });
  }

  /** Polls every feed in `urls` whose next poll is due; feeds run in parallel (bounded), failures stay per feed. */
  async pollDue(urls: string[], parallel = 4): Promise<PollReport[]> {
    const due: string[] = [];
    for (const url of urls) {
      const row = await this.o.feeds.ensure(url);
      const now = this.clock().getTime();
      if ((this.retryAt.get(url) ?? 0) > now) continue;
      if (!row.next_poll_at || Date.parse(row.next_poll_at) <= now) due.push(url);
    }
    // With several instances, each due feed goes to exactly one of them (store/claims.ts).
    const claims = this.o.feedClaims;
    const mine = claims ? await claims.claim(due) : due;
    const reports: PollReport[] = [];
    let i = 0;
    const worker = async () => {
      while (i < mine.length) {
        const url = mine[i++]!;
        try {
          reports.push(await this.pollFeed(url));
        } finally {
          await claims?.release(url).catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, mine.length) }, worker));
    return reports;
  }

  /** Polls one feed now, whatever its schedule. */
  async pollFeed(url: string): Promise<PollReport> {
    if (this.polling.has(url)) return { feed: url, status: 'skipped', fresh: 0, updated: 0, backlog: 0, queued: 0 };
    this.polling.add(url);
    try {
      return await this.poll(url);
    } finally {
      this.polling.delete(url);
    }
  }

  private intervalFor(url: string): number {
    return this.o.feedSettings.get(url)?.intervalMs ?? this.o.pollIntervalMs;
  }

  private async poll(url: string): Promise<PollReport> {
    const { feeds, articles, logger } = this.o;
    const row = await feeds.ensure(url);
    const started = this.clock();
    const settings = this.o.feedSettings.get(url);
    try {
      // The configured URL is the operator's (trusted: it may be a file or a private address); a
      // remembered permanent move came from a redirect, so it is polled as hostile input.
      const pollUrl = row.final_url ?? url;
      const outcome = await fetchFeed(
        { url: pollUrl, etag: row.etag, lastModified: row.last_modified },
        { ...this.o.fetch, maxBytes: this.o.fetch.maxBytes, trusted: pollUrl === url },
      );
      if (outcome.status === 'not-modified') {
        const next = this.nextPoll(url, started, outcome.maxAgeS, null);
        await feeds.update(url, { last_polled_at: started.toISOString(), last_ok_at: started.toISOString(), next_poll_at: next.toISOString(), failures: 0, last_error: null });
        logger.debug({ event: 'feed.not_modified', feed: url }, `feed ${url}: not modified`);
        await this.recordedAgain(url);
        return { feed: url, status: 'not-modified', fresh: 0, updated: 0, backlog: 0, queued: 0, nextPollAt: next };
      }
      const parsed = articlesFromFeed(outcome.text, outcome.finalUrl, url, {
        summaryMaxChars: this.o.summaryMaxChars,
        boilerplate: settings?.boilerplate ?? [],
        section: settings?.section ?? null,
        ...(this.o.itemHtmlMaxBytes ? { itemHtmlMaxBytes: this.o.itemHtmlMaxBytes } : {}),
      });
      for (const reason of parsed.skipped) logger.warn({ event: 'feed.item_skipped', feed: url, reason }, `feed ${url}: ${reason}`);
      const list = parsed.articles;
      const firstPoll = row.primed_at === null;
      const rec = await articles.record(list, {
        firstPoll,
        backfill: settings?.backfill ?? this.o.backfill,
        maxNew: this.o.maxNewPerPoll,
        maxAgeMs: this.o.maxArticleAgeMs,
      });
      const fresh = await enrichThin(rec.fresh, { fetch: this.o.fetch, summaryMaxChars: this.o.summaryMaxChars, boilerplate: settings?.boilerplate ?? [], logger });
      // What the page added is stored before routing, so a restart and later edits render the same message.
      for (let i = 0; i < fresh.length; i++) if (fresh[i] !== rec.fresh[i]) await articles.saveEnriched(fresh[i]!);
      let queued = 0;
      for (const a of fresh) {
        this.o.onFresh?.(a);
        queued += (await this.route(a, { priority: PRIORITY.article })).length;
      }
      await articles.setState(fresh.map((a) => a.id), 'routed');
      for (const u of rec.updated) queued += await this.queueEdits(u.article, u.version);
      const next = this.nextPoll(url, started, outcome.maxAgeS, parsed.ttlMinutes);
      await feeds.update(url, {
        final_url: outcome.permanentUrl ?? row.final_url,
        title: parsed.title ?? row.title,
        etag: outcome.etag,
        last_modified: outcome.lastModified,
        min_interval_s: floorSeconds(outcome.maxAgeS, parsed.ttlMinutes),
        last_polled_at: started.toISOString(),
        last_ok_at: started.toISOString(),
        next_poll_at: next.toISOString(),
        failures: 0,
        last_error: null,
        primed_at: row.primed_at ?? started.toISOString(),
        // The last poll that held items back stays on the row, so /status can show it for a day.
        ...(rec.heldBack ? { held_back: rec.heldBack, held_back_at: started.toISOString() } : {}),
      });
      if (rec.heldBack)
        logger.warn(
          { event: 'feed.held_back', feed: url, heldBack: rec.heldBack, posted: fresh.length },
          `feed ${url} had ${fresh.length + rec.heldBack} new items in one poll; posted the newest ${fresh.length} and recorded ${rec.heldBack} without posting (MAX_NEW_PER_POLL). If the site republished its archive, nothing is lost; otherwise push the ones that matter with /push`,
        );
      if (rec.stale)
        logger.info(
          { event: 'feed.stale_items', feed: url, stale: rec.stale },
          `feed ${url}: ${rec.stale} new items published before MAX_ARTICLE_AGE recorded without posting`,
        );
      if (outcome.permanentUrl && outcome.permanentUrl !== row.final_url)
        logger.warn({ event: 'feed.moved', feed: url, to: outcome.permanentUrl }, `feed ${url} moved permanently to ${outcome.permanentUrl}; polling that from now on (update FEED_URLS)`);
      if (row.failures > 0) logger.info({ event: 'feed.recovered', feed: url, failures: row.failures }, `feed ${url} answers again after ${row.failures} failures`);
      await this.recordedAgain(url);
      if (queued) this.o.onQueued?.();
      const report: PollReport = { feed: url, status: 'ok', fresh: fresh.length, updated: rec.updated.length, backlog: rec.backlog, queued, nextPollAt: next };
      logger.info({ event: 'feed.polled', ...report }, `feed ${url}: ${fresh.length} new, ${rec.updated.length} updated${rec.backlog ? `, ${rec.backlog} older recorded without posting` : ''}`);
      return report;
    } catch (err) {
      const failures = row.failures + 1;
      const wait = failureWaitMs(failures, this.intervalFor(url), this.o.random);
      const next = new Date(started.getTime() + wait);
      const reason = err instanceof Error ? err.message : String(err);
      if (err instanceof SourceError && err.details.kind === 'blocked')
        logger.warn({ event: 'fetch.blocked', url: err.url, feed: url, reason }, reason);
      // A store error (disk full, read-only, the server gone) means this poll recorded nothing: the
      // feed's validators were not advanced either (they are written last), so the next poll that
      // can write sees the same items again. Its failure may not be writable: it is kept here instead.
      const code = err instanceof SourceError ? null : storeErrorCode(err);
      const store = code !== null && code !== 'unknown' ? code : null;
      if (store) this.storeFault_ = { code: store, meaning: storeErrorMeaning(store), message: reason, feed: url, since: this.storeFault_?.since ?? started.getTime() };
      try {
        await feeds.update(url, { last_polled_at: started.toISOString(), next_poll_at: next.toISOString(), failures, last_error: reason });
        this.retryAt.delete(url);
      } catch {
        this.retryAt.set(url, next.getTime());
      }
      logger.warn(
        { event: 'feed.failed', feed: url, failures, retryInMs: wait, reason, kind: err instanceof SourceError ? err.details.kind : store ? 'store' : 'internal', ...(store ? { code: store } : {}) },
        store
          ? `feed ${url}: polled, but nothing could be recorded (${store}: ${storeErrorMeaning(store)}); the next poll reads the same items again in ${formatDuration(wait)}`
          : `${reason}; retrying in ${formatDuration(wait)} (failure ${failures})`,
      );
      return { feed: url, status: 'failed', fresh: 0, updated: 0, backlog: 0, queued: 0, error: reason, nextPollAt: next };
    }
  }

  /** A poll recorded what it read: a store fault this pipeline remembered is over. */
  private async recordedAgain(url: string): Promise<void> {
    this.retryAt.delete(url);
    if (!this.storeFault_) return;
    const fault = this.storeFault_;
    this.storeFault_ = null;
    // A failed poll may have recorded its items and then failed to queue them (or their edits): the
    // feed no longer calls them new, so they are routed here, as a restart would.
    const routed = await this.resumeUnrouted();
    const edits = await this.resumeEdits();
    this.o.logger.info(
      { event: 'feed.store_recovered', feed: url, code: fault.code, downMs: this.clock().getTime() - fault.since, routed, edits: edits.edits },
      `polling records again (after ${fault.code}: ${fault.meaning})${routed ? `; routed ${routed} articles recorded but not queued` : ''}`,
    );
  }

  private nextPoll(url: string, from: Date, maxAgeS: number | null, ttlMinutes: number | null): Date {
    return nextPollAt(from, this.intervalFor(url), maxAgeS, ttlMinutes);
  }

  /** Which destinations get an article (delivery/routing.ts). */
  destinationsFor(article: Article, only?: readonly string[]): Promise<DestinationRecord[]> {
    return this.routing.destinationsFor(article, only);
  }

  /** Renders an article for each of its destinations and queues the deliveries (delivery/routing.ts). Returns their ids. */
  route(article: Article, opts: RouteOptions): Promise<number[]> {
    return this.routing.route(article, opts);
  }

  /** An article changed its title or lead: edit what was sent within the edit window, and record that the edits are queued. */
  private async queueEdits(article: Article, version: number): Promise<number> {
    const edits = await this.routing.queueEdits(article, version);
    await this.o.articles.editsQueued(article.id, version);
    return edits;
  }

  /** Articles recorded as new but never routed (the process stopped in between): route them now. */
  async resumeUnrouted(): Promise<number> {
    const list = await this.o.articles.unrouted();
    for (const a of list) await this.route(a, { priority: PRIORITY.article });
    await this.o.articles.setState(list.map((a) => a.id), 'routed');
    return list.length;
  }

  /**
   * Versions recorded but whose edits were never queued (the process stopped between the two): queue
   * them now, rendered from the stored article (with its page lead, if it had one). Returns the edits queued.
   */
  async resumeEdits(): Promise<{ articles: number; edits: number }> {
    const list = await this.o.articles.editsUnqueued();
    let edits = 0;
    for (const { article, version } of list) edits += await this.queueEdits(article, version);
    if (edits) this.o.onQueued?.();
    return { articles: list.length, edits };
  }
}



export type { FeedRow, RouteTarget };
