import { resolve } from 'node:path';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { openStore, type Store } from './store/db.js';
import { ArticleRepo } from './store/articles.js';
import { acquireInstanceLock, type InstanceLock } from './store/instance-lock.js';
import { InstanceRegistry } from './store/instances.js';
import { FeedClaims, reclaimExpiredDeliveries, renewDeliveryClaims } from './store/claims.js';
import { ChatLeases } from './store/chat-leases.js';
import { PostgresBudget } from './store/rate-budget.js';
import { DbReplyRateLimiter } from './store/reply-rate.js';
import { FeedRepo } from './store/feeds.js';
import { startRetention } from './store/retention.js';
import { rendererFor, type Renderer } from './render/renderer.js';
import { Outbox, PRIORITY } from './delivery/outbox.js';
import { DestinationRegistry, destinationId } from './delivery/destinations.js';
import { escapeHtml, escapeWhatsApp } from './render/escape.js';
import { Dispatcher, type DispatcherOptions } from './delivery/dispatcher.js';
import { EMPTY_ROUTES, loadRoutesFile, type RoutesFile, type RouteFeed } from './delivery/routes-file.js';
import type { Destination, PlatformSender } from './delivery/types.js';
import { Pacer } from './delivery/pacer.js';
import { Pipeline } from './delivery/ingest.js';
import { FeedAdmin, configuredFeeds, feedPlan } from './delivery/managed-feeds.js';
import type { RouteTarget } from './delivery/routing.js';
import { startPollScheduler, type PollScheduler } from './sources/scheduler.js';
import { planListeners } from './http/listeners.js';
import { startHttpServer, type HttpApp } from './http/server.js';
import { MetricsRegistry, timeSends } from './http/metrics.js';
import { mountDesk, type DeskDeps } from './desk/routes.js';
import { deskUsers } from './desk/auth.js';
import { readArticlePage } from './sources/page.js';
import { mountHooks } from './http/hooks.js';
import type { Hook } from './lib/hook.js';
import { WebSub, type WebSubOptions } from './sources/websub.js';
import { WebSubRepo } from './store/websub.js';
import { createPublishHook } from './delivery/publish-hook.js';
import { health, metrics } from './delivery/status.js';
import { previewText } from './delivery/preview.js';
import type { Platform } from './render/types.js';
import type { Reply } from './commands/types.js';
import type { Notifier } from './commands/services.js';
import { createCommandRouter, type CommandRouter } from './commands/router.js';
import { deactivateSubscriber, getPauseState, subscriberIdFor } from './commands/repo.js';
import { alertsForPlatform, alertsVersion, subscribersForTopics } from './store/subscribers.js';
import { createAppServices, PushTracker } from './delivery/services.js';
import { join } from 'node:path';
import { packageRoot } from './paths.js';
import { makeInstanceId } from './lib/instance.js';
import type { PlatformHost, PlatformModule } from './platforms/types.js';
import { DigestRepo } from './store/digests.js';
import { Digests, hasDigests } from './delivery/digests.js';
import { HourlyCaps } from './delivery/caps.js';
import { startDigestClock } from './delivery/digest-schedule.js';

/**
 * The composition root: config → store → sources → pipeline → platforms → scheduler → http.
 * Everything with a side effect is created here and handed to the stages that need it.
 */

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** Where the console preview and the destination check lines go (stdout by default). */
  print?: (line: string) => void;
  fetch?: typeof fetch;
  /** Platform adapters, created by the platform modules from config (tests may pass their own). */
  platforms?: PlatformModule[];
  /** The routes file, already read (the CLI reads it to build the platform modules). */
  routes?: RoutesFile;
  /** Dispatcher timings (breaker thresholds, probe and retry backoff): tests shorten them. */
  /** The desk's live-update period (tests shorten it). */
  deskLiveMs?: number;
  dispatcher?: Pick<DispatcherOptions, 'breaker' | 'backoffBaseMs' | 'sendTimeoutMs' | 'passBackoffBaseMs' | 'passBackoffCapMs'>;
  /** WebSub timings (how often leases are checked, how long a verification may take): tests shorten them. */
  websub?: Pick<WebSubOptions, 'checkEveryMs' | 'verifyTimeoutMs'>;
  /**
   * Digest and cap timings (tests shorten them): the caps' rolling window (1 h), how late a missed digest
   * may still go out (1 h), the digest clock's cron expression (every minute) and its clock.
   */
  digests?: { capWindowMs?: number; catchUpMs?: number; cron?: string; clock?: () => Date };
}

export interface App {
  config: Config;
  logger: Logger;
  store: Store;
  renderer: Renderer;
  outbox: Outbox;
  destinations: DestinationRegistry;
  articles: ArticleRepo;
  feeds: FeedRepo;
  pipeline: Pipeline;
  dispatcher: Dispatcher;
  /** Digests of destinations with `mode: digest` / `both` (delivery/digests.ts). */
  digests: Digests;
  routes: RoutesFile;
  platforms: PlatformModule[];
  /** This process's id (`host:pid:random`): the instance lock, delivery claims and the WhatsApp lease. */
  instanceId: string;
  /** The command router shared by every platform. */
  router: CommandRouter;
  /** Queues replies to a chat in the outbox (kind `reply`): paced, retried and recorded like posts. */
  notifier: Notifier;
  print: (line: string) => void;
  /** Base URL of the listener on HTTP_HOST:HTTP_PORT once listening (in webhook mode: the webhook's only). */
  httpUrl: string | null;
  /** Base URL of the listener serving /health and /metrics: the same as `httpUrl` without a webhook. */
  adminUrl: string | null;
  /** This app's prom-client registry (served at /metrics). */
  metrics: MetricsRegistry;
  stop(): Promise<void>;
}

/** The configured feed URLs: FEED_URLS plus the routes file's feeds, without repeats (the managed ones are added per tick). */
export function feedList(config: Config, routes: RoutesFile): string[] {
  return configuredFeeds(config.feeds, routes.feeds);
}

export async function startApp(deps: AppDeps): Promise<App> {
  const { config, logger } = deps;
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const routes = deps.routes ?? (config.routesFile ? loadRoutesFile(config.routesFile) : EMPTY_ROUTES);
  const renderer = rendererFor(config);
  renderer.preload();
  // A digest template that is missing or broken stops the start, not the first digest hours later.
  for (const p of deps.platforms ?? []) if (p.destinations.some(hasDigests)) renderer.renderDigest([], p.platform);
  const store = await openStore(config.databaseUrl, {
    onConnectionError: (message) => logger.warn({ event: 'database.connection_error' }, message),
    onPermissionsFixed: (message) => logger.warn({ event: 'database.permissions_fixed' }, message),
  });
  // SQLite: one process per database: a second start refuses here, before it claims a row or polls a
  // platform. PostgreSQL: any number of instances, each registered in `instances` with a heartbeat, sharing
  // the work through claims and leases (README "Scaling out").
  const instance = makeInstanceId();
  const multi = store.dialect === 'postgres';
  const registry = multi
    ? new InstanceRegistry({
        db: store.db,
        instance,
        leaseMs: config.instanceLeaseMs,
        onError: (err) => logger.warn({ event: 'instance.heartbeat_failed', err: (err as Error).message }, 'heartbeat failed; trying again at the next one'),
      })
    : null;
  await registry?.start().catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const lock: InstanceLock | null = multi ? null : await acquireInstanceLock(store.db, {
    instance,
    onTakeover: (h) =>
      logger.warn({ event: 'instance.takeover', previous: h.holder, since: h.startedAt.toISOString() }, `the previous process on this database (pid ${h.pid} on ${h.host}) is gone; taking over its lock`),
    onLost: (by) =>
      logger.error({ event: 'instance.lost', by: by?.holder ?? null }, `another process took this database's lock${by ? ` (pid ${by.pid} on ${by.host})` : ''}; stop one of them, or messages may go out twice`),
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const outbox = new Outbox(store.db);
  const destinations = new DestinationRegistry(store.db);
  const articles = new ArticleRepo(store.db);
  const feeds = new FeedRepo(store.db);
  const platforms = deps.platforms ?? [];
  // One metrics registry per app: `/metrics` serves it; sends and polls are timed into its histograms.
  let statusSources: Parameters<typeof metrics>[0] | null = null;
  const metricsRegistry = new MetricsRegistry({ computed: async () => (statusSources ? metrics(statusSources) : []) });

  // Configured destinations are written to the table so the outbox can name them.
  const targets: RouteTarget[] = [];
  for (const p of platforms) {
    for (const d of p.destinations) {
      await destinations.upsert(d);
      targets.push({ destinationId: d.id, feeds: d.options.feeds ?? null });
    }
  }

  const consoleMode = platforms.length === 0;
  let dispatcher!: Dispatcher;
  const privatePlatforms: Platform[] = [];
  if (platforms.some((p) => p.platform === 'telegram')) privatePlatforms.push('telegram');
  if (platforms.some((p) => p.platform === 'whatsapp') && config.whatsapp.privatePush) privatePlatforms.push('whatsapp');
  const feedSettings = new Map<string, RouteFeed>(routes.feeds.map((f) => [f.url, f]));
  const feedUrls = feedList(config, routes);
  // WebSub needs PUBLIC_URL (where hubs call back); the pipeline asks it which feeds are live.
  let websub: WebSub | null = null;
  const caps = new HourlyCaps({ db: store.db, logger: logger.child({ component: 'caps' }), ...(deps.digests?.capWindowMs ? { windowMs: deps.digests.capWindowMs } : {}) });
  const digests = new Digests({
    repo: new DigestRepo(store.db),
    outbox,
    destinations,
    articles,
    renderer,
    logger: logger.child({ component: 'digests' }),
    timeZone: config.timeZone,
    targets: platforms.flatMap((p) => p.destinations.filter(hasDigests).map((d) => d.id)),
    ...(deps.digests?.catchUpMs ? { catchUpMs: deps.digests.catchUpMs } : {}),
    ...(deps.digests?.clock ? { clock: deps.digests.clock } : {}),
    onQueued: () => dispatcher?.wake(),
  });
  const feedClaims = multi ? new FeedClaims(store.db, instance.id, config.instanceLeaseMs) : null;
  const pipeline: Pipeline = new Pipeline({
    feeds,
    ...(feedClaims ? { feedClaims } : {}),
    articles,
    outbox,
    destinations,
    renderer,
    logger: logger.child({ component: 'pipeline' }),
    targets,
    subscribers: (platform, topics) => subscribersForTopics(store.db, platform, topics),
    alerts: (platform) => alertsForPlatform(store.db, platform),
    alertsVersion: () => alertsVersion(store.db),
    privatePlatforms,
    feedSettings,
    pollIntervalMs: config.pollIntervalMs,
    backfill: config.backfill,
    maxNewPerPoll: config.maxNewPerPoll,
    maxArticleAgeMs: config.maxArticleAgeMs,
    concurrency: config.pollConcurrency,
    ...(config.retentionMs !== null ? { retentionMs: config.retentionMs } : {}),
    summaryMaxChars: config.summaryMaxChars,
    itemHtmlMaxBytes: config.itemHtmlMaxBytes,
    editWindowMs: config.editWindowMs,
    timeZone: config.timeZone,
    fetch: { ...config.fetch, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
    onQueued: () => dispatcher?.wake(),
    digests,
    caps,
    onPolled: (report, seconds) => metricsRegistry.pollSeconds.observe({ feed: report.feed, status: report.status }, seconds),
    onFresh: consoleMode
      ? (a) => print(previewText({ article: a, via: 'feed', ...renderer.renderBoth(a) }))
      : undefined,
    onFetched: (url, got) => websub?.discovered(url, got),
    websub: { isLive: (url) => websub?.isLive(url) ?? false, pollIntervalMs: config.websub.pollIntervalMs },
  });
  const fetchOpts = { ...config.fetch, ...(deps.fetch ? { fetch: deps.fetch } : {}) };
  if (config.publicUrl && config.websub.enabled)
    websub = new WebSub({
      repo: new WebSubRepo(store.db),
      publicUrl: config.publicUrl,
      leaseSeconds: config.websub.leaseSeconds,
      feeds: feedUrls,
      fetch: fetchOpts,
      maxBodyBytes: config.fetch.maxBytes,
      onContent: (url, text, base) => pipeline.ingestFeedText(url, text, base),
      onPing: async (url) => {
        // A poll already running may have read the feed before the story: poll again after it.
        for (let i = 0; i < 20 && (await pipeline.pollFeed(url)).status === 'skipped'; i++) await new Promise((r) => setTimeout(r, 250));
      },
      logger,
      ...deps.websub,
    });
  // Instant intake: the CMS publish hook and the WebSub callbacks, on the public (or single) listener.
  const intakeHooks: Hook[] = [];
  if (config.publish.secret)
    intakeHooks.push(
      createPublishHook({
        secret: config.publish.secret,
        feedUrl: config.publish.feedUrl,
        section: config.publish.section ?? (config.publish.feedUrl ? (feedSettings.get(config.publish.feedUrl)?.section ?? null) : null),
        summaryMaxChars: config.summaryMaxChars,
        itemHtmlMaxBytes: config.itemHtmlMaxBytes,
        boilerplate: config.publish.feedUrl ? (feedSettings.get(config.publish.feedUrl)?.boilerplate ?? []) : [],
        readPage: (url) => readArticlePage(url, { fetch: { ...fetchOpts, trusted: false }, summaryMaxChars: config.summaryMaxChars }),
        intake: (article, feedUrl) => pipeline.intake(article, feedUrl),
        logger: logger.child({ component: 'publish' }),
      }),
    );
  if (websub) intakeHooks.push(websub.hook());

  const tracker = new PushTracker();
  let paused = (await getPauseState(store.db)).paused;
  // Each platform states its limits; the pacers are built here, one per platform. With several instances
  // Telegram's global rate is the bot's: its pacer draws on a budget shared through the database, at the
  // rate its policy states (TELEGRAM_MAX_PER_SECOND, a paid ceiling included).
  const pacers = new Map(platforms.map((p) => [p.platform, new Pacer(p.pacing)]));
  const telegramPacer = pacers.get('telegram');
  if (multi && telegramPacer) telegramPacer.budget = new PostgresBudget(store.db, 'telegram');
  const chatLeases = multi
    ? new ChatLeases({
        db: store.db,
        holder: instance.id,
        leaseMs: config.instanceLeaseMs,
        onTaken: (chat, times) => pacers.get(chat.platform as Platform)?.seed({ id: '', platform: chat.platform as Platform, chatId: chat.chatId, threadId: null, options: {} }, times),
        onReleased: () => dispatcher?.wake(),
      })
    : null;
  dispatcher = new Dispatcher({
    outbox,
    destinations,
    // Each platform states its limits; the pacers are built above, one per platform.
    senders: Object.fromEntries(platforms.map((p) => [p.platform, { sender: timeSends(p.sender, metricsRegistry), pacer: pacers.get(p.platform)! }])),
    holder: instance.id,
    ...(multi ? { claimLeaseMs: config.instanceLeaseMs } : {}),
    ...(chatLeases ? { chats: chatLeases } : {}),
    logger: logger.child({ component: 'dispatcher' }),
    maxAttempts: config.maxAttempts,
    soleSender: store.dialect === 'sqlite',
    onSettled: (row, status) => {
      tracker.settled(row, status);
      if (status === 'sent') caps.sent(row, Date.now());
    },
    holdFor: (row, dest, now) => caps.holdFor(row, dest, now),
    isPaused: () => paused,
    onDestinationGone: async (dest) => {
      // A private chat that is gone is a subscriber who blocked the bot: keep their topics, stop sending.
      if (!configuredIds.has(dest.id)) await deactivateSubscriber(store.db, subscriberIdFor(dest.platform, dest.chatId));
    },
    ...deps.dispatcher,
  });
  const configuredIds = new Set(targets.map((t) => t.destinationId));
  // The pause switch lives in the settings table (the router writes it); read it every few seconds.
  const pauseTimer = setInterval(() => {
    void getPauseState(store.db)
      .then((p) => (paused = p.paused))
      .catch(() => undefined);
  }, 2_000);
  pauseTimer.unref();

  // Replies go through the outbox like everything else (push progress, and WhatsApp command answers), so
  // they are paced, retried and recorded; they jump the queue as replies.
  const notifier: Notifier = {
    notify: async (chat: { platform: Platform; chatId: string; threadId?: string | null }, replies: Reply[]) => {
      try {
        const id = destinationId(chat.platform, chat.chatId, chat.threadId ?? null);
        if (!(await destinations.get(id)))
          await destinations.upsert({ id, platform: chat.platform, chatId: chat.chatId, threadId: chat.threadId ?? null, options: {} });
        const escape = chat.platform === 'telegram' ? escapeHtml : escapeWhatsApp;
        const payload = replies.flatMap((r) => renderer.fitText(chat.platform, escape(r.text)));
        await outbox.enqueue([{ articleId: null, destinationId: id, kind: 'reply', priority: PRIORITY.reply, payload }]);
        dispatcher.wake();
      } catch (err) {
        logger.warn({ event: 'notify.failed', chat: chat.chatId, err: (err as Error).message }, 'could not queue a message to an editor');
      }
    },
  };
  // The router is complete before any platform starts: a platform receives it through its host.
  const bundledLocales = join(packageRoot(), 'templates', 'locales');
  const router: CommandRouter = createCommandRouter({
    db: store.db,
    services: createAppServices({ config, logger, store, renderer, outbox, destinations, articles, feeds, routing: pipeline.routing, dispatcher, routes, platforms, digests }, tracker, notifier),
    editors: config.editors,
    latestCount: config.latestCount,
    replyRate: config.replyRate,
    ...(multi ? { replyLimiter: new DbReplyRateLimiter(store.db, config.replyRate.count, config.replyRate.perMs) } : {}),
    defaultLocale: config.locale,
    localesDir: [resolve(config.templatesDir, 'locales'), bundledLocales],
    clock: () => new Date(),
    logger: logger.child({ component: 'commands' }),
    timeZone: config.timeZone,
  });

  const app: App = {
    config,
    logger,
    store,
    renderer,
    outbox,
    destinations,
    articles,
    feeds,
    pipeline,
    dispatcher,
    digests,
    routes,
    platforms,
    instanceId: instance.id,
    router,
    notifier,
    print,
    httpUrl: null,
    adminUrl: null,
    metrics: metricsRegistry,
    stop: async () => undefined,
  };
  statusSources = app;
  const host: PlatformHost = {
    router,
    destinations,
    wake: () => dispatcher.wake(),
    print,
    store,
    instanceId: instance.id,
    notifier,
  };

  // What this instance renews at each heartbeat: its feed claims, its delivery claims and its chats; and
  // what it takes back from dead instances: rows whose claims expired.
  if (registry && feedClaims && chatLeases) {
    registry.setHolds(async () => ({
      updates: platforms.some((p) => p.holdsUpdates?.() === true),
      feeds: await feedClaims.held(),
      chats: chatLeases.size,
    }));
    registry.onBeat(() => feedClaims.renew());
    registry.onBeat(() => renewDeliveryClaims(store.db, instance.id, config.instanceLeaseMs));
    registry.onBeat(() => chatLeases.renew());
    registry.onBeat(async () => {
      const back = await reclaimExpiredDeliveries(store.db);
      if (back > 0) {
        logger.warn({ event: 'outbox.reclaimed', count: back }, `took back ${back} deliveries whose instance stopped renewing its claims`);
        dispatcher.wake();
      }
    });
  }
  for (const p of platforms) await p.start(host);
  await caps.load();
  await dispatcher.start();
  const resumed = await pipeline.resumeUnrouted();
  if (resumed) logger.info({ event: 'pipeline.resumed', articles: resumed }, `routed ${resumed} articles recorded before the last stop`);
  const edits = await pipeline.resumeEdits();
  if (edits.articles) logger.info({ event: 'pipeline.edits_resumed', ...edits }, `queued ${edits.edits} edits of ${edits.articles} articles changed before the last stop`);

  if (consoleMode) {
    print(
      [
        '',
        'Manchete is running in preview mode: no platform is configured, so new articles are printed here instead of sent.',
        `Feeds: ${feedUrls.join(', ')}`,
        'To post for real, set TELEGRAM_BOT_TOKEN and TELEGRAM_CHATS (and/or WHATSAPP_ENABLED=true with WHATSAPP_CHATS) in .env; see .env.example.',
        '',
      ].join('\n'),
    );
    await showRecent(app, feedUrls);
  }

  // Each tick polls the configured feeds and those managed at run time (`manchete feeds add/remove`),
  // read again from the feeds table every time (one indexed read), so a running process follows the
  // CLI without a restart. The settings map is the pipeline's own: it is refilled in place.
  let managedNow = new Set<string>();
  let firstList = true;
  const pollList = async (): Promise<string[]> => {
    let managed;
    try {
      managed = await feeds.managed();
    } catch (err) {
      logger.warn({ event: 'feeds.managed_unreadable', err: (err as Error).message }, `could not read the feeds added at run time (${(err as Error).message}); polling the last list known`);
      return [...feedUrls, ...[...managedNow].filter((u) => !feedUrls.includes(u))];
    }
    const plan = feedPlan(feedUrls, routes.feeds, managed);
    feedSettings.clear();
    for (const [url, s] of plan.settings) feedSettings.set(url, s);
    const next = new Set(plan.urls.slice(feedUrls.length));
    const added = [...next].filter((u) => !managedNow.has(u));
    const removed = [...managedNow].filter((u) => !next.has(u));
    if (firstList) {
      if (next.size) logger.info({ event: 'feeds.managed', managed: next.size }, `also polling ${next.size} feeds added at run time (manchete feeds list)`);
    } else if (added.length || removed.length)
      logger.info({ event: 'feeds.changed', added, removed, managed: next.size }, `feeds added at run time: ${added.length} new, ${removed.length} removed (${next.size} in all)`);
    managedNow = next;
    firstList = false;
    return plan.urls;
  };
  const scheduler: PollScheduler = startPollScheduler({
    pollIntervalMs: config.pollIntervalMs,
    timeZone: config.timeZone,
    logger,
    tick: async () => pipeline.pollDue(await pollList()),
  });
  void scheduler.runNow();
  // Digests: a node-cron tick every minute in TZ; the first check now sends a slot missed while stopped.
  const digestClock = startDigestClock({ timeZone: config.timeZone, logger, tick: () => digests.tick(), ...(deps.digests?.cron ? { expression: deps.digests.cron } : {}) });
  if (digests.targets.length) void digestClock.runNow();
  const retention = config.retentionMs !== null ? startRetention({ db: store.db, retentionMs: config.retentionMs, logger }) : null;

  // Listeners: one (health, metrics) without a webhook; in webhook mode a public one for the webhook only
  // and an admin one, on 127.0.0.1 by default, for health and metrics (see planListeners).
  const listeners: Awaited<ReturnType<typeof startHttpServer>>[] = [];
  const webhookHandlers = platforms.flatMap((p) => p.httpHandlers ?? []);
  const plans = planListeners({
    http: config.http,
    admin: config.admin,
    webhookMode: config.telegram.webhookUrl !== null && webhookHandlers.length > 0,
    ephemeral: config.listenAnyPort,
  });
  // The web desk: on the admin listener (and the public one only with DESK_ON_PUBLIC), off without a password.
  const users = deskUsers(config.desk);
  const desk: DeskDeps | null = users.length
    ? {
        db: store.db,
        dispatcher,
        platforms,
        feeds,
        logger: logger.child({ component: 'desk' }),
        users,
        sessionTtlMs: config.desk.sessionTtlMs,
        secureCookies: config.desk.secureCookies,
        trustProxy: config.desk.trustProxy,
        templatesDir: join(packageRoot(), 'templates', 'desk'),
        assetsDir: join(packageRoot(), 'src', 'desk', 'assets'),
        renderer,
        articles,
        routing: pipeline.routing,
        destinationIds: () => targets.map((t) => t.destinationId),
        readPage: (url) => readArticlePage(url, { fetch: { ...config.fetch, trusted: false }, summaryMaxChars: config.summaryMaxChars }),
        wake: () => dispatcher.wake(),
        feedAdmin: new FeedAdmin({
          repo: feeds,
          feedUrls: config.feeds,
          routeFeeds: routes.feeds,
          check: { fetch: config.fetch, summaryMaxChars: config.summaryMaxChars, itemHtmlMaxBytes: config.itemHtmlMaxBytes },
          actor: 'web',
        }),
        feedsImport: config.feedsImport,
        ...(deps.deskLiveMs ? { liveMs: deps.deskLiveMs } : {}),
      }
    : null;
  if (!desk) logger.info({ event: 'desk.off' }, 'the web desk is off: set ADMIN_PASSWORD (or ADMIN_USERS=name:bcrypt-hash, made with `manchete desk hash-password`) to turn it on at /desk/ on the admin listener');
  for (const plan of plans) {
    const setting = plan.name === 'admin' ? 'ADMIN_PORT' : 'HTTP_PORT';
    const withDesk = desk && (plan.admin || config.desk.onPublic);
    try {
      const server = await startHttpServer({
        host: plan.host,
        port: plan.port,
        logger,
        handlers: [...(plan.webhook ? webhookHandlers : []), ...(plan.intake && intakeHooks.length ? [mountHooks(intakeHooks)] : [])],
        ...(plan.admin ? { admin: { health: () => health(app), metrics: metricsRegistry } } : {}),
        ...(withDesk ? { extend: (http: HttpApp) => mountDesk(http, desk) } : {}),
      });
      listeners.push(server);
      if (plan.name !== 'admin') app.httpUrl = server.url;
      if (plan.admin) app.adminUrl = server.url;
      if (withDesk) logger.info({ event: 'desk.listening', listener: plan.name, url: `${server.url}/desk/` }, `web desk at ${server.url}/desk/`);
      const serves = plan.admin ? `health at ${server.url}/health, metrics at ${server.url}/metrics` : `the Telegram webhook at ${server.url}; health and metrics are on the admin listener`;
      logger.info({ event: 'http.listening', listener: plan.name, url: server.url }, serves);
    } catch (err) {
      const what = plan.name === 'public' ? 'the Telegram webhook is' : 'health and metrics are';
      logger.warn({ event: 'http.failed', listener: plan.name, err: (err as Error).message }, `could not listen on ${plan.host}:${plan.port} (${(err as Error).message}); ${what} off. Set ${setting} to a free port, or 0 to turn it off.`);
    }
  }

  // After the listeners: a hub verifies a request at once, so the callback must be answering by then.
  await websub?.start();

  let stopping: Promise<void> | null = null;
  app.stop = () =>
    (stopping ??= (async () => {
      logger.info({ event: 'app.stopping' }, 'stopping: no new polls; letting sends in flight finish');
      await scheduler.stop();
      await websub?.stop();
      await digestClock.stop();
      await retention?.stop();
      clearInterval(pauseTimer);
      // The dispatcher drains while the platforms are still connected: a send in flight needs its socket.
      const { unfinished } = await dispatcher.stop(config.shutdownGraceMs);
      if (unfinished) logger.warn({ event: 'app.unfinished', unfinished }, `${unfinished} sends still in flight after ${config.shutdownGraceMs / 1000} s; they resume at the next start`);
      await chatLeases?.releaseAll().catch(() => undefined);
      for (const p of platforms) await p.stop().catch((err: unknown) => logger.warn({ event: 'platform.stop_failed', err, platform: p.platform }, 'platform stop failed'));
      for (const l of listeners) await l.close();
      await registry?.stop().catch(() => undefined);
      await lock?.release().catch((err: unknown) => logger.warn({ event: 'instance.release_failed', err: (err as Error).message }, 'could not release the database lock; the next start takes it over'));
      await store.close();
      logger.info({ event: 'app.stopped' }, 'stopped');
    })());
  return app;
}

/** Console mode on start: the newest articles of each feed, so a fresh install shows output at once. */
async function showRecent(app: App, feedUrls: string[]): Promise<void> {
  const { preview } = await import('./delivery/preview.js');
  for (const url of feedUrls) {
    try {
      const items = await preview(url, {
        renderer: app.renderer,
        platforms: ['telegram', 'whatsapp'],
        limit: 3,
        newestFirst: true,
        summaryMaxChars: app.config.summaryMaxChars,
        itemHtmlMaxBytes: app.config.itemHtmlMaxBytes,
        fetch: { ...app.config.fetch, fetchPages: false },
        feedSettings: new Map(app.routes.feeds.map((f) => [f.url, f])),
      });
      app.print(`The ${items.length} most recent articles of ${url}, as they would be posted:\n`);
      for (const item of items) app.print(previewText(item));
    } catch (err) {
      app.print(`${url}: ${(err as Error).message}`);
    }
  }
  app.print('Watching for new articles…\n');
}
