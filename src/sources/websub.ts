import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { decodeBody } from './decode.js';
import { blockedRange, findBlocked, guardedDispatcher, loadUndici, parseAllowList } from './guard.js';
import { SourceError } from './types.js';
import { json, verifyHmac, type Hook, type HookRequest, type HookResponse } from '../lib/hook.js';
import { backoffMs } from '../lib/backoff.js';
import type { WebSubRepo, WebSubRow } from '../store/websub.js';
import type { Logger } from '../log.js';

/**
 * WebSub (W3C, formerly PubSubHubbub): a feed that names a hub tells its subscribers of new items the
 * moment it publishes, so Manchete need not wait for the next poll.
 *
 * - Discovery (`discoverHub`): after every poll that got content, the feed's `<atom:link rel="hub">` /
 *   `<link rel="hub">` (RSS, Atom), a JSON Feed's `hubs`, or an HTTP `Link: <…>; rel="hub"` header. The
 *   topic is the feed's `rel="self"` link, else the URL it was polled at.
 * - Subscribing: a form POST to the hub (hub.mode, hub.topic, hub.callback = PUBLIC_URL/websub/<random id>,
 *   hub.secret random per subscription, hub.lease_seconds) through the fetch guard: the hub's address
 *   comes from the feed, so it is hostile (public addresses only, unless FETCH_ALLOW_PRIVATE).
 * - The hub's verification GET is answered (hub.challenge echoed) only for a request we made and are
 *   waiting on, with the same topic; anything else is 404. The lease it grants is renewed before it ends.
 * - Notifications must carry `X-Hub-Signature: sha1|sha256|sha384|sha512=<hex>` of the body with the
 *   subscription's secret (checked in constant time); unsigned or wrongly signed ones are refused (403) and
 *   their body is not used. A fat ping (feed content) is ingested as that feed's content; an empty (thin)
 *   one means "poll this feed now".
 * - While a subscription is live, the feed is still polled, at WEBSUB_POLL_INTERVAL (`isLive`).
 * - A subscription whose feed left the configuration is unsubscribed at start.
 *
 * What it does not promise: a hub that never notifies is not detected (polling carries on regardless).
 */

/** The hubs a feed advertises and its self URL (the topic). */
export interface HubDiscovery {
  hubs: string[];
  self: string | null;
}

const HEAD_LIMIT = 64 * 1024;
const TAG_LIMIT = 4096;

/**
 * Reads the hub and self links of a feed from its HTTP Link header and its head (the part before the first
 * item or entry, at most 64 KB), with plain scans: linear on any input. Relative URLs are resolved against
 * `baseUrl`; only http(s) URLs are kept.
 */
export function discoverHub(text: string, linkHeader: string | null, baseUrl: string): HubDiscovery {
  const hubs: string[] = [];
  let self: string | null = null;
  const add = (rel: string, href: string) => {
    const url = absolute(href, baseUrl);
    if (!url) return;
    const rels = rel.toLowerCase().split(/\s+/);
    if (rels.includes('hub') && !hubs.includes(url)) hubs.push(url);
    if (rels.includes('self') && !self) self = url;
  };
  for (const l of parseLinkHeader(linkHeader ?? '')) add(l.rel, l.href);
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('{')) {
    try {
      const feed = JSON.parse(body) as { hubs?: unknown; feed_url?: unknown };
      if (Array.isArray(feed.hubs)) for (const h of feed.hubs) if (h && typeof (h as { url?: unknown }).url === 'string') add('hub', (h as { url: string }).url);
      if (typeof feed.feed_url === 'string') add('self', feed.feed_url);
    } catch {
      // Not JSON: no hubs.
    }
    return { hubs, self };
  }
  let head = body.slice(0, HEAD_LIMIT);
  for (const stop of ['<item', '<entry']) {
    const at = head.indexOf(stop);
    if (at >= 0) head = head.slice(0, at);
  }
  let i = 0;
  for (;;) {
    const lt = head.indexOf('<', i);
    if (lt < 0) break;
    const gt = head.indexOf('>', lt);
    if (gt < 0) break;
    i = gt + 1;
    if (gt - lt > TAG_LIMIT) continue;
    const tag = head.slice(lt + 1, gt);
    const nameEnd = tag.search(/[\s/]|$/);
    const name = tag.slice(0, nameEnd).toLowerCase();
    if (name !== 'link' && !name.endsWith(':link')) continue;
    const attrs = attributes(tag.slice(nameEnd));
    if (attrs.rel && attrs.href) add(attrs.rel, attrs.href);
  }
  return { hubs, self };
}

/** `name="value"` / `name='value'` pairs of one tag (bounded by TAG_LIMIT; the pattern has no nested repetition). */
function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]!.toLowerCase()] = decodeXml(m[2] ?? m[3] ?? '');
  return out;
}

function decodeXml(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'");
}

/** RFC 8288 `Link` values: `<url>; rel="hub", <url>; rel=self`. Scanned, not matched with a regex. */
export function parseLinkHeader(header: string): { href: string; rel: string }[] {
  const out: { href: string; rel: string }[] = [];
  let i = 0;
  while (i < header.length && out.length < 50) {
    const open = header.indexOf('<', i);
    if (open < 0) break;
    const close = header.indexOf('>', open);
    if (close < 0) break;
    const href = header.slice(open + 1, close).trim();
    const next = header.indexOf('<', close);
    const params = header.slice(close + 1, next < 0 ? header.length : next);
    i = next < 0 ? header.length : next;
    for (const p of params.split(';')) {
      const eq = p.indexOf('=');
      if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'rel') continue;
      out.push({ href, rel: p.slice(eq + 1).trim().replace(/,$/, '').replace(/^"|"$/g, '') });
    }
  }
  return out;
}

function absolute(href: string, base: string): string | null {
  try {
    const u = new URL(href.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** How to reach hubs: the fetch guard's settings (a hub's address is hostile). */
export interface HubFetchOptions {
  timeoutMs: number;
  userAgent: string;
  allowPrivate?: readonly string[];
  /** Injected fetch (tests); receives the guarding dispatcher and should pass it on. */
  fetch?: typeof fetch;
}

/**
 * POSTs a WebSub form to a hub through the fetch guard: http(s) only, public addresses only (unless
 * FETCH_ALLOW_PRIVATE), no redirects followed, the answer's body discarded. Resolves on 2xx (hubs answer
 * 202 Accepted and verify asynchronously); a SourceError otherwise.
 */
export async function postToHub(hub: string, form: Record<string, string>, o: HubFetchOptions): Promise<void> {
  let url: URL;
  try {
    url = new URL(hub);
  } catch {
    throw new SourceError(`hub "${hub}" is not a URL`, hub, { kind: 'network' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SourceError(`hub ${hub} is not http(s)`, hub, { kind: 'blocked' });
  const allow = parseAllowList(o.allowPrivate ?? []);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host) ? blockedRange(host, allow) : null;
  if (literal) throw new SourceError(`hub ${hub} is a ${literal} address (${host}); allow it with FETCH_ALLOW_PRIVATE if it is meant to be reached`, hub, { kind: 'blocked' });
  const undici = await loadUndici();
  const doFetch = o.fetch ?? (undici.fetch as unknown as typeof fetch);
  let res: Response;
  try {
    res = await doFetch(hub, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': o.userAgent },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs),
      dispatcher: guardedDispatcher(allow, undici),
    } as RequestInit);
  } catch (err) {
    const blocked = findBlocked(err);
    if (blocked) throw new SourceError(`hub ${hub} resolves to a ${blocked.range} address (${blocked.address}); allow it with FETCH_ALLOW_PRIVATE if it is meant to be reached`, hub, { kind: 'blocked' });
    throw new SourceError(`hub ${hub} could not be reached (${(err as Error).message})`, hub, { kind: 'network', cause: err });
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new SourceError(`hub ${hub} answered HTTP ${res.status} to a ${form['hub.mode']} request`, hub, { kind: 'http', status: res.status });
}

export const WEBSUB_PREFIX = '/websub/';
const ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

export interface WebSubOptions {
  repo: WebSubRepo;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  /** hub.lease_seconds asked for (WEBSUB_LEASE). */
  leaseSeconds: number;
  /** Feeds the configuration names: subscriptions of other feeds are ended at start. */
  feeds: readonly string[];
  fetch: HubFetchOptions;
  /** Largest notification body read (FEED_MAX_BYTES). */
  maxBodyBytes: number;
  /** A fat ping: the feed's content, to be ingested as that feed's items. */
  onContent: (feedUrl: string, text: string, baseUrl: string) => Promise<unknown>;
  /** A thin ping: poll the feed now. */
  onPing: (feedUrl: string) => Promise<unknown>;
  logger: Logger;
  /** How often leases, pending verifications and retries are looked at (default 60 s; tests shorten it). */
  checkEveryMs?: number;
  /** A request the hub has not verified within this is made again (default 10 min). */
  verifyTimeoutMs?: number;
  clock?: () => Date;
}

/** Renew this long before the lease ends: a fifth of the lease, at most a day. */
export function renewMarginMs(leaseSeconds: number): number {
  return Math.min(86_400_000, (leaseSeconds * 1000) / 5);
}

/**
 * The subscriptions of one instance: discovery after polls, requests to hubs, the callback endpoint
 * (`hook`), renewals and retries on a timer. State lives in websub_subscriptions; `isLive` answers from
 * memory (the poller asks it on every poll).
 */
export class WebSub {
  private readonly live = new Set<string>();
  private readonly busy = new Set<string>();
  /** Discoveries made before `start` (the first poll runs before the listeners): handled by `start`. */
  private early: Map<string, { hub: string; topic: string }> | null = new Map();
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly o: WebSubOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.log = o.logger.child({ component: 'websub' });
  }

  /** Whether the feed has a verified subscription whose lease runs. */
  isLive(feedUrl: string): boolean {
    return this.live.has(feedUrl);
  }

  /** Call once the callback listener is up: hubs verify at once, and an unanswered verification is lost. */
  async start(): Promise<void> {
    const now = this.clock().getTime();
    for (const row of await this.o.repo.list()) {
      if (!this.o.feeds.includes(row.feed_url)) {
        await this.unsubscribe(row, 'its feed is no longer configured');
        continue;
      }
      if (row.state === 'live' && row.expires_at && Date.parse(row.expires_at) > now) this.live.add(row.feed_url);
    }
    const every = this.o.checkEveryMs ?? 60_000;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    const early = this.early ?? new Map();
    this.early = null;
    for (const [feed, found] of early) this.consider(feed, found.hub, found.topic);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /** The callback URL of a subscription id. */
  callbackFor(id: string): string {
    return `${this.o.publicUrl}${WEBSUB_PREFIX}${id}`;
  }

  /**
   * After a poll got the feed's content: subscribe when it advertises a hub and no subscription stands for
   * that hub and topic (a changed hub or topic replaces the old one). Never throws: discovery is best-effort.
   */
  discovered(feedUrl: string, got: { text: string; finalUrl: string; link: string | null }): void {
    const found = discoverHub(got.text, got.link, got.finalUrl);
    const hub = found.hubs[0];
    if (!hub) return;
    const topic = found.self ?? got.finalUrl;
    if (this.early) this.early.set(feedUrl, { hub, topic });
    else this.consider(feedUrl, hub, topic);
  }

  private consider(feedUrl: string, hub: string, topic: string): void {
    if (this.busy.has(feedUrl)) return;
    this.busy.add(feedUrl);
    void (async () => {
      const old = await this.o.repo.forFeed(feedUrl);
      if (old && old.hub === hub && old.topic === topic) return;
      if (old) await this.unsubscribe(old, `the feed now names hub ${hub} and topic ${topic}`);
      const now = this.clock().toISOString();
      const row = {
        id: randomBytes(18).toString('base64url'),
        feed_url: feedUrl,
        hub,
        topic,
        secret: randomBytes(32).toString('hex'),
        state: 'pending',
        pending_mode: 'subscribe',
        lease_seconds: null,
        requested_at: null,
        verified_at: null,
        expires_at: null,
        next_attempt_at: null,
        last_error: null,
        last_notified_at: null,
        created_at: now,
      };
      await this.o.repo.insert(row);
      this.log.info({ event: 'websub.discovered', feed: feedUrl, hub, topic }, `feed ${feedUrl} names the WebSub hub ${hub}; subscribing`);
      await this.request({ ...row, failures: 0 });
    })()
      .catch((err: unknown) => this.log.warn({ event: 'websub.discovery_failed', feed: feedUrl, err: (err as Error).message }, `WebSub discovery of ${feedUrl} failed`))
      .finally(() => this.busy.delete(feedUrl));
  }

  /** Asks the hub to (re)subscribe: a live row stays live while its renewal waits for verification. */
  private async request(row: WebSubRow): Promise<void> {
    const now = this.clock();
    try {
      await postToHub(
        row.hub,
        {
          'hub.mode': 'subscribe',
          'hub.topic': row.topic,
          'hub.callback': this.callbackFor(row.id),
          'hub.secret': row.secret,
          'hub.lease_seconds': String(this.o.leaseSeconds),
        },
        this.o.fetch,
      );
      await this.o.repo.update(row.id, { pending_mode: 'subscribe', requested_at: now.toISOString(), ...(row.state === 'live' ? {} : { state: 'pending' }) });
      this.log.debug({ event: 'websub.requested', feed: row.feed_url, hub: row.hub }, `asked ${row.hub} to subscribe to ${row.topic}`);
    } catch (err) {
      const failures = row.failures + 1;
      const wait = backoffMs(failures, { baseMs: 60_000, capMs: 6 * 3_600_000 });
      const reason = (err as Error).message;
      await this.o.repo.update(row.id, {
        failures,
        last_error: reason,
        next_attempt_at: new Date(now.getTime() + wait).toISOString(),
        pending_mode: null,
        ...(row.state === 'live' ? {} : { state: 'failed' }),
      });
      this.log.warn({ event: 'websub.request_failed', feed: row.feed_url, hub: row.hub, failures, reason }, `WebSub subscription of ${row.feed_url} at ${row.hub} failed: ${reason}; polling carries on, next try in ${Math.round(wait / 60_000)} min`);
    }
  }

  private async unsubscribe(row: WebSubRow, why: string): Promise<void> {
    this.live.delete(row.feed_url);
    try {
      await this.o.repo.update(row.id, { state: 'unsubscribing', pending_mode: 'unsubscribe', requested_at: this.clock().toISOString() });
      await postToHub(row.hub, { 'hub.mode': 'unsubscribe', 'hub.topic': row.topic, 'hub.callback': this.callbackFor(row.id) }, this.o.fetch);
      this.log.info({ event: 'websub.unsubscribing', feed: row.feed_url, hub: row.hub }, `unsubscribing ${row.feed_url} from ${row.hub}: ${why}`);
    } catch (err) {
      // The hub cannot be told: its lease runs out by itself, and its notifications find no subscription.
      await this.o.repo.remove(row.id);
      this.log.info({ event: 'websub.dropped', feed: row.feed_url, hub: row.hub, reason: (err as Error).message }, `dropped the WebSub subscription of ${row.feed_url} (${why}); the hub could not be told`);
    }
  }

  /** Renewals, expired leases, unverified requests and retries: one pass (the timer runs it; tests call it). */
  tick(): Promise<void> {
    this.ticking ??= this.pass().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async pass(): Promise<void> {
    const now = this.clock().getTime();
    const verifyTimeout = this.o.verifyTimeoutMs ?? 10 * 60_000;
    for (const row of await this.o.repo.list().catch(() => [] as WebSubRow[])) {
      const requestedLongAgo = row.requested_at !== null && now - Date.parse(row.requested_at) > verifyTimeout;
      if (row.state === 'unsubscribing') {
        if (requestedLongAgo) await this.o.repo.remove(row.id);
        continue;
      }
      if (row.state === 'live') {
        const expires = row.expires_at ? Date.parse(row.expires_at) : 0;
        if (expires <= now) {
          this.live.delete(row.feed_url);
          await this.o.repo.update(row.id, { state: 'failed', pending_mode: null });
          this.log.warn({ event: 'websub.expired', feed: row.feed_url, hub: row.hub }, `the WebSub lease of ${row.feed_url} ended without renewal; subscribing again, polling at POLL_INTERVAL meanwhile`);
          await this.request({ ...row, state: 'failed' });
          continue;
        }
        const due = expires - renewMarginMs(row.lease_seconds ?? this.o.leaseSeconds) <= now;
        const waiting = row.pending_mode === 'subscribe' && !requestedLongAgo;
        const retryLater = row.next_attempt_at !== null && Date.parse(row.next_attempt_at) > now;
        if (due && !waiting && !retryLater) {
          this.log.info({ event: 'websub.renewing', feed: row.feed_url, hub: row.hub }, `renewing the WebSub lease of ${row.feed_url}`);
          await this.request(row);
        }
        continue;
      }
      if (row.state === 'pending' && requestedLongAgo) await this.request(row);
      else if ((row.state === 'failed' || row.state === 'denied') && row.next_attempt_at && Date.parse(row.next_attempt_at) <= now) await this.request(row);
    }
  }

  /** The callback endpoint, GET (verification) and POST (notifications) on /websub/<id>. */
  hook(): Hook {
    return {
      matches: (_method, path) => path.startsWith(WEBSUB_PREFIX),
      maxBodyBytes: this.o.maxBodyBytes,
      precheck: (req) => {
        if (!ID_RE.test(req.path.slice(WEBSUB_PREFIX.length))) return json(404, { error: 'not found' });
        if (req.method === 'POST' && !req.headers['x-hub-signature']) {
          this.log.warn({ event: 'websub.unsigned' }, 'a WebSub notification without X-Hub-Signature was refused');
          return json(403, { error: 'X-Hub-Signature is required' });
        }
        if (req.method !== 'GET' && req.method !== 'POST') return json(405, { error: 'GET or POST' });
        return null;
      },
      handle: (req) => (req.method === 'GET' ? this.verify(req) : this.notify(req)),
    };
  }

  private async verify(req: HookRequest): Promise<HookResponse> {
    const id = req.path.slice(WEBSUB_PREFIX.length);
    const mode = req.query.get('hub.mode');
    const topic = req.query.get('hub.topic');
    const challenge = req.query.get('hub.challenge');
    const row = await this.o.repo.get(id);
    const notFound = json(404, { error: 'no such subscription request' });
    if (!row || topic !== row.topic) return notFound;
    if (mode === 'denied') {
      this.live.delete(row.feed_url);
      await this.o.repo.update(row.id, { state: 'denied', pending_mode: null, last_error: `denied: ${(req.query.get('hub.reason') ?? '').slice(0, 200)}`, next_attempt_at: new Date(this.clock().getTime() + 6 * 3_600_000).toISOString() });
      this.log.warn({ event: 'websub.denied', feed: row.feed_url, hub: row.hub }, `the hub ${row.hub} denied the subscription of ${row.feed_url}; polling carries on`);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: '' };
    }
    if (!challenge || (mode !== 'subscribe' && mode !== 'unsubscribe') || row.pending_mode !== mode) return notFound;
    const echo = { status: 200, headers: { 'content-type': 'text/plain' }, body: challenge };
    if (mode === 'unsubscribe') {
      await this.o.repo.remove(row.id);
      this.log.info({ event: 'websub.unsubscribed', feed: row.feed_url, hub: row.hub }, `unsubscribed ${row.feed_url} from ${row.hub}`);
      return echo;
    }
    const granted = Number(req.query.get('hub.lease_seconds'));
    const lease = Number.isInteger(granted) && granted > 0 ? granted : this.o.leaseSeconds;
    const now = this.clock();
    await this.o.repo.update(row.id, {
      state: 'live',
      pending_mode: null,
      lease_seconds: lease,
      verified_at: now.toISOString(),
      expires_at: new Date(now.getTime() + lease * 1000).toISOString(),
      failures: 0,
      last_error: null,
      next_attempt_at: null,
    });
    const renewed = row.state === 'live';
    this.live.add(row.feed_url);
    this.log.info({ event: renewed ? 'websub.renewed' : 'websub.live', feed: row.feed_url, hub: row.hub, leaseSeconds: lease }, `${renewed ? 'renewed' : 'subscribed to'} ${row.feed_url} at ${row.hub} for ${lease} s; polling it every WEBSUB_POLL_INTERVAL meanwhile`);
    return echo;
  }

  private async notify(req: HookRequest): Promise<HookResponse> {
    const row = await this.o.repo.get(req.path.slice(WEBSUB_PREFIX.length));
    if (!row) return json(404, { error: 'no such subscription' });
    if (!verifyHmac(req.headers['x-hub-signature'], req.body, row.secret)) {
      this.log.warn({ event: 'websub.bad_signature', feed: row.feed_url, hub: row.hub }, `a WebSub notification for ${row.feed_url} had a wrong signature; refused, its content not used`);
      return json(403, { error: 'signature does not match' });
    }
    if (row.state !== 'live') return json(410, { error: 'the subscription is not live' });
    await this.o.repo.update(row.id, { last_notified_at: this.clock().toISOString() }).catch(() => undefined);
    const fat = req.body.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    const feed = row.feed_url;
    // Answered at once (hubs time out quickly); the work goes on after.
    void (async () => {
      if (fat) {
        try {
          const got = await this.o.onContent(feed, decodeBody(req.body, req.headers['content-type'] ?? null), row.topic);
          this.log.info({ event: 'websub.fat_ping', feed, ...(typeof got === 'object' ? got : {}) }, `WebSub: ${feed} sent its new content`);
          return;
        } catch (err) {
          this.log.info({ event: 'websub.content_unreadable', feed, reason: (err as Error).message }, `WebSub: the content sent for ${feed} could not be read (${(err as Error).message}); polling the feed instead`);
        }
      }
      await this.o.onPing(feed);
    })().catch((err: unknown) => this.log.warn({ event: 'websub.notify_failed', feed, err: (err as Error).message }, `WebSub notification of ${feed} could not be handled`));
    return { status: 202, headers: { 'content-type': 'text/plain' }, body: '' };
  }
}
