import { AlertIndex } from './alerts.js';
import type { AlertSubscriber } from '../store/subscribers.js';
import type { Article } from '../articles/article.js';
import { foldTopic } from '../articles/fold.js';
import type { DestinationRegistry, DestinationRecord } from './destinations.js';
import { destinationId } from './destinations.js';
import type { NewDelivery, Outbox } from './outbox.js';
import { PRIORITY } from './outbox.js';
import { routeDecision } from './filters.js';
import { quietHoursEnd } from './routes-file.js';
import type { Renderer } from '../render/renderer.js';
import type { Platform } from '../render/types.js';
import type { Logger } from '../log.js';
import type { Digests } from './digests.js';
import type { HourlyCaps } from './caps.js';

/**
 * Routing: which destinations an article goes to, and the deliveries that take it there. Ingest (feed
 * articles, edits, resumes), the push service (an editor's or the operator's push) and the `/push`
 * preview's destination list all ask this one module, so they cannot disagree about who gets what.
 * Side effects (the destinations table, the outbox, the subscriber query) come in through the options.
 */

/** Where an article may go: a configured destination with the feeds it takes. */
export interface RouteTarget {
  destinationId: string;
  /** Feed URLs this destination takes; null for all. */
  feeds: string[] | null;
}

/** A private chat that follows a topic, with the language to render in. */
export interface TopicSubscriber {
  chatId: string;
  locale: string;
}

export interface RoutingOptions {
  destinations: DestinationRegistry;
  outbox: Pick<Outbox, 'exists' | 'enqueue' | 'sentFor'>;
  renderer: Pick<Renderer, 'render'>;
  logger: Logger;
  /** Configured destinations (TELEGRAM_CHATS, WHATSAPP_CHATS, the routes file). */
  targets: readonly RouteTarget[];
  /** Active private subscribers for any of these folded topics on a platform (store/subscribers.ts). */
  subscribers?: (platform: Platform, topics: string[]) => Promise<TopicSubscriber[]>;
  /** Every keyword alert of a platform's active private subscribers (store/subscribers.ts alertsForPlatform). */
  alerts?: (platform: Platform) => Promise<AlertSubscriber[]>;
  /**
   * The alerts' version (store/subscribers.ts alertsVersion): loaded alerts are reused while it stays the
   * same, so a batch of articles costs one primary-key read each, not a load of every alert. Without it
   * the alerts are loaded for every article.
   */
  alertsVersion?: () => Promise<string | null>;
  /** Platforms that may receive private pushes (Telegram; WhatsApp only with WHATSAPP_PRIVATE_PUSH). */
  privatePlatforms?: readonly Platform[];
  /** TZ: quiet hours are read in it. */
  timeZone: string;
  /** EDIT_WINDOW: sent messages older than this are not edited. */
  editWindowMs: number;
  /** New work is in the outbox (the dispatcher's wake). */
  onQueued?: () => void;
  /** Collects articles for destinations with digests (delivery/digests.ts). Without it, `mode: digest` destinations get nothing. */
  digests?: Pick<Digests, 'collect'>;
  /** Hourly caps (delivery/caps.ts): a full `mode: both` destination gets the article in its digest only. */
  caps?: Pick<HourlyCaps, 'full'>;
  clock?: () => Date;
}

export interface RouteOptions {
  priority: number;
  /** Only these destination ids (an editor's push): feeds, sections, filters and private subscribers are skipped. */
  only?: string[];
  /** The article version the deliveries carry (1 when absent). */
  version?: number;
  /** A push is sent now, whatever a destination's quiet hours say. */
  ignoreQuietHours?: boolean;
}

export class Routing {
  private readonly clock: () => Date;
  private readonly alertIndexes = new Map<Platform, { version: string | null; index: Promise<AlertIndex> }>();

  constructor(private readonly o: RoutingOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  /**
   * Which destinations get an article: configured destinations whose feeds and sections match, plus
   * private subscribers of its section or tags (each once). Dead destinations are skipped. `only`
   * restricts to given destination ids (editor push).
   */
  async destinationsFor(article: Article, only?: readonly string[]): Promise<DestinationRecord[]> {
    const out: DestinationRecord[] = [];
    const seen = new Set<string>();
    const add = (d: DestinationRecord) => {
      if (seen.has(d.id)) return;
      seen.add(d.id);
      out.push(d);
    };
    const topics = [article.section, ...article.tags].filter((t): t is string => !!t).map(foldTopic);
    for (const t of this.o.targets) {
      if (only && !only.includes(t.destinationId)) continue;
      const dest = await this.o.destinations.get(t.destinationId);
      if (!dest || dest.status === 'dead') continue;
      // An editor's push to named destinations skips feeds, sections and filters: they chose.
      if (!only) {
        // Feeds, sections, then include/exclude (compiled once per destination): see delivery/filters.ts.
        const decision = routeDecision(article, dest, t.feeds);
        this.o.logger.debug(
          { event: 'route.decision', article: article.id, destination: dest.id, pass: decision.pass, reason: decision.reason },
          `${article.url} ${decision.pass ? '→' : '↛'} ${dest.id}: ${decision.reason}`,
        );
        if (!decision.pass) continue;
      }
      add(dest);
    }
    if (!only && (this.o.subscribers || this.o.alerts)) {
      for (const platform of this.o.privatePlatforms ?? []) {
        // Topic subscribers and alert matches together; `add` keeps each chat once however many match.
        const topical = this.o.subscribers && topics.length ? await this.o.subscribers(platform, topics) : [];
        const alerted = this.o.alerts ? (await this.alertIndex(platform)).match(article) : [];
        for (const { chatId, locale } of [...topical, ...alerted]) {
          const id = destinationId(platform, chatId);
          let dest = await this.o.destinations.get(id);
          if (!dest || dest.options.locale !== locale)
            dest = await this.o.destinations.upsert({ id, platform, chatId, threadId: null, options: { locale } }, dest?.status !== 'dead');
          if (dest.status !== 'dead') add(dest);
        }
      }
    }
    return out;
  }

  /** The platform's alert index, loaded again only when the alerts' version changed. */
  private async alertIndex(platform: Platform): Promise<AlertIndex> {
    const version = this.o.alertsVersion ? await this.o.alertsVersion() : null;
    const cached = this.alertIndexes.get(platform);
    if (cached && this.o.alertsVersion && cached.version === version) return cached.index;
    const index = this.o.alerts!(platform).then((rows) => new AlertIndex(rows));
    this.alertIndexes.set(platform, { version, index });
    // A failed load is not kept: the next article tries again.
    index.catch(() => this.alertIndexes.delete(platform));
    return index;
  }

  /** Renders an article for each of its destinations and queues the deliveries. Returns their ids. */
  async route(article: Article, opts: RouteOptions): Promise<number[]> {
    const dests = await this.destinationsFor(article, opts.only);
    const now = this.clock();
    const items: NewDelivery[] = [];
    for (const d of dests) {
      // An editor's push goes out live wherever it is sent; feed articles follow the destination's mode.
      const mode = opts.only ? 'live' : (d.options.mode ?? 'live');
      const collected = mode !== 'live' && this.o.digests ? await this.o.digests.collect(article, d) : false;
      if (mode === 'digest') {
        this.o.logger.debug({ event: 'route.decision', article: article.id, destination: d.id, pass: true, reason: collected ? 'collected for the digest' : 'not in digest.sections' }, `${article.url} → ${d.id}: ${collected ? 'collected for the digest' : 'mode digest, not in digest.sections: not collected'}`);
        continue;
      }
      if (!opts.only && (await this.o.outbox.exists(article.id, d.id))) continue;
      const cap = d.options.maxPerHour;
      if (!opts.only && collected && cap && this.o.caps && (await this.o.caps.full(d.id, cap, now.getTime()))) {
        this.o.logger.info(
          { event: 'delivery.capped', article: article.id, destination: d.id, maxPerHour: cap, to: 'digest' },
          `${d.id} has had ${cap} articles within the hour (maxPerHour ${cap}): ${article.url} goes in its next digest only`,
        );
        continue;
      }
      const quiet = !opts.ignoreQuietHours && d.options.quietHours ? quietHoursEnd(d.options.quietHours, now, this.o.timeZone) : null;
      items.push({
        articleId: article.id,
        destinationId: d.id,
        kind: 'article',
        priority: opts.priority,
        payload: this.o.renderer.render(article, d.platform, d.options),
        articleVersion: opts.version ?? 1,
        ...(quiet ? { notBefore: quiet } : {}),
      });
    }
    const ids = await this.o.outbox.enqueue(items);
    if (ids.length) this.o.onQueued?.();
    return ids;
  }

  /**
   * An article changed its title or lead: queue edits of what was sent within the edit window, each
   * keeping its messages' kinds. Returns the edits queued (the caller records that they were).
   */
  async queueEdits(article: Article, version: number): Promise<number> {
    const since = new Date(this.clock().getTime() - this.o.editWindowMs);
    const sent = await this.o.outbox.sentFor(article.id, since);
    const items: NewDelivery[] = [];
    for (const s of sent) {
      const dest = await this.o.destinations.get(s.destination_id);
      if (!dest || dest.status === 'dead') continue;
      const original = JSON.parse(s.payload) as { kind: string }[];
      const payload = this.o.renderer.render(article, dest.platform, dest.options);
      // An edit keeps each message's kind: a caption stays a caption, a text stays a text.
      if (payload.length !== original.length || payload.some((p, i) => p.kind !== original[i]?.kind)) {
        this.o.logger.info({ event: 'edit.skipped', article: article.id, destination: dest.id }, `article ${article.url} changed, but its new form does not fit the sent messages; not edited`);
        continue;
      }
      items.push({ articleId: article.id, destinationId: dest.id, kind: 'edit', priority: PRIORITY.edit, payload, articleVersion: version });
    }
    await this.o.outbox.enqueue(items);
    if (items.length)
      this.o.logger.info({ event: 'article.updated', article: article.id, edits: items.length }, `article ${article.url} changed; editing ${items.length} sent message(s)`);
    return items.length;
  }
}
