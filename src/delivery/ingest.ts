import type { Article } from '../articles/article.js';
import { enrichThin } from '../articles/enrich.js';
import { fetchFeed } from '../sources/fetch.js';
import { articlesFromFeed, failureWaitMs, floorSeconds, nextSlot, pollPeriodMs, slotAfter } from '../sources/poller.js';
import { HostLimiter, hostKey } from '../sources/limiter.js';
import { SourceError } from '../sources/types.js';
import type { DestinationRegistry, DestinationRecord } from './destinations.js';
import type { Outbox } from './outbox.js';
import { PRIORITY } from './outbox.js';
import type { RouteFeed } from './routes-file.js';
import { Routing, type RouteOptions, type RouteTarget, type RoutingOptions, type TopicSubscriber } from './routing.js';
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
  /** Keyword alerts of private subscribers, per platform (see RoutingOptions.alerts). */
  alerts?: RoutingOptions['alerts'];
  alertsVersion?: RoutingOptions['alertsVersion'];
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
  /** Digests and hourly caps, handed to routing (delivery/digests.ts, delivery/caps.ts). */
  digests?: RoutingOptions['digests'];
  caps?: RoutingOptions['caps'];
  /** Called when a poll finishes, with its report and how long it took (the poll-duration histogram). */
  onPolled?: (report: PollReport, seconds: number) => void;
  /** Every fresh article after recording (the console preview prints them). */
  onFresh?: (article: Article) => void;
  /** After every poll that got content: WebSub discovery reads the hub links from it (sources/websub.ts). */
  onFetched?: (feedUrl: string, got: { text: string; finalUrl: string; link: string | null }) => void;
  /** Feeds with a live WebSub subscription are polled at `pollIntervalMs` (WEBSUB_POLL_INTERVAL) at the most often. */
  websub?: { isLive(feedUrl: string): boolean; pollIntervalMs: number };
  clock?: () => Date;
  /** The jitter source of the failure backoff (tests pin it). */
  random?: () => number;
  /** Polls at once: `overall` (POLL_CONCURRENCY, default 64) and against one host (POLL_CONCURRENCY_PER_HOST, default 4). */
  concurrency?: { overall: number; perHost: number };
  /**
   * RETENTION: a feed that has answered only 304 for half of it is polled once without validators, so
   * the items it still lists are seen again and never pruned (store/retention.ts). None: never.
   */
  retentionMs?: number;
}

/** Due feeds one tick reads beyond those already in flight. */
const DUE_BATCH = 2000;
/** At start, a feed overdue by more than this (the process was stopped) waits for its own slot instead of polling at once. */
export const OVERDUE_GRACE_MS = 60_000;

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
  /** Feeds queued or polling now, by URL: never two polls of one feed at once. */
  private readonly inFlight = new Map<string, Promise<PollReport>>();
  private readonly limiter: HostLimiter;
  private storeFault_: PollStoreFault | null = null;
  /** When a feed whose failure could not be written may be polled again (its row still says "due"). */
  private readonly retryAt = new Map<string, number>();
  /** The last recording of each feed (see inLane). */
  private readonly lanes = new Map<string, Promise<unknown>>();
  /** The list last written to the feeds table (`FeedRepo.sync`), to write it again only when it changes. */
  private synced: { urls: readonly string[]; set: Set<string> } | null = null;
  private overdueSpread = false;
  /** Due-feed selections run one at a time (ticks may overlap while polls are in flight). */
  private selecting: Promise<unknown> = Promise.resolve();
  private selections = 0;
  /** The selection during which a feed's last poll finished: that selection's read of it may be stale. */
  private readonly finishedDuring = new Map<string, number>();

  /** The last poll's store error, until a poll records again (null when polling records fine). */
  get storeFault(): PollStoreFault | null {
    return this.storeFault_;
  }
  /** Where articles go and the deliveries that take them there; push and the `/push` preview use the same one. */
  readonly routing: Routing;

  constructor(private readonly o: PipelineOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.limiter = new HostLimiter(o.concurrency?.overall ?? 64, o.concurrency?.perHost ?? 4);
    this.routing = new Routing({
      destinations: o.destinations,
      outbox: o.outbox,
      renderer: o.renderer,
      logger: o.logger,
      targets: o.targets,
      ...(o.subscribers ? { subscribers: o.subscribers } : {}),
      ...(o.alerts ? { alerts: o.alerts } : {}),
      ...(o.alertsVersion ? { alertsVersion: o.alertsVersion } : {}),
      ...(o.privatePlatforms ? { privatePlatforms: o.privatePlatforms } : {}),
      timeZone: o.timeZone,
      editWindowMs: o.editWindowMs,
      ...(o.onQueued ? { onQueued: o.onQueued } : {}),
      ...(o.digests ? { digests: o.digests } : {}),
      ...(o.caps ? { caps: o.caps } : {}),
      clock: this.clock,
    });
  }

  /** Polls queued or running, and the limiter's view of them (for /status-like figures and tests). */
  get pollStats(): { inFlight: number; active: number; waiting: number } {
    const l = this.limiter.stats;
    return { inFlight: this.inFlight.size, active: l.active, waiting: l.waiting };
  }

  /**
   * Polls the feeds of `urls` that are due, within the concurrency limits, and resolves with their
   * reports once they are done. The list is written to the feeds table only when it changes; the due
   * feeds come from one indexed query (`FeedRepo.claimDue`). Calls may overlap: a feed already in flight
   * is left to the call that started it, so a slow host delays only its own feeds.
   */
  async pollDue(urls: readonly string[]): Promise<PollReport[]> {
    const started = this.selecting.then(() => this.selectDue(urls));
    this.selecting = started.catch(() => undefined);
    const reports = await Promise.all(await started);
    return reports.filter((r) => r.status !== 'skipped');
  }

  private async selectDue(urls: readonly string[]): Promise<Promise<PollReport>[]> {
    const { feeds } = this.o;
    if (!this.synced || (this.synced.urls !== urls && !sameList(this.synced.set, urls))) {
      await feeds.sync(urls);
      this.synced = { urls, set: new Set(urls) };
    }
    if (!this.overdueSpread) {
      await this.spreadOverdue();
      this.overdueSpread = true;
    }
    const now = this.clock();
    const seq = ++this.selections;
    const rows = (await feeds.claimDue(now, this.inFlight.size + DUE_BATCH)).filter(
      (row) => !this.inFlight.has(row.url) && this.finishedDuring.get(row.url) !== seq && (this.retryAt.get(row.url) ?? 0) <= now.getTime(),
    );
    // With several instances, each due feed goes to exactly one of them (store/claims.ts), released after its poll.
    const claims = this.o.feedClaims;
    const mine = claims && rows.length ? new Set(await claims.claim(rows.map((r) => r.url))) : null;
    const out: Promise<PollReport>[] = [];
    for (const row of rows) {
      if (mine && !mine.has(row.url)) continue;
      out.push(this.track(row.url, () => (claims ? this.limited(row).finally(() => claims.release(row.url).catch(() => undefined)) : this.limited(row))));
    }
    return out;
  }

  /**
   * After a stop longer than a minute, feeds whose slot passed meanwhile are not all polled at once: each
   * waits for its own next slot, so catching up takes one interval at the usual rate. Feeds overdue by
   * less (a quick restart) and feeds never polled are due at once.
   */
  private async spreadOverdue(): Promise<void> {
    const now = this.clock().getTime();
    const rows = await this.o.feeds.overdue(new Date(now - OVERDUE_GRACE_MS));
    if (!rows.length) return;
    await this.o.feeds.reschedule(rows.map((r) => ({ url: r.url, at: new Date(slotAfter(now, pollPeriodMs(this.intervalFor(r.url), r.min_interval_s), r.poll_phase)) })));
    this.o.logger.info({ event: 'feed.overdue_spread', feeds: rows.length }, `${rows.length} feeds were overdue after the stop; each is polled at its own slot within the next interval`);
  }

  /** Polls one feed now, whatever its schedule (within the concurrency limits). */
  pollFeed(url: string): Promise<PollReport> {
    return this.track(url, async () => this.limited(await this.o.feeds.ensure(url)));
  }

  private track(url: string, poll: () => Promise<PollReport>): Promise<PollReport> {
    if (this.inFlight.has(url)) return Promise.resolve({ feed: url, status: 'skipped', fresh: 0, updated: 0, backlog: 0, queued: 0 });
    const p = poll().finally(() => {
      this.inFlight.delete(url);
      this.finishedDuring.set(url, this.selections);
    });
    this.inFlight.set(url, p);
    return p;
  }

  private limited(row: FeedRow): Promise<PollReport> {
    return this.limiter.run(hostKey(row.final_url ?? row.url), async () => {
      const started = performance.now();
      const report = await this.poll(row);
      this.o.onPolled?.(report, (performance.now() - started) / 1000);
      return report;
    });
  }

  private intervalFor(url: string): number {
    const base = this.o.feedSettings.get(url)?.intervalMs ?? this.o.pollIntervalMs;
    // A live WebSub subscription tells us of new items at once: polling is only the safety net then.
    return this.o.websub?.isLive(url) ? Math.max(base, this.o.websub.pollIntervalMs) : base;
  }

  private async poll(row: FeedRow): Promise<PollReport> {
    const { feeds, logger } = this.o;
    const url = row.url;
    const started = this.clock();
    const settings = this.o.feedSettings.get(url);
    try {
      // The configured URL is the operator's (trusted: it may be a file or a private address); a
      // remembered permanent move came from a redirect, so it is polled as hostile input.
      const pollUrl = row.final_url ?? url;
      // Once every RETENTION / 2 without a body, ask without validators: the items the feed still lists
      // are seen again, so retention never prunes them (store/retention.ts).
      const refresh = this.o.retentionMs !== undefined && row.last_body_at !== null && started.getTime() - Date.parse(row.last_body_at) > this.o.retentionMs / 2;
      const outcome = await fetchFeed(
        { url: pollUrl, etag: refresh ? null : row.etag, lastModified: refresh ? null : row.last_modified },
        // A feed added at run time (`trusted: false` in its settings) is hostile on every hop.
        { ...this.o.fetch, maxBytes: this.o.fetch.maxBytes, trusted: pollUrl === url && settings?.trusted !== false },
      );
      if (outcome.status === 'not-modified') {
        // The cheap path: no body, no parse, one small UPDATE.
        // The ttl of the last body still holds.
        const next = this.nextPoll(url, row, started, Math.max(outcome.maxAgeS ?? 0, row.min_interval_s ?? 0) || null);
        await feeds.update(url, { last_polled_at: started.toISOString(), last_ok_at: started.toISOString(), next_poll_at: next.toISOString(), ...(row.failures ? { failures: 0, last_error: null } : {}) });
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
      const { rec, fresh, queued } = await this.inLane(url, () => this.recordAndRoute(url, parsed.articles, row.primed_at === null));
      this.o.onFetched?.(url, { text: outcome.text, finalUrl: outcome.finalUrl, link: outcome.link });
      const next = this.nextPoll(url, row, started, floorSeconds(outcome.maxAgeS, parsed.ttlMinutes));
      await feeds.update(url, {
        last_body_at: started.toISOString(),
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

  /**
   * The one recording path of everything that brings articles (a poll, a WebSub fat ping, the publish
   * hook): record (dedup, updates), enrich thin items from their pages, route and queue the fresh ones,
   * queue edits of the changed ones.
   */
  private async recordAndRoute(url: string, list: Article[], firstPoll: boolean) {
    const { articles, logger } = this.o;
    const settings = this.o.feedSettings.get(url);
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
    return { rec, fresh, queued };
  }

  /** Runs `fn` after the previous recording of the same feed finished: two sources of one feed never record at once. */
  private inLane<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.lanes.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.lanes.set(key, tail);
    void tail.then(() => {
      if (this.lanes.get(key) === tail) this.lanes.delete(key);
    });
    return run;
  }

  /**
   * A feed's content that arrived without a poll (a WebSub fat ping): parsed and recorded as that feed's
   * items, through the same path as a poll. The feed's validators are not touched (no HTTP exchange).
   */
  async ingestFeedText(url: string, text: string, baseUrl: string): Promise<{ fresh: number; updated: number; queued: number }> {
    const row = await this.o.feeds.ensure(url);
    const settings = this.o.feedSettings.get(url);
    const parsed = articlesFromFeed(text, baseUrl, url, {
      summaryMaxChars: this.o.summaryMaxChars,
      boilerplate: settings?.boilerplate ?? [],
      section: settings?.section ?? null,
      ...(this.o.itemHtmlMaxBytes ? { itemHtmlMaxBytes: this.o.itemHtmlMaxBytes } : {}),
    });
    for (const reason of parsed.skipped) this.o.logger.warn({ event: 'feed.item_skipped', feed: url, reason }, `feed ${url}: ${reason}`);
    const { rec, fresh, queued } = await this.inLane(url, () => this.recordAndRoute(url, parsed.articles, row.primed_at === null));
    if (row.primed_at === null) await this.o.feeds.update(url, { primed_at: this.clock().toISOString() });
    if (queued) this.o.onQueued?.();
    return { fresh: fresh.length, updated: rec.updated.length, queued };
  }

  /**
   * One article from outside a feed poll (the CMS publish hook), counted as an item of `feedUrl` (null:
   * of no feed). A story already known by its dedup key or canonical URL is not posted again (`known`,
   * with its first id); a changed title or lead queues edits like a feed update would.
   */
  async intake(article: Article, feedUrl: string | null): Promise<{ id: string; known: boolean; queued: number; posted: boolean }> {
    return this.inLane(feedUrl ?? '', async () => {
      const known = (await this.o.articles.get(article.id)) ?? (article.url ? await this.o.articles.byUrl(article.url) : undefined);
      const { rec, fresh, queued } = await this.recordAndRoute(feedUrl ?? '', [{ ...article, feedUrl }], false);
      if (queued) this.o.onQueued?.();
      const id = known?.id ?? fresh[0]?.id ?? rec.updated[0]?.article.id ?? article.id;
      return { id, known: !!known, queued, posted: fresh.length > 0 };
    });
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

  /** The feed's next slot: its period is the interval or its own floor (Cache-Control, ttl), on its phase. */
  private nextPoll(url: string, row: FeedRow, from: Date, floorS: number | null): Date {
    return new Date(nextSlot(from.getTime(), pollPeriodMs(this.intervalFor(url), floorS), row.poll_phase));
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



/** Whether `urls` holds exactly the feeds of `set` (the list given to the last sync). */
function sameList(set: Set<string>, urls: readonly string[]): boolean {
  if (urls.length < set.size) return false;
  let n = 0;
  const seen = new Set<string>();
  for (const u of urls) {
    if (!set.has(u)) return false;
    if (!seen.has(u)) {
      seen.add(u);
      n++;
    }
  }
  return n === set.size;
}

export type { FeedRow, RouteTarget };
