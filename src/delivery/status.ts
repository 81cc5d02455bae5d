import type { Metric } from '../http/metrics.js';
import type { FeedRepo } from '../store/feeds.js';
import type { Store } from '../store/db.js';
import type { PlatformModule } from '../platforms/types.js';
import { getPauseState } from '../commands/repo.js';
import type { Dispatcher } from './dispatcher.js';
import type { Outbox } from './outbox.js';
import type { PollStoreFault } from './ingest.js';
import type { BreakerSnapshot } from './breaker.js';
import type { Platform } from '../render/types.js';
import type { FeedStatus, QueueStatus } from '../commands/services.js';
import type { DestinationRegistry } from './destinations.js';

/**
 * What the program reports about itself: `/health` and `/metrics`, computed here from the dispatcher,
 * the platforms, the feeds and the outbox. The platforms' state and their breakers come from one
 * function, `platformsNow`, which the `/status` command (services.ts) reads too, so the three never
 * disagree about whether a platform is up or degraded. Feeds and queues likewise come from one function,
 * `feedsAndQueues`, for the three. The composition root only mounts them.
 */

export interface StatusSources {
  dispatcher: Pick<Dispatcher, 'breakers' | 'fault' | 'running' | 'stats'>;
  platforms: readonly Pick<PlatformModule, 'platform' | 'state' | 'destinations'>[];
  feeds: Pick<FeedRepo, 'list'>;
  outbox: Pick<Outbox, 'counts' | 'depth'>;
  destinations: Pick<DestinationRegistry, 'list'>;
  store: Store;
  /** The poller's store error, if its last poll could not record (optional: tests of the dispatcher alone). */
  pipeline?: { storeFault: PollStoreFault | null };
}

/** States in which a platform is connected and can send. */
const UP_STATES = ['open', 'ready', 'polling', 'webhook'];

/** One platform as `/health`, `/metrics` and `/status` report it. */
export interface PlatformNow {
  platform: Platform;
  /** The module's own state word (`ready`, `polling`, `connecting`…). */
  state: string;
  /** Connected and able to send. */
  up: boolean;
  /** Its breaker when it is not closed (sending stopped or probing); null while closed or when it has none. */
  degraded: BreakerSnapshot | null;
}

/**
 * The platforms and the dispatcher's breakers, read once: the single source `/health`, `/metrics` and
 * `/status` build their platform lines from.
 */
export function platformsNow(app: { dispatcher: Pick<Dispatcher, 'breakers'>; platforms: readonly Pick<PlatformModule, 'platform' | 'state'>[] }): { platforms: PlatformNow[]; breakers: Record<string, BreakerSnapshot> } {
  const breakers = app.dispatcher.breakers();
  const platforms = app.platforms.map((p) => {
    const state = p.state();
    const b = breakers[p.platform];
    return { platform: p.platform, state, up: UP_STATES.includes(state), degraded: b && b.state !== 'closed' ? b : null };
  });
  return { platforms, breakers };
}

/** How a destination is named to people: its title and chat id, or the chat id alone. */
export function destinationLabel(d: { id: string; title: string | null; chatId: string }): string {
  return d.title ? `${d.title} (${d.chatId})` : d.chatId;
}

/** Feeds and delivery queues, read once: what `/status`, `/health` and `/metrics` report about them. */
export interface FeedsAndQueues {
  feeds: FeedStatus[];
  /** One per configured destination, and per any other destination with deliveries waiting. */
  queues: QueueStatus[];
  /** Deliveries in the outbox by status (`pending`, `sent`, `failed`…). */
  deliveries: Record<string, number>;
}

/** Reads the feeds and the outbox for the three status surfaces (one set of queries, one set of rules). */
export async function feedsAndQueues(app: Pick<StatusSources, 'feeds' | 'outbox' | 'destinations' | 'platforms' | 'store'>, now = Date.now()): Promise<FeedsAndQueues> {
  const feeds = await app.feeds.list();
  const depth = await app.outbox.depth();
  const deliveries = await app.outbox.counts();
  const failed = await app.store.db
    .selectFrom('deliveries')
    .select(['destination_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', '=', 'failed')
    .groupBy('destination_id')
    .execute();
  const dests = await app.destinations.list();
  const byId = new Map(dests.map((d) => [d.id, d]));
  const configured = (id: string) => app.platforms.some((p) => p.destinations.some((x) => x.id === id));
  const queueIds = new Set([...depth.map((d) => d.destination_id), ...dests.filter((d) => !d.id.includes(':') || configured(d.id)).map((d) => d.id)]);
  return {
    feeds: feeds.map((f) => ({
      url: f.url,
      title: f.title,
      lastPolledAt: f.last_polled_at ? new Date(f.last_polled_at) : null,
      lastOkAt: f.last_ok_at ? new Date(f.last_ok_at) : null,
      nextPollAt: f.next_poll_at ? new Date(f.next_poll_at) : null,
      failures: f.failures,
      lastError: f.last_error,
      heldBack: f.held_back > 0 && f.held_back_at && now - Date.parse(f.held_back_at) < 24 * 3_600_000 ? { count: f.held_back, at: new Date(f.held_back_at) } : null,
    })),
    queues: [...queueIds].map((id) => {
      const d = byId.get(id);
      return {
        destinationId: id,
        label: d ? destinationLabel(d) : id,
        pending: depth.filter((x) => x.destination_id === id).reduce((n, x) => n + x.n, 0),
        failed: Number(failed.find((x) => x.destination_id === id)?.n ?? 0),
        dead: d?.status === 'dead',
      };
    }),
    deliveries,
  };
}

/** WebSub subscriptions (sources/websub.ts) as `/health` and `/metrics` report them. */
export interface WebSubStatus {
  /** Subscriptions by state: `live`, `pending`, `failed`, `denied`, `unsubscribing`. */
  states: Record<string, number>;
  /** The ones not live, with why (the feed is polled at the normal interval meanwhile). */
  notLive: { feed: string; hub: string; state: string; error: string | null; retryAt: string | null }[];
}

/** Reads the WebSub subscriptions; null when there are none (no hub advertised, or PUBLIC_URL unset). */
export async function websubStatus(store: Store): Promise<WebSubStatus | null> {
  const rows = await store.db.selectFrom('websub_subscriptions').select(['feed_url', 'hub', 'state', 'last_error', 'next_attempt_at']).orderBy('feed_url').execute();
  if (rows.length === 0) return null;
  const states: Record<string, number> = {};
  for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
  return {
    states,
    notLive: rows.filter((r) => r.state !== 'live').map((r) => ({ feed: r.feed_url, hub: r.hub, state: r.state, error: r.last_error, retryAt: r.next_attempt_at })),
  };
}

/** `/health`: red only when deliveries cannot go out at all. */
export async function health(app: StatusSources) {
  const now = platformsNow(app);
  const platforms = Object.fromEntries(now.platforms.map((p) => [p.platform, p.state]));
  const breakers = now.breakers;
  const degraded = Object.entries(breakers)
    .filter(([, b]) => b.state !== 'closed')
    .map(([platform, b]) => ({ platform, ...b, since: b.since === null ? null : new Date(b.since).toISOString(), nextProbeAt: b.nextProbeAt === null ? null : new Date(b.nextProbeAt).toISOString() }));
  const fault = app.dispatcher.fault;
  const dispatcher = { running: app.dispatcher.running, ...app.dispatcher.stats, breakers };
  // Red when deliveries cannot go out at all: the dispatcher stopped, or the outbox cannot be read or
  // written (then the store's error is the reason and nothing else is asked of the database). A failing
  // feed, a reconnecting platform or a platform whose breaker is open is reported, not fatal.
  if (fault || !app.dispatcher.running) {
    return {
      ok: false,
      reason: fault
        ? `outbox unavailable since ${new Date(fault.since).toISOString()}: ${fault.meaning} (${fault.code}: ${fault.message})`
        : 'the dispatcher is not running',
      platforms,
      degraded,
      dispatcher,
    };
  }
  // Polling that cannot record is red too: new items are not kept (the feed is read again once it can).
  const pollFault = app.pipeline?.storeFault ?? null;
  if (pollFault) {
    return {
      ok: false,
      reason: `polling cannot record feeds since ${new Date(pollFault.since).toISOString()}: ${pollFault.meaning} (${pollFault.code}: ${pollFault.message})`,
      platforms,
      degraded,
      dispatcher,
    };
  }
  const fq = await feedsAndQueues(app);
  const failing = fq.feeds.filter((f) => f.failures > 0);
  const websub = await websubStatus(app.store);
  return {
    ok: true,
    platforms,
    degraded,
    paused: (await getPauseState(app.store.db)).paused,
    feeds: { total: fq.feeds.length, failing: failing.map((f) => ({ url: f.url, failures: f.failures, error: f.lastError })) },
    // A subscription that is not live is reported, not fatal: its feed is polled at the normal interval.
    ...(websub ? { websub } : {}),
    deliveries: fq.deliveries,
    dispatcher,
  };
}

/** `/metrics`: the dispatcher's own counters always; the store-backed figures while the store answers. */
export async function metrics(app: StatusSources): Promise<Metric[]> {
  const s = app.dispatcher.stats;
  const fault = app.dispatcher.fault;
  const now = platformsNow(app);
  const breakers = Object.entries(now.breakers);
  const own: Metric[] = [
    { name: 'manchete_sent_total', help: 'Deliveries sent by this process.', type: 'counter', values: [{ value: s.sent }] },
    { name: 'manchete_failed_total', help: 'Deliveries that failed for good in this process.', type: 'counter', values: [{ value: s.failed }] },
    { name: 'manchete_retries_total', help: 'Retries after transient errors.', type: 'counter', values: [{ value: s.retried }] },
    { name: 'manchete_rate_limited_total', help: '429 answers honoured.', type: 'counter', values: [{ value: s.rateLimited }] },
    { name: 'manchete_held_total', help: 'Failures held without spending an attempt while their platform was down.', type: 'counter', values: [{ value: s.held }] },
    { name: 'manchete_platform_up', help: '1 when the platform is connected.', type: 'gauge', values: now.platforms.map((p) => ({ labels: { platform: p.platform, state: p.state }, value: p.up ? 1 : 0 })) },
    { name: 'manchete_breaker_open', help: '1 while sending to the platform is stopped by its breaker (open or probing).', type: 'gauge', values: breakers.map(([platform, b]) => ({ labels: { platform, state: b.state }, value: b.state === 'closed' ? 0 : 1 })) },
    { name: 'manchete_breaker_opened_total', help: 'Times the platform breaker opened.', type: 'counter', values: breakers.map(([platform, b]) => ({ labels: { platform }, value: b.opened })) },
    { name: 'manchete_dispatcher_pass_failures_total', help: 'Dispatcher passes that failed on a store error.', type: 'counter', values: [{ value: s.passFailures }] },
    { name: 'manchete_outbox_up', help: '0 while the outbox cannot be read or written.', type: 'gauge', values: [{ labels: { code: fault?.code ?? '' }, value: fault ? 0 : 1 }] },
  ];
  // The store-backed figures only while the store answers; the dispatcher's own are always there.
  if (fault) return own;
  const fq = await feedsAndQueues(app);
  const websub = await websubStatus(app.store);
  return [
    { name: 'manchete_deliveries', help: 'Deliveries in the outbox by status.', type: 'gauge', values: Object.entries(fq.deliveries).map(([status, value]) => ({ labels: { status }, value })) },
    ...own,
    { name: 'manchete_feed_failures', help: 'Consecutive failures per feed.', type: 'gauge', values: fq.feeds.map((f) => ({ labels: { feed: f.url }, value: f.failures })) },
    ...(websub
      ? [{ name: 'manchete_websub_subscriptions', help: 'WebSub subscriptions by state (live: the hub pushes; others: polled at the normal interval).', type: 'gauge' as const, values: Object.entries(websub.states).map(([state, value]) => ({ labels: { state }, value })) }]
      : []),
  ];
}
