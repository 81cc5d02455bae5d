import type { Article } from '../articles/article.js';
import { foldTopic } from '../articles/fold.js';
import type { Logger } from '../log.js';
import type { Renderer } from '../render/renderer.js';
import type { OutboundMessage } from '../render/types.js';
import type { ArticleRepo } from '../store/articles.js';
import { DigestRaceError, type DigestRepo } from '../store/digests.js';
import type { DestinationRecord, DestinationRegistry } from './destinations.js';
import { dueSlot, nextSlot } from './digest-schedule.js';
import { PRIORITY, type Outbox } from './outbox.js';
import { quietHoursEnd } from './routes-file.js';

/**
 * Digests: a destination with `mode: digest` or `mode: both` collects the articles routed to it
 * (`collect`, called by routing), and at each of its `digest.at` times in TZ receives one message listing
 * the newest `digest.max` of those collected since its previous digest, a link each, rendered with
 * `templates/<platform>/digest.eta`, split to fit, and queued in the outbox like any post (so quiet hours,
 * /pause, pacing and retries apply). Nothing collected: nothing sent.
 *
 * Restart safety: every slot handled is a row of `digest_slots` keyed by (destination, slot), written in
 * the transaction that queues the digest's delivery, so a slot is never sent twice, even across a crash
 * between the two. At start (and at every minute tick) the latest due slot that is not recorded is sent if
 * it is less than `catchUpMs` (1 h) old; an older one is logged as missed and its articles wait for the
 * next slot. An editor's `/resumo` sends the next digest now (`sendNow`): its articles do not appear again.
 */

export interface DigestsOptions {
  repo: DigestRepo;
  outbox: Pick<Outbox, 'enqueue'>;
  destinations: Pick<DestinationRegistry, 'get'>;
  articles: Pick<ArticleRepo, 'get'>;
  renderer: Pick<Renderer, 'renderDigest'>;
  logger: Logger;
  /** TZ: digest times and quiet hours are read in it. */
  timeZone: string;
  /** Ids of the configured destinations that have digests. */
  targets: readonly string[];
  /** A due slot older than this is not sent late (default 1 h). */
  catchUpMs?: number;
  /** New work is in the outbox (the dispatcher's wake). */
  onQueued?: () => void;
  clock?: () => Date;
}

/** A digest as built, before it is queued: what `/resumo` previews and what a slot sends. */
export interface BuiltDigest {
  destination: DestinationRecord;
  /** The articles shown, newest first (at most `digest.max`). */
  articles: Article[];
  /** How many articles were waiting in all (the ones past `max` are left out). */
  waiting: number;
  /** The messages, fitted to the platform; empty when nothing was waiting. */
  payload: OutboundMessage[];
  /** Articles collected up to this instant belong to this digest. */
  cutoff: Date;
}

/** Whether a destination has digests (`mode: digest` or `both` with `digest.at`). */
export const hasDigests = (d: { options: DestinationRecord['options'] }): boolean =>
  (d.options.mode === 'digest' || d.options.mode === 'both') && !!d.options.digest?.at.length;

export class Digests {
  private readonly clock: () => Date;
  private readonly catchUpMs: number;
  /** The latest scheduled slot handled per destination (ms; null: none), read once from the database. */
  private readonly last = new Map<string, number | null>();

  constructor(private readonly o: DigestsOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.catchUpMs = o.catchUpMs ?? 3_600_000;
  }

  /** The configured destinations with digests. */
  get targets(): readonly string[] {
    return this.o.targets;
  }

  /**
   * Collects an article for a destination's next digest when the destination has digests and the
   * article is in its `digest.sections` (all sections when none). Returns whether it was collected.
   */
  async collect(article: Article, dest: DestinationRecord): Promise<boolean> {
    if (!hasDigests(dest)) return false;
    const sections = dest.options.digest?.sections;
    if (sections?.length) {
      const s = article.section ? foldTopic(article.section) : '';
      if (!sections.some((x) => foldTopic(x) === s)) return false;
    }
    await this.o.repo.collect(dest.id, article.id, this.clock());
    return true;
  }

  /** Builds the next digest of a destination from what waits now; null when it has no digests. */
  async build(destinationId: string, cutoff = this.clock()): Promise<BuiltDigest | null> {
    const dest = await this.o.destinations.get(destinationId);
    if (!dest || !hasDigests(dest)) return null;
    const settings = dest.options.digest!;
    const { items, total } = await this.o.repo.waiting(dest.id, cutoff, settings.max);
    const articles: Article[] = [];
    for (const i of items) {
      const a = await this.o.articles.get(i.articleId);
      if (a) articles.push(a);
    }
    const payload = articles.length
      ? this.o.renderer.renderDigest(articles, dest.platform, {
          ...(dest.options.locale ? { locale: dest.options.locale } : {}),
          ...(dest.options.utm !== undefined ? { utm: dest.options.utm } : {}),
          ...(settings.title ? { title: settings.title } : {}),
        })
      : [];
    return { destination: dest, articles, waiting: total, payload, cutoff };
  }

  /** When a destination's next scheduled digest is due, or null when it has none. */
  async next(destinationId: string): Promise<Date | null> {
    const dest = await this.o.destinations.get(destinationId);
    if (!dest || !hasDigests(dest)) return null;
    const at = nextSlot(dest.options.digest!.at, this.o.timeZone, this.clock().getTime());
    return at === null ? null : new Date(at);
  }

  /**
   * The clock's tick (and the check at start): for each destination with digests, sends the latest due
   * slot that was not handled yet, if it is recent enough. One destination's failure does not stop the others.
   */
  async tick(): Promise<number> {
    let queued = 0;
    for (const id of this.o.targets) {
      try {
        if (await this.runDue(id)) queued++;
      } catch (err) {
        this.o.logger.error({ event: 'digest.failed', destination: id, err: (err as Error).message }, `digest for ${id} failed: ${(err as Error).message}; the next minute tries again`);
      }
    }
    return queued;
  }

  private async lastHandled(id: string): Promise<number | null> {
    if (!this.last.has(id)) this.last.set(id, await this.o.repo.lastScheduled(id));
    return this.last.get(id)!;
  }

  private async runDue(id: string): Promise<boolean> {
    const dest = await this.o.destinations.get(id);
    if (!dest || dest.status === 'dead' || !hasDigests(dest)) return false;
    const now = this.clock();
    const due = dueSlot(dest.options.digest!.at, this.o.timeZone, now.getTime(), await this.lastHandled(id), this.catchUpMs);
    if (!due) return false;
    const slot = new Date(due.slot).toISOString();
    if (due.action === 'missed') {
      // Said once: the slot is recorded as handled, and its articles wait for the next one.
      await this.o.outbox.enqueue([], (trx) => this.o.repo.record(trx, { destinationId: id, slot, kind: 'scheduled', deliveryId: null, shown: [], cutoff: new Date(0), actor: null, at: now }));
      this.last.set(id, due.slot);
      const { total } = await this.o.repo.waiting(id, now, 1);
      if (total === 0) return false; // nothing was lost: not worth a warning
      this.o.logger.warn(
        { event: 'digest.missed', destination: id, slot, waiting: total },
        `the digest of ${slot} for ${id} was due more than ${Math.round(this.catchUpMs / 60_000)} min ago (Manchete was not running); not sent late, its ${total} articles go in the next digest`,
      );
      return false;
    }
    const sent = await this.queue(id, { kind: 'scheduled', slot, actor: null });
    this.last.set(id, due.slot);
    return sent !== null && sent.deliveryId !== null;
  }

  /**
   * Sends a destination's next digest now (an editor's `/resumo`), ahead of the queue and past quiet
   * hours, with the articles collected up to `cutoff` (what the editor previewed). Null when nothing waits.
   */
  async sendNow(destinationId: string, cutoff: Date, actor: string): Promise<{ deliveryId: number; articles: number } | null> {
    const r = await this.queue(destinationId, { kind: 'manual', slot: `manual:${this.clock().toISOString()}`, actor, cutoff });
    return r && r.deliveryId !== null ? { deliveryId: r.deliveryId, articles: r.articles } : null;
  }

  /** Builds, queues and records one digest (twice at most: once more if another digest took its articles first). */
  private async queue(
    destinationId: string,
    w: { kind: 'scheduled' | 'manual'; slot: string; actor: string | null; cutoff?: Date },
  ): Promise<{ deliveryId: number | null; articles: number } | null> {
    for (let attempt = 1; ; attempt++) {
      const built = await this.build(destinationId, w.cutoff ?? this.clock());
      if (!built) return null;
      const dest = built.destination;
      // An editor's digest with nothing in it is no digest: nothing to record either.
      if (w.kind === 'manual' && built.payload.length === 0) return null;
      const now = this.clock();
      const quiet = w.kind === 'scheduled' && dest.options.quietHours ? quietHoursEnd(dest.options.quietHours, now, this.o.timeZone) : null;
      const items = built.payload.length
        ? [{ articleId: null, destinationId: dest.id, kind: 'digest' as const, priority: w.kind === 'manual' ? PRIORITY.push : PRIORITY.article, payload: built.payload, ...(quiet ? { notBefore: quiet } : {}) }]
        : [];
      try {
        const ids = await this.o.outbox.enqueue(items, (trx, ids) =>
          this.o.repo.record(trx, {
            destinationId: dest.id,
            slot: w.slot,
            kind: w.kind,
            deliveryId: ids[0] ?? null,
            shown: built.articles.map((a) => a.id),
            cutoff: built.cutoff,
            actor: w.actor,
            at: now,
          }),
        );
        const deliveryId = ids[0] ?? null;
        if (deliveryId === null) {
          this.o.logger.info({ event: 'digest.empty', destination: dest.id, slot: w.slot }, `digest ${w.slot} for ${dest.id}: nothing was routed there since the last one; nothing sent`);
          return { deliveryId: null, articles: 0 };
        }
        this.o.logger.info(
          { event: 'digest.queued', destination: dest.id, slot: w.slot, kind: w.kind, articles: built.articles.length, waiting: built.waiting, messages: built.payload.length, id: deliveryId, ...(w.actor ? { actor: w.actor } : {}), ...(quiet ? { notBefore: quiet.toISOString() } : {}) },
          `digest ${w.slot} for ${dest.id}: ${built.articles.length} articles${built.waiting > built.articles.length ? ` (the newest of ${built.waiting})` : ''} queued${quiet ? `, held by quiet hours until ${quiet.toISOString()}` : ''}`,
        );
        this.o.onQueued?.();
        return { deliveryId, articles: built.articles.length };
      } catch (err) {
        if (err instanceof DigestRaceError && attempt < 2) continue;
        // The slot's row is there already: another check (or process) handled it. Nothing is queued twice.
        if (w.kind === 'scheduled' && !(err instanceof DigestRaceError) && (await this.o.repo.handled(dest.id, w.slot))) return null;
        throw err;
      }
    }
  }
}
