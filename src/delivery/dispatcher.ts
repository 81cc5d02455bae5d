import type { Logger } from '../log.js';
import type { OutboundMessage, Platform } from '../render/types.js';
import type { DestinationRegistry, DestinationRecord } from './destinations.js';
import type { DeliveryRow, Outbox, QueueEntry } from './outbox.js';
import { PRIORITY } from './outbox.js';
import type { Pacer } from './pacer.js';
import { PlatformSendError, type PlatformSender } from './types.js';

/**
 * The dispatcher drains the outbox: it takes pending deliveries in priority order, waits for each
 * platform's pacing, sends through the platform adapter, and records every outcome on the row.
 *
 * - One chat receives its posts in order: a chat's next row waits until the previous one is done.
 * - Failures are classified by the adapter (PlatformSendError.kind); this is the only place that decides
 *   what to do about them: wait, back off, follow a migration, or give a destination up.
 * - Nothing is dropped silently: every delivery ends `sent`, `failed` or `dead` with its reason, and a log line.
 */

export interface DispatcherOptions {
  outbox: Outbox;
  destinations: DestinationRegistry;
  senders: Partial<Record<Platform, { sender: PlatformSender; pacer: Pacer }>>;
  logger: Logger;
  /** Attempts before a delivery is `failed` (transient errors only). */
  maxAttempts: number;
  /** Sends in flight at once, over all chats. */
  concurrency?: number;
  /** A platform call that takes longer than this counts as a timeout (transient). */
  sendTimeoutMs?: number;
  /** Rows read from the outbox per look. */
  windowSize?: number;
  /** Called when a destination is gone (the commands layer deactivates private subscribers). */
  onDestinationGone?: (dest: DestinationRecord, reason: string) => void | Promise<void>;
  /** Called after each delivery reaches a final state (push progress, metrics). */
  onSettled?: (row: DeliveryRow, status: 'sent' | 'failed' | 'dead', detail: string | null) => void;
  /** While true, only priority work (pushes, replies) is sent: the editors' /pause. */
  isPaused?: () => boolean | Promise<boolean>;
  clock?: () => number;
  random?: () => number;
  /** Identifies this process's claims (several instances may share a PostgreSQL outbox). */
  holder?: string;
  /** First retry wait after a transient error; doubles per attempt up to 10 min. Default 2 s. */
  backoffBaseMs?: number;
  /**
   * At start, take back every row left `sending`, whoever claimed it. Right when this process is the only
   * sender (SQLite); with a shared PostgreSQL outbox, leave it off so only expired claims are taken back.
   */
  soleSender?: boolean;
}

export interface DispatcherStats {
  sent: number;
  failed: number;
  dead: number;
  retried: number;
  rateLimited: number;
  inFlight: number;
}

const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 10 * 60_000;

/** Exponential backoff with full jitter in [50%, 100%] of the step: 2 s, 4 s, 8 s … capped at 10 min. */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = BASE_BACKOFF_MS): number {
  const step = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + random() * 0.5));
}

export class Dispatcher {
  readonly stats: DispatcherStats = { sent: 0, failed: 0, dead: 0, retried: 0, rateLimited: 0, inFlight: 0 };
  private isRunning = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  /** The head of the queue as last read; claimed rows leave it. Re-read when new work may exist. */
  private queue: QueueEntry[] = [];
  private queueDirty = true;
  private queueReadAt = 0;
  private readonly busyChats = new Set<string>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly opts: Required<
    Pick<DispatcherOptions, 'concurrency' | 'sendTimeoutMs' | 'windowSize' | 'clock' | 'random' | 'holder' | 'backoffBaseMs'>
  > &
    DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = {
      concurrency: 32,
      sendTimeoutMs: 30_000,
      windowSize: 500,
      clock: Date.now,
      random: Math.random,
      holder: `pid-${process.pid}`,
      backoffBaseMs: BASE_BACKOFF_MS,
      ...opts,
    };
  }

  /** False before start, after stop, and if the loop died on an unexpected error (health turns red). */
  get running(): boolean {
    return this.isRunning;
  }

  /** Starts draining. Rows left `sending` by a crashed process are put back first. */
  async start(): Promise<void> {
    if (this.isRunning) return;
    const recovered = await this.opts.outbox.recover(this.opts.soleSender === false ? this.opts.holder : null);
    if (recovered > 0)
      this.opts.logger.warn({ event: 'outbox.recovered', count: recovered }, `resuming ${recovered} deliveries interrupted by the last stop`);
    this.isRunning = true;
    this.loopDone = this.loop().catch((err: unknown) => {
      this.opts.logger.error({ event: 'dispatcher.crashed', err }, 'the dispatcher stopped on an unexpected error');
      this.isRunning = false;
    });
  }

  /** New work was queued: read the outbox now instead of at the next timer. */
  wake(): void {
    this.queueDirty = true;
    this.kick();
  }

  /** Something changed in memory (a send finished): look at the queue again without re-reading it. */
  private kick(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /**
   * Stops taking new work and waits up to `graceMs` for sends in flight. Rows still in flight after that
   * stay `sending` and are resumed at the next start.
   */
  async stop(graceMs: number): Promise<{ unfinished: number }> {
    this.isRunning = false;
    this.wake();
    await this.loopDone;
    const all = Promise.allSettled([...this.inFlight.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    return { unfinished: this.inFlight.size };
  }

  /** Resolves once the outbox has no pending or in-flight rows that are due (for tests and the CLI). */
  async idle(pollMs = 20): Promise<void> {
    for (;;) {
      const rows = await this.opts.outbox.window(1);
      if (rows.length === 0 && this.inFlight.size === 0) return;
      this.queueDirty = true;
      await sleep(pollMs);
    }
  }

  private async loop(): Promise<void> {
    while (this.isRunning) {
      const waitMs = await this.pass();
      if (!this.isRunning) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wakeUp = null;
          resolve();
        }, Math.max(1, Math.min(waitMs, 5_000)));
        this.wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** One look at the outbox: launches every send that may go now; returns how long until the next may. */
  private async pass(): Promise<number> {
    const { outbox, senders, concurrency } = this.opts;
    // Re-read when told there is new work, when a retry was scheduled, when the window ran low, and at
    // least every few seconds (another instance or the CLI may have queued work).
    const nowMs = this.opts.clock();
    if (this.queueDirty || this.queue.length < this.opts.windowSize / 4 || nowMs - this.queueReadAt > 5_000) {
      this.queueDirty = false;
      this.queueReadAt = nowMs;
      const size = this.opts.windowSize + this.inFlight.size;
      let rows = await outbox.window(size);
      // A full window held by few chats (one platform down, one channel at its limit) would hide every
      // other chat's posts behind it: then read each chat's first rows instead.
      if (rows.length >= size && new Set(rows.map((r) => r.destination_id)).size < size / 4) {
        const seen = new Set(rows.map((r) => r.id));
        rows = [...rows, ...(await outbox.heads(size)).filter((r) => !seen.has(r.id))].sort((a, b) => b.priority - a.priority || a.id - b.id);
      }
      this.queue = rows.filter((r) => !this.inFlight.has(r.id));
    }
    const rows = this.queue;
    if (rows.length === 0) return 1_000;
    const paused = this.opts.isPaused ? await this.opts.isPaused() : false;
    const now = this.opts.clock();
    const blockedChats = new Set<string>();
    const taken = new Set<number>();
    let nextWake = 1_000;
    for (const row of rows) {
      if (!this.isRunning || this.inFlight.size >= concurrency) {
        nextWake = Math.min(nextWake, 5);
        break;
      }
      const dest = await this.opts.destinations.get(row.destination_id);
      if (!dest || dest.status === 'dead') {
        taken.add(row.id);
        const full = await outbox.get(row.id);
        if (full?.status !== 'pending') continue;
        if (!dest) await this.settle(full, 'failed', `destination ${row.destination_id} is not configured any more`);
        else await this.settle(full, 'dead', `destination ${dest.id} is dead: ${dest.statusReason ?? 'gone'}`);
        continue;
      }
      const chatKey = `${dest.platform}:${dest.chatId}`;
      // Order per chat: only the oldest pending row of a chat may go.
      if (blockedChats.has(chatKey) || this.busyChats.has(chatKey)) continue;
      blockedChats.add(chatKey);
      if (paused && row.priority < PRIORITY.edit) continue;
      const due = Date.parse(row.next_attempt_at) - now;
      if (due > 0) {
        nextWake = Math.min(nextWake, due);
        continue;
      }
      const platform = senders[dest.platform];
      if (!platform) continue; // that platform is not enabled in this process
      if (!platform.sender.ready()) {
        nextWake = Math.min(nextWake, 1_000);
        continue;
      }
      const wait = platform.pacer.waitFor(dest, now, row.kind);
      if (wait > 0) {
        nextWake = Math.min(nextWake, wait);
        continue;
      }
      taken.add(row.id);
      if (!(await outbox.claim(row.id, this.opts.holder, this.opts.sendTimeoutMs * 4 + 60_000))) continue;
      const full = await outbox.get(row.id);
      if (!full) continue;
      platform.pacer.reserve(dest, now, row.kind);
      this.busyChats.add(chatKey);
      this.stats.inFlight++;
      const p = this.deliver(full, dest, platform)
        .catch((err: unknown) => this.opts.logger.error({ event: 'delivery.crashed', id: row.id, err }, 'delivery handling failed'))
        .finally(() => {
          this.busyChats.delete(chatKey);
          this.inFlight.delete(row.id);
          this.stats.inFlight--;
          this.kick();
        });
      this.inFlight.set(row.id, p);
    }
    if (taken.size) this.queue = this.queue.filter((r) => !taken.has(r.id));
    return nextWake;
  }

  private async deliver(row: DeliveryRow, dest: DestinationRecord, platform: { sender: PlatformSender; pacer: Pacer }): Promise<void> {
    const { outbox, logger } = this.opts;
    const payload = JSON.parse(row.payload) as OutboundMessage[];
    const done: string[] = row.message_ids ? (JSON.parse(row.message_ids) as string[]) : [];
    const editTargets = row.kind === 'edit' ? await this.editTargets(row) : [];
    const notes: string[] = [];
    let target: DestinationRecord = dest;
    const start = done.length;
    try {
      for (let i = start; i < payload.length; i++) {
        const msg = payload[i]!;
        // The first message's slot was reserved when the row was claimed; later parts wait for theirs.
        if (i > start) await this.paceNext(target, platform.pacer, row.kind);
        if (row.kind === 'edit') {
          const messageId = editTargets[i];
          if (!messageId) {
            notes.push(`part ${i + 1} had no sent message to edit`);
            done.push('');
            continue;
          }
          await withTimeout(platform.sender.edit(target, messageId, msg), this.opts.sendTimeoutMs, `${target.id} edit`);
          done.push(messageId);
        } else {
          const sent = await this.sendFollowingMigrations(target, msg, platform.sender, (d) => (target = d));
          if (sent.degraded) {
            const what = sent.degraded === 'plain_text' ? 'Telegram refused the HTML: sent as plain text; check the template' : 'the image was refused: sent as text with a link preview';
            notes.push(what);
            logger.warn({ event: 'delivery.degraded', id: row.id, destination: dest.id, degraded: sent.degraded, template: true }, what);
          }
          done.push(sent.messageId);
        }
        if (i < payload.length - 1) await outbox.recordProgress(row.id, done);
      }
      await outbox.markSent(row.id, done, notes.length ? notes.join('; ') : null);
      this.stats.sent++;
      logger.info({ event: 'delivery.sent', id: row.id, kind: row.kind, article: row.article_id, destination: dest.id, messages: done.length }, `sent to ${dest.id}`);
      this.opts.onSettled?.(row, 'sent', null);
    } catch (err) {
      if (done.length > start) await outbox.recordProgress(row.id, done);
      await this.handleFailure(row, target, platform.pacer, err);
    }
  }

  /** A 400 with migrate_to_chat_id: the group became a supergroup. Follow it (at most twice) and resend. */
  private async sendFollowingMigrations(
    dest: DestinationRecord,
    msg: OutboundMessage,
    sender: PlatformSender,
    moved: (d: DestinationRecord) => void,
  ) {
    let target = dest;
    for (let hop = 0; ; hop++) {
      try {
        return await withTimeout(sender.send(target, msg), this.opts.sendTimeoutMs, `${target.id} send`);
      } catch (err) {
        if (err instanceof PlatformSendError && err.kind === 'migrated' && err.details.migrateTo && hop < 2) {
          this.opts.logger.warn(
            { event: 'destination.migrated', destination: target.id, from: target.chatId, to: err.details.migrateTo },
            `${target.id} moved to chat ${err.details.migrateTo}; following it`,
          );
          await this.opts.destinations.migrate(target.id, err.details.migrateTo);
          target = { ...target, chatId: err.details.migrateTo };
          moved(target);
          continue;
        }
        throw err;
      }
    }
  }

  private async paceNext(dest: DestinationRecord, pacer: Pacer, kind: DeliveryRow['kind']): Promise<void> {
    for (;;) {
      const now = this.opts.clock();
      const wait = pacer.waitFor(dest, now, kind);
      if (wait <= 0) {
        pacer.reserve(dest, now, kind);
        return;
      }
      await sleep(wait);
    }
  }

  private async editTargets(row: DeliveryRow): Promise<string[]> {
    if (!row.article_id) return [];
    const sent = await this.opts.outbox.sentFor(row.article_id, new Date(0));
    const original = sent.find((s) => s.destination_id === row.destination_id);
    return original?.message_ids ? (JSON.parse(original.message_ids) as string[]) : [];
  }

  private async handleFailure(row: DeliveryRow, dest: DestinationRecord, pacer: Pacer, err: unknown): Promise<void> {
    const { outbox, logger, maxAttempts } = this.opts;
    const e = err instanceof PlatformSendError ? err : new PlatformSendError('transient', errorText(err));
    const now = this.opts.clock();
    const attempt = row.attempts + 1;
    // The row (or its chat's rows) changed in the database: read the queue again next time.
    this.queueDirty = true;
    switch (e.kind) {
      case 'rate_limited': {
        const wait = e.details.retryAfterMs ?? 5_000;
        pacer.pauseChat(dest.chatId, now + wait);
        this.stats.rateLimited++;
        logger.warn({ event: 'delivery.rate_limited', id: row.id, destination: dest.id, retryAfterMs: wait }, `${dest.id}: too many requests; retrying in ${Math.ceil(wait / 1000)} s`);
        await outbox.retryAt(row.id, new Date(now + wait), e.message, false);
        return;
      }
      case 'restricted': {
        const wait = e.details.retryAfterMs ?? 10 * 60_000;
        pacer.pauseAll(now + wait);
        logger.error({ event: 'delivery.restricted', id: row.id, destination: dest.id, retryAfterMs: wait }, `${dest.platform} account is restricted; sending paused for ${Math.ceil(wait / 60_000)} min`);
        await outbox.retryAt(row.id, new Date(now + wait), e.message, false);
        return;
      }
      case 'gone': {
        const reason = e.message;
        await this.opts.destinations.markDead(dest.id, reason);
        const killed = await outbox.killDestination(dest.id, reason);
        this.stats.dead += 1;
        logger.error(
          { event: 'destination.dead', destination: dest.id, reason, deliveries: killed + 1 },
          `DESTINATION GONE: ${dest.id}: ${reason}; stopped sending to it (${killed + 1} deliveries marked dead)`,
        );
        await outbox.finish(row.id, 'dead', reason);
        this.opts.onSettled?.(row, 'dead', reason);
        await this.opts.onDestinationGone?.(dest, reason);
        return;
      }
      case 'transient':
      case 'migrated': {
        if (attempt >= maxAttempts) {
          await outbox.finish(row.id, 'failed', `${e.message} (gave up after ${attempt} attempts)`);
          this.stats.failed++;
          logger.error({ event: 'delivery.failed', id: row.id, destination: dest.id, attempts: attempt, reason: e.message }, `delivery ${row.id} to ${dest.id} failed after ${attempt} attempts: ${e.message}`);
          this.opts.onSettled?.(row, 'failed', e.message);
          return;
        }
        const wait = backoffMs(attempt, this.opts.random, this.opts.backoffBaseMs);
        this.stats.retried++;
        logger.warn({ event: 'delivery.retry', id: row.id, destination: dest.id, attempt, retryInMs: wait, reason: e.message }, `${dest.id}: ${e.message}; retrying in ${Math.ceil(wait / 1000)} s (attempt ${attempt} of ${maxAttempts})`);
        await outbox.retryAt(row.id, new Date(now + wait), e.message, true);
        return;
      }
      case 'permanent': {
        await outbox.finish(row.id, 'failed', e.message);
        this.stats.failed++;
        logger.error({ event: 'delivery.failed', id: row.id, destination: dest.id, reason: e.message, code: e.details.code }, `delivery ${row.id} to ${dest.id} failed: ${e.message}`);
        this.opts.onSettled?.(row, 'failed', e.message);
        return;
      }
    }
  }

  private async settle(row: DeliveryRow, status: 'failed' | 'dead', reason: string): Promise<void> {
    await this.opts.outbox.finish(row.id, status, reason);
    if (status === 'failed') this.stats.failed++;
    this.opts.logger.warn({ event: `delivery.${status}`, id: row.id, destination: row.destination_id, reason }, reason);
    this.opts.onSettled?.(row, status, reason);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PlatformSendError('transient', `${what} did not answer within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
