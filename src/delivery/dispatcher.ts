import type { Logger } from '../log.js';
import type { OutboundMessage, Platform } from '../render/types.js';
import type { DestinationRegistry, DestinationRecord } from './destinations.js';
import type { DeliveryRow, Outbox, QueueEntry, SentRecord } from './outbox.js';
import { PRIORITY } from './outbox.js';
import type { Pacer } from './pacer.js';
import { PlatformSendError, type PlatformSender, type SentMessage } from './types.js';
import { backoffMs as backoff, RETRY_BACKOFF } from '../lib/backoff.js';
import { makeInstanceId } from '../lib/instance.js';
import { Breaker, type BreakerEvent, type BreakerOptions, type BreakerSnapshot } from './breaker.js';
import { decideFailure, MAX_MIGRATION_HOPS, storeErrorCode, storeErrorMeaning, type FailureDecision } from './policy.js';

/**
 * The dispatcher drains the outbox: it takes pending deliveries in priority order, waits for each
 * platform's pacing, sends through the platform adapter, and records every outcome on the row.
 *
 * - One chat receives its posts in order: a chat's next row waits until the previous one is done.
 * - Failures are classified by the adapter (PlatformSendError.kind); `policy.ts` decides what to do about
 *   them (wait, back off, hold, follow a migration, give a destination up) and this class carries it out.
 * - A breaker per platform (`breaker.ts`) stops sending while the platform is down, without spending
 *   attempts, and sends one probe now and then; the first answered probe resumes sending.
 * - It never dies of an error: a pass that throws (the database busy, gone, full or read-only) is logged
 *   with its code and retried with backoff; an outcome that could not be written is kept in memory, its
 *   chat held, and written when the database is back.
 * - Nothing is dropped silently: every delivery ends `sent`, `failed` or `dead` with its reason, and a log line.
 */

export interface DispatcherOptions {
  outbox: Outbox;
  destinations: DestinationRegistry;
  senders: Partial<Record<Platform, { sender: PlatformSender; pacer: Pacer }>>;
  logger: Logger;
  /** Attempts before a delivery is `failed` (transient errors only). */
  maxAttempts: number;
  /** Sends in flight at once (waiting for their pacing slot or for the platform's answer), over all chats. Default 64. */
  concurrency?: number;
  /** A platform call that takes longer than this counts as a timeout (transient). */
  sendTimeoutMs?: number;
  /** Rows read from the outbox per look. */
  windowSize?: number;
  /** Called when a destination is gone (the commands layer deactivates private subscribers). */
  onDestinationGone?: (dest: DestinationRecord, reason: string) => void | Promise<void>;
  /** Called after each delivery reaches a final state (push progress, metrics). */
  onSettled?: (row: DeliveryRow, status: 'sent' | 'failed' | 'dead', detail: string | null) => void;
  /**
   * How long (ms) a row that is otherwise ready must still wait; 0 when it may go. The hourly caps
   * (delivery/caps.ts) hold a capped destination's next article here; the row stays at the head of its chat.
   */
  holdFor?: (row: QueueEntry, dest: DestinationRecord, now: number) => number;
  /** While true, only priority work (pushes, replies) is sent: the editors' /pause. */
  isPaused?: () => boolean | Promise<boolean>;
  clock?: () => number;
  random?: () => number;
  /** Identifies this process's claims (several instances may share a PostgreSQL outbox). */
  holder?: string;
  /** First retry wait after a transient error; doubles per attempt up to 10 min. Default 2 s. */
  backoffBaseMs?: number;
  /** The platform breakers' thresholds and probe timings (tests shorten them). */
  breaker?: BreakerOptions;
  /** First wait after a pass failed (the database); doubles up to `passBackoffCapMs`. Default 1 s. */
  passBackoffBaseMs?: number;
  /** Default 30 s. */
  passBackoffCapMs?: number;
  /** Sends recorded together in one write, at most this many (default 64)… */
  sentBatchSize?: number;
  /** …and waiting at most this long for company (default 2 ms). A crash may repeat these too (see outbox.ts). */
  sentBatchMs?: number;
  /**
   * At start, take back every row left `sending`, whoever claimed it. Right when this process is the only
   * sender (SQLite); with a shared PostgreSQL outbox, leave it off so only expired claims are taken back.
   */
  soleSender?: boolean;
  /** How long a claim on a row lasts without renewal (INSTANCE_LEASE with several instances). Default sendTimeoutMs × 4 + 60 s. */
  claimLeaseMs?: number;
  /**
   * With several instances: may this one send to the chat now? (store/chat-leases.ts: one owner per chat,
   * so Telegram's per-chat limits and the chat's order hold across instances.) Absent: always.
   */
  chats?: { hold(chat: { platform: string; chatId: string }): Promise<boolean> };
}

export interface DispatcherStats {
  sent: number;
  failed: number;
  dead: number;
  retried: number;
  rateLimited: number;
  /** Failures held without spending an attempt because their platform was down. */
  held: number;
  /** Passes that failed on an error (the database) since start. */
  passFailures: number;
  inFlight: number;
}

/** Why the dispatcher cannot work right now: the store error its passes keep hitting. */
export interface DispatcherFault {
  code: string;
  /** A few words for the operator: `the database is read-only`. */
  meaning: string;
  message: string;
  /** When the first of the failing passes happened (ms since the epoch). */
  since: number;
  /** Passes failed in a row. */
  failures: number;
}

/** Delivery retry backoff: 2 s doubling to 10 min, jitter in [50 %, 100 %] (kept for callers of the old name). */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = RETRY_BACKOFF.baseMs): number {
  return backoff(attempt, { baseMs, capMs: RETRY_BACKOFF.capMs }, random);
}

export class Dispatcher {
  readonly stats: DispatcherStats = { sent: 0, failed: 0, dead: 0, retried: 0, rateLimited: 0, held: 0, passFailures: 0, inFlight: 0 };
  private isRunning = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  /** The head of the queue as last read; claimed rows leave it. Re-read when new work may exist. */
  private queue: QueueEntry[] = [];
  private queueDirty = true;
  private queueReadAt = 0;
  /** The last read returned fewer rows than it asked for: the queue held every pending row there was. */
  private queueComplete = false;
  private readonly busyChats = new Set<string>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly breakerFor = new Map<string, Breaker>();
  /** Rows in flight as their platform's probe. */
  private readonly probeRows = new Set<number>();
  /** Outcomes the store refused, in order, with the chat each holds back until it is written. */
  private readonly unrecorded: { chatKey: string; id: number; write: () => Promise<void> }[] = [];
  private readonly heldChats = new Map<string, number>();
  private fault_: DispatcherFault | null = null;
  /** Sends answered, waiting to be written together (one UPDATE for many rows). */
  private readonly sentWrites: WriteBatch<SentRecord>;
  /** Rows launched and not yet answered by their platform (what `concurrency` bounds). */
  private active = 0;
  /** The last pass left rows that a finished send could release (see `kick`). */
  private kickUseful = true;
  private progressAt = 0;
  private progressSent = 0;
  private readonly opts: Required<
    Pick<
      DispatcherOptions,
      'concurrency' | 'sendTimeoutMs' | 'windowSize' | 'clock' | 'random' | 'holder' | 'backoffBaseMs' | 'passBackoffBaseMs' | 'passBackoffCapMs'
    >
  > &
    DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = {
      concurrency: 64,
      sendTimeoutMs: 30_000,
      windowSize: 500,
      clock: Date.now,
      random: Math.random,
      holder: makeInstanceId().id,
      backoffBaseMs: RETRY_BACKOFF.baseMs,
      passBackoffBaseMs: 1_000,
      passBackoffCapMs: 30_000,
      ...opts,
    };
    this.sentWrites = new WriteBatch((items) => this.opts.outbox.markSentMany(items), this.opts.sentBatchSize ?? 64, this.opts.sentBatchMs ?? 2);
    for (const platform of Object.keys(opts.senders)) this.breakerFor.set(platform, new Breaker(platform, opts.breaker, this.opts.random));
  }

  /** False before start and after stop (health turns red). */
  get running(): boolean {
    return this.isRunning;
  }

  /** The store error the last passes failed on, or null while passes succeed. */
  get fault(): DispatcherFault | null {
    return this.fault_;
  }

  /** Each enabled platform's breaker, for /health, /metrics and /status. */
  breakers(): Record<string, BreakerSnapshot> {
    return Object.fromEntries([...this.breakerFor].map(([p, b]) => [p, b.snapshot()]));
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
    this.wakeUp?.();
  }

  /**
   * Something changed in memory (a send finished): look at the queue again without re-reading it. Only
   * when the last pass was held back by what a finished send frees (a concurrency slot, a busy chat):
   * otherwise nothing could go sooner than the pass's own timer, and at 1000 answers a second a pass per
   * answer over a 500-row window would be most of the process's work.
   */
  private kick(): void {
    if (this.kickUseful) this.wakeUp?.();
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
      let waitMs: number;
      let failing = false;
      try {
        await this.flushUnrecorded();
        waitMs = Math.min(await this.pass(), 5_000);
        if (this.fault_) await this.recovered();
      } catch (err) {
        failing = true;
        waitMs = this.passFailed(err);
      }
      if (!this.isRunning) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.wakeUp = null;
          resolve();
        };
        const t = setTimeout(done, Math.max(1, waitMs));
        // While the store fails, only stop() cuts the backoff short: finished sends must not hammer it.
        this.wakeUp = () => {
          if (!failing || !this.isRunning) done();
        };
      });
    }
  }

  /** A pass threw: log it with its class, remember it for /health, and wait (1 s doubling to 30 s). */
  private passFailed(err: unknown): number {
    const now = this.opts.clock();
    const code = storeErrorCode(err);
    const meaning = storeErrorMeaning(code);
    const message = errorText(err);
    const failures = (this.fault_?.failures ?? 0) + 1;
    this.fault_ = { code, meaning, message, since: this.fault_?.since ?? now, failures };
    this.stats.passFailures++;
    this.queueDirty = true;
    const wait = backoff(failures, { baseMs: this.opts.passBackoffBaseMs, capMs: this.opts.passBackoffCapMs }, this.opts.random);
    const log = { event: 'dispatcher.pass_failed', code, failures, retryInMs: wait, err: message };
    const line = `cannot read or write the outbox (${code}: ${meaning}); sending waits and retries in ${Math.ceil(wait / 1000)} s`;
    if (failures === 1 || failures % 10 === 0) this.opts.logger.error(log, line);
    else this.opts.logger.warn(log, line);
    return wait;
  }

  /** At most every 10 s while sending: one info line with what went out since the last one. */
  private progress(): void {
    const now = this.opts.clock();
    if (now - this.progressAt < PROGRESS_EVERY_MS) return;
    const sent = this.stats.sent - this.progressSent;
    if (sent > 0 && this.progressAt > 0) {
      const seconds = (now - this.progressAt) / 1000;
      this.opts.logger.info(
        { event: 'dispatcher.progress', sent, perSecond: Math.round(sent / seconds), inFlight: this.inFlight.size, failed: this.stats.failed, dead: this.stats.dead },
        `sent ${sent} deliveries in the last ${Math.round(seconds)} s (${Math.round(sent / seconds)}/s)`,
      );
    }
    this.progressAt = now;
    this.progressSent = this.stats.sent;
  }

  /** The first pass after failures went through: say so, and take back claims this process lost track of. */
  private async recovered(): Promise<void> {
    const fault = this.fault_!;
    this.fault_ = null;
    const released = await this.opts.outbox.releaseClaims(this.opts.holder, [...this.inFlight.keys(), ...this.unrecorded.map((u) => u.id)]);
    this.queueDirty = true;
    this.opts.logger.info(
      { event: 'dispatcher.pass_recovered', code: fault.code, failures: fault.failures, downMs: this.opts.clock() - fault.since, released },
      `the outbox answers again after ${fault.failures} failed passes (${fault.code}); sending resumes`,
    );
  }

  /** Writes the outcomes the store refused earlier, in order; throws (failing the pass) while it still refuses. */
  private async flushUnrecorded(): Promise<void> {
    while (this.unrecorded.length) {
      const u = this.unrecorded[0]!;
      await u.write();
      this.unrecorded.shift();
      const n = (this.heldChats.get(u.chatKey) ?? 1) - 1;
      if (n <= 0) this.heldChats.delete(u.chatKey);
      else this.heldChats.set(u.chatKey, n);
      this.queueDirty = true;
    }
  }

  /**
   * Writes one outcome. When the store refuses, the outcome is kept (and written before the next pass)
   * and the chat is held so its next row cannot overtake this one.
   */
  private async record(chatKey: string, id: number, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      const code = storeErrorCode(err);
      this.unrecorded.push({ chatKey, id, write });
      this.heldChats.set(chatKey, (this.heldChats.get(chatKey) ?? 0) + 1);
      this.opts.logger.error(
        { event: 'delivery.unrecorded', id, code, err: errorText(err) },
        `delivery ${id}: could not record its outcome (${code}: ${storeErrorMeaning(code)}); kept in memory until the database answers`,
      );
    }
  }

  private breakerOf(platform: string): Breaker {
    let b = this.breakerFor.get(platform);
    if (!b) this.breakerFor.set(platform, (b = new Breaker(platform, this.opts.breaker, this.opts.random)));
    return b;
  }

  private logBreaker(platform: string, ev: BreakerEvent): void {
    const { logger } = this.opts;
    switch (ev.event) {
      case 'breaker.open':
        logger.error(
          { ...ev, platform, probeInMs: ev.nextProbeAt - this.opts.clock() },
          `${platform} looks down (${ev.chats.length} chats failed: ${ev.reason}); sending paused without spending attempts, probing with backoff`,
        );
        return;
      case 'breaker.probe':
        (ev.outcome === 'sent' ? logger.info.bind(logger) : logger.warn.bind(logger))(
          { ...ev, platform },
          ev.outcome === 'sent' ? `${platform} probe went through` : `${platform} probe failed (${ev.reason}); next probe in ${Math.ceil(((ev.nextProbeAt ?? 0) - this.opts.clock()) / 1000)} s`,
        );
        return;
      case 'breaker.closed':
        logger.info({ ...ev, platform }, `${platform} is back after ${Math.round(ev.downMs / 1000)} s; sending resumes`);
        this.wake();
        return;
    }
  }

  /** One look at the outbox: launches every send that may go now; returns how long until the next may. */
  private async pass(): Promise<number> {
    const { outbox, senders, concurrency } = this.opts;
    this.progress();
    // Re-read when told there is new work, when a retry was scheduled, when the window ran low while more
    // rows wait behind it or ran out, and at least every few seconds (another instance or the CLI may have
    // queued work): every 250 ms when the last read held the whole queue (it is small then). Not at every
    // answer while the rows of a complete read are still being taken: at the end of a fan-out that read
    // the same hundred rows again a hundred times.
    const nowMs = this.opts.clock();
    const age = nowMs - this.queueReadAt;
    const low = this.queue.length < this.opts.windowSize / 4;
    if (this.queueDirty || this.queue.length === 0 || (low && !this.queueComplete) || age > (this.queueComplete ? 250 : 5_000)) {
      this.queueDirty = false;
      this.queueReadAt = nowMs;
      const size = this.opts.windowSize + this.inFlight.size;
      let rows = await outbox.window(size);
      this.queueComplete = rows.length < size;
      // A full window held by few chats (one platform down, one channel at its limit) would hide every
      // other chat's posts behind it: then read each chat's first rows instead.
      if (rows.length >= size && new Set(rows.map((r) => r.destination_id)).size < size / 4) {
        const seen = new Set(rows.map((r) => r.id));
        rows = [...rows, ...(await outbox.heads(size)).filter((r) => !seen.has(r.id))].sort((a, b) => b.priority - a.priority || a.id - b.id);
      }
      this.queue = rows.filter((r) => !this.inFlight.has(r.id));
      // One read for the window's destinations not in memory yet, instead of one per row.
      await this.opts.destinations.prefetch(this.queue.map((r) => r.destination_id));
    }
    const rows = this.queue;
    if (rows.length === 0) return 1_000;
    const paused = this.opts.isPaused ? await this.opts.isPaused() : false;
    const now = this.opts.clock();
    const blockedChats = new Set<string>();
    const taken = new Set<number>();
    const picked: Candidate[] = [];
    // Rows waiting for their slot or for Telegram's answer count; rows only waiting for their record write do not.
    const free = concurrency - this.active;
    // With most slots busy, wait for a few more to free up (each answer kicks a pass): one claim query
    // for several rows instead of one per answer.
    if (free < Math.min(minClaim(concurrency), concurrency) && this.active > 0) {
      this.kickUseful = true;
      return 1_000;
    }
    let heldBySend = false;
    const blockedLines = new Set<string>();
    let nextWake = 1_000;
    for (const row of rows) {
      if (!this.isRunning || picked.length >= free) {
        heldBySend = true;
        nextWake = Math.min(nextWake, 5);
        break;
      }
      const dest = this.opts.destinations.cached(row.destination_id) ?? (await this.opts.destinations.get(row.destination_id));
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
      if (blockedChats.has(chatKey)) continue;
      if (this.busyChats.has(chatKey) || this.heldChats.has(chatKey)) {
        heldBySend = true;
        blockedChats.add(chatKey);
        continue;
      }
      blockedChats.add(chatKey);
      if (paused && row.priority < PRIORITY.edit) continue;
      const platform = senders[dest.platform];
      if (!platform) continue; // that platform is not enabled in this process
      // The platform is down: nothing goes but one probe at a time, the oldest row whose chat may send.
      const breaker = this.breakerOf(dest.platform);
      const probe = !breaker.closed;
      if (probe && !breaker.mayProbe(now)) {
        nextWake = Math.min(nextWake, Math.max(5, breaker.probeIn(now)));
        continue;
      }
      const due = Date.parse(row.next_attempt_at) - now;
      if (due > 0 && !probe) {
        nextWake = Math.min(nextWake, due);
        continue;
      }
      const held = this.opts.holdFor?.(row, dest, now) ?? 0;
      if (held > 0) {
        nextWake = Math.min(nextWake, held);
        continue;
      }
      if (!platform.sender.ready()) {
        nextWake = Math.min(nextWake, 1_000);
        continue;
      }
      // A send whose slot comes within the look-ahead is taken now and waits for its slot, so one claim
      // query serves many sends at a fast pace (1000/s is a slot a millisecond). A probe goes only now.
      const line = `${dest.platform}:${platform.pacer.lineOf(dest, row.kind)}`;
      if (blockedLines.has(line)) continue;
      const ahead = probe ? 0 : LOOKAHEAD_MS;
      const wait = platform.pacer.waitFor(dest, now, row.kind);
      if (wait > ahead) {
        // Every other chat on this line waits as long: skip them without asking (a window is 500 rows),
        // and look again when half the look-ahead is used up, not at every slot (1 ms apart at 1000/s).
        if (platform.pacer.lineWait(dest, now, row.kind) > ahead) {
          blockedLines.add(line);
          nextWake = Math.min(nextWake, Math.max(wait - ahead, ahead / 2));
        } else nextWake = Math.min(nextWake, wait - ahead);
        continue;
      }
      // With several instances, only the chat's owner sends to it (store/chat-leases.ts).
      if (this.opts.chats && !(await this.opts.chats.hold(dest))) continue;
      const slot = now + platform.pacer.reserve(dest, now, row.kind);
      taken.add(row.id);
      if (probe) breaker.probeStarted();
      this.busyChats.add(chatKey);
      picked.push({ row, dest, platform, chatKey, probe, slot });
    }
    if (taken.size) this.queue = this.queue.filter((r) => !taken.has(r.id));
    // A store failure, a probe, a platform not ready: any other pass outcome keeps kicks on, to be safe.
    this.kickUseful = heldBySend || blockedLines.size === 0;
    if (picked.length === 0) return nextWake;
    let claimed: Map<number, DeliveryRow>;
    try {
      claimed = await outbox.claimMany(picked.map((c) => c.row.id), this.opts.holder, this.opts.claimLeaseMs ?? this.opts.sendTimeoutMs * 4 + 60_000);
    } catch (err) {
      // Nothing was claimed (one statement): give the chats and the probe back, and fail the pass.
      for (const c of picked) {
        this.busyChats.delete(c.chatKey);
        if (c.probe) this.breakerOf(c.dest.platform).probeAbandoned(this.opts.clock());
      }
      throw err;
    }
    for (const c of picked) {
      const full = claimed.get(c.row.id);
      if (!full) {
        // Another worker took it first: its reserved slot is left unused (never a send too many).
        this.busyChats.delete(c.chatKey);
        if (c.probe) this.breakerOf(c.dest.platform).probeAbandoned(this.opts.clock());
        continue;
      }
      this.launch(c, full);
    }
    return nextWake;
  }

  private launch(c: Candidate, full: DeliveryRow): void {
    const { row, dest, platform, chatKey, probe } = c;
    const breaker = this.breakerOf(dest.platform);
    this.stats.inFlight++;
    this.active++;
    let answered = false;
    const onAnswered = () => {
      if (answered) return;
      answered = true;
      this.active--;
      this.kick();
    };
    if (probe) {
      this.probeRows.add(row.id);
      this.opts.logger.info({ event: 'breaker.probe', outcome: 'sending', platform: dest.platform, id: row.id, destination: dest.id }, `${dest.platform} is down: probing with delivery ${row.id}`);
    }
    const p = this.deliver(full, dest, platform, chatKey, c.slot, onAnswered)
      .catch((err: unknown) => this.opts.logger.error({ event: 'delivery.crashed', id: row.id, err }, 'delivery handling failed'))
      .finally(() => {
        onAnswered();
        if (this.probeRows.delete(row.id)) breaker.probeAbandoned(this.opts.clock());
        this.busyChats.delete(chatKey);
        this.inFlight.delete(row.id);
        this.stats.inFlight--;
        this.kick();
      });
    this.inFlight.set(row.id, p);
  }

  /** Waits for a reserved slot; a slot missed by more than a little (the event loop stalled) is taken again. */
  private async waitSlot(slot: number, dest: DestinationRecord, pacer: Pacer, kind: DeliveryRow['kind']): Promise<void> {
    const reservedOn = pacer.lineOf(dest, kind);
    let wait = slot - this.opts.clock();
    if (wait > 0) await sleep(wait);
    wait = slot - this.opts.clock();
    // Late sends fired together would arrive as a burst: a late one queues for a fresh slot instead. So
    // does a send whose line changed while it waited (paid broadcasts turned off: a paid slot is not a free one).
    if ((wait < -LATE_MS && pacer.policy.globalGapMs > 0) || pacer.lineOf(dest, kind) !== reservedOn) {
      const again = pacer.retake(dest, this.opts.clock(), kind);
      if (again > 0) await sleep(again);
    }
  }

  private async deliver(
    row: DeliveryRow,
    dest: DestinationRecord,
    platform: { sender: PlatformSender; pacer: Pacer },
    chatKey: string,
    slot: number,
    /** Called once the platform calls are over: the row no longer counts against the concurrency. */
    answered: () => void = () => undefined,
  ): Promise<void> {
    const { outbox, logger } = this.opts;
    const done: string[] = row.message_ids ? (JSON.parse(row.message_ids) as string[]) : [];
    const notes: string[] = [];
    let target: DestinationRecord = dest;
    const start = done.length;
    try {
      const payload = JSON.parse(row.payload) as OutboundMessage[];
      const editTargets = row.kind === 'edit' ? await this.editTargets(row) : [];
      await this.waitSlot(slot, dest, platform.pacer, row.kind);
      for (let i = start; i < payload.length; i++) {
        const msg = payload[i]!;
        // The first message's slot was reserved when the row was claimed; later parts wait for theirs.
        if (i > start) await this.paceNext(target, platform.pacer, row.kind);
        // The slot in the budget shared with other instances (none on SQLite).
        await platform.pacer.shared(target, this.opts.clock);
        if (row.kind === 'edit') {
          const messageId = editTargets[i];
          if (!messageId) {
            notes.push(`part ${i + 1} had no sent message to edit`);
            done.push('');
            continue;
          }
          try {
            await platformCall(() => withTimeout(platform.sender.edit(target, messageId, msg), this.opts.sendTimeoutMs, `${target.id} edit`));
          } finally {
            platform.pacer.settled(target, this.opts.clock());
          }
          done.push(messageId);
        } else {
          let sent: SentMessage;
          try {
            sent = await this.sendFollowingMigrations(target, msg, platform.sender, (d) => (target = d));
          } finally {
            platform.pacer.settled(target, this.opts.clock());
          }
          if (sent.degraded) {
            const what = sent.degraded === 'plain_text' ? 'Telegram refused the HTML: sent as plain text; check the template' : 'the image was refused: sent as text with a link preview';
            notes.push(what);
            logger.warn({ event: 'delivery.degraded', id: row.id, destination: dest.id, degraded: sent.degraded, template: true }, what);
          }
          done.push(sent.messageId);
        }
        // Progress is a courtesy for a crash between parts; the final write below records every id anyway.
        if (i < payload.length - 1) await outbox.recordProgress(row.id, done).catch(() => undefined);
      }
    } catch (err) {
      answered();
      if (done.length > start) await outbox.recordProgress(row.id, done).catch(() => undefined);
      if (err instanceof PlatformSendError) await this.handleFailure(row, target, platform.pacer, chatKey, err);
      else await this.internalFailure(row, dest, chatKey, err);
      return;
    }
    answered();
    const breaker = this.breakerOf(dest.platform);
    if (this.probeRows.delete(row.id)) for (const ev of breaker.probeDone(chatKey, true, null, this.opts.clock())) this.logBreaker(dest.platform, ev);
    else breaker.success();
    const sentAt = new Date(this.opts.clock()).toISOString();
    await this.record(chatKey, row.id, async () => {
      await this.sentWrites.add({ id: row.id, messageIds: done, note: notes.length ? notes.join('; ') : null, sentAt });
      this.stats.sent++;
      // One line per send only at debug: at 1000 messages a second, info gets `dispatcher.progress` instead.
      logger.debug({ event: 'delivery.sent', id: row.id, kind: row.kind, article: row.article_id, destination: dest.id, messages: done.length }, `sent to ${dest.id}`);
      this.opts.onSettled?.(row, 'sent', null);
    });
  }

  /**
   * Something other than the platform failed while delivering (the store, while reading what to edit):
   * the row goes back to the queue without spending an attempt. An error that is not the store's is a bug:
   * it spends an attempt like a transient failure, so it cannot loop for ever.
   */
  private async internalFailure(row: DeliveryRow, dest: DestinationRecord, chatKey: string, err: unknown): Promise<void> {
    const code = storeErrorCode(err);
    if (code === 'unknown') {
      this.opts.logger.error({ event: 'delivery.crashed', id: row.id, destination: dest.id, err: errorText(err) }, `delivery ${row.id}: unexpected error: ${errorText(err)}`);
      const pacer = this.opts.senders[dest.platform]?.pacer;
      if (pacer) return this.handleFailure(row, dest, pacer, chatKey, new PlatformSendError('transient', `unexpected error: ${errorText(err)}`), false);
    }
    if (this.probeRows.delete(row.id)) this.breakerOf(dest.platform).probeAbandoned(this.opts.clock());
    this.queueDirty = true;
    this.opts.logger.warn({ event: 'delivery.store_error', id: row.id, destination: dest.id, code, err: errorText(err) }, `delivery ${row.id}: ${storeErrorMeaning(code)} (${code}); it goes back to the queue`);
    await this.record(chatKey, row.id, () => this.opts.outbox.retryAt(row.id, new Date(this.opts.clock()), `${code}: ${errorText(err)}`, false));
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
        return await platformCall(() => withTimeout(sender.send(target, msg), this.opts.sendTimeoutMs, `${target.id} send`));
      } catch (err) {
        if (!(err instanceof PlatformSendError) || err.kind !== 'migrated') throw err;
        const d = decideFailure({
          kind: 'migrated', attempt: 1, maxAttempts: 1, health: 'healthy', migrateTo: err.details.migrateTo, hops: hop,
          now: this.opts.clock(), random: this.opts.random, backoff: this.retryBackoff(),
        });
        if (d.action !== 'follow_migration') throw err;
        this.opts.logger.warn(
          { event: 'destination.migrated', destination: target.id, from: target.chatId, to: d.to },
          `${target.id} moved to chat ${d.to}; following it`,
        );
        await this.opts.destinations.migrate(target.id, d.to);
        target = { ...target, chatId: d.to };
        moved(target);
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

  private retryBackoff() {
    return { baseMs: this.opts.backoffBaseMs, capMs: RETRY_BACKOFF.capMs };
  }

  private async handleFailure(row: DeliveryRow, dest: DestinationRecord, pacer: Pacer, chatKey: string, e: PlatformSendError, touchBreaker = true): Promise<void> {
    const { outbox, logger, maxAttempts } = this.opts;
    const now = this.opts.clock();
    const attempt = row.attempts + 1;
    // The row (or its chat's rows) changed in the database: read the queue again next time.
    this.queueDirty = true;
    // The breaker hears every outcome first, so the policy sees the platform's health as of this failure.
    const transient = e.kind === 'transient' || e.kind === 'migrated';
    const breaker = this.breakerOf(dest.platform);
    const probe = this.probeRows.delete(row.id);
    if (probe) for (const ev of breaker.probeDone(chatKey, !transient, e.message, now)) this.logBreaker(dest.platform, ev);
    else if (transient && touchBreaker) {
      const ev = breaker.failure(chatKey, e.message, now);
      if (ev) this.logBreaker(dest.platform, ev);
    } else if (!transient) breaker.success();
    const decision: FailureDecision = decideFailure({
      kind: e.kind,
      attempt,
      maxAttempts,
      health: breaker.closed ? 'healthy' : 'degraded',
      probe: probe && transient,
      retryAfterMs: e.details.retryAfterMs,
      migrateTo: e.details.migrateTo,
      hops: MAX_MIGRATION_HOPS,
      now,
      random: this.opts.random,
      backoff: this.retryBackoff(),
    });
    const record = (write: () => Promise<void>) => this.record(chatKey, row.id, write);
    switch (decision.action) {
      case 'pause_chat': {
        const wait = decision.until - now;
        pacer.pauseChat(dest.chatId, decision.until);
        this.stats.rateLimited++;
        logger.warn({ event: 'delivery.rate_limited', id: row.id, destination: dest.id, retryAfterMs: wait }, `${dest.id}: too many requests; retrying in ${Math.ceil(wait / 1000)} s`);
        return record(() => outbox.retryAt(row.id, new Date(decision.until), e.message, false));
      }
      case 'pause_platform': {
        const wait = decision.until - now;
        pacer.pauseAll(decision.until);
        logger.error({ event: 'delivery.restricted', id: row.id, destination: dest.id, retryAfterMs: wait }, `${dest.platform} account is restricted; sending paused for ${Math.ceil(wait / 60_000)} min`);
        return record(() => outbox.retryAt(row.id, new Date(decision.until), e.message, false));
      }
      case 'hold':
      case 'follow_migration': {
        this.stats.held++;
        logger.info({ event: 'delivery.held', id: row.id, destination: dest.id, probe, reason: e.message }, `${dest.id}: ${e.message}; ${dest.platform} is down: held without spending an attempt`);
        return record(() => outbox.retryAt(row.id, new Date(decision.action === 'hold' ? decision.at : now), e.message, false));
      }
      case 'dead': {
        const reason = e.message;
        return record(async () => {
          await this.opts.destinations.markDead(dest.id, reason);
          const killed = await outbox.killDestination(dest.id, reason);
          await outbox.finish(row.id, 'dead', reason);
          this.stats.dead += 1;
          logger.error(
            { event: 'destination.dead', destination: dest.id, reason, deliveries: killed + 1 },
            `DESTINATION GONE: ${dest.id}: ${reason}; stopped sending to it (${killed + 1} deliveries marked dead)`,
          );
          this.opts.onSettled?.(row, 'dead', reason);
          await this.opts.onDestinationGone?.(dest, reason);
        });
      }
      case 'fail': {
        const reason = decision.reason === 'attempts' ? `${e.message} (gave up after ${attempt} attempts)` : e.message;
        return record(async () => {
          await outbox.finish(row.id, 'failed', reason);
          this.stats.failed++;
          logger.error(
            { event: 'delivery.failed', id: row.id, destination: dest.id, attempts: attempt, reason: e.message, code: e.details.code },
            decision.reason === 'attempts' ? `delivery ${row.id} to ${dest.id} failed after ${attempt} attempts: ${e.message}` : `delivery ${row.id} to ${dest.id} failed: ${e.message}`,
          );
          this.opts.onSettled?.(row, 'failed', e.message);
        });
      }
      case 'requeue': {
        logger.warn({ event: 'delivery.requeued', id: row.id, destination: dest.id, reason: e.message }, `${dest.id}: ${e.message}; sent again without spending an attempt`);
        return record(() => outbox.retryAt(row.id, new Date(decision.at), e.message, false));
      }
      case 'retry': {
        const wait = decision.at - now;
        this.stats.retried++;
        logger.warn({ event: 'delivery.retry', id: row.id, destination: dest.id, attempt, retryInMs: wait, reason: e.message }, `${dest.id}: ${e.message}; retrying in ${Math.ceil(wait / 1000)} s (attempt ${attempt} of ${maxAttempts})`);
        return record(() => outbox.retryAt(row.id, new Date(decision.at), e.message, true));
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

/** How far ahead of its pacing slot a row may be claimed (it then waits for the slot). */
const LOOKAHEAD_MS = 15;
/**
 * Free slots worth a claim query while sends are in flight: half the concurrency, at least 8 (32 at the
 * default 64). A claim statement's cost is mostly fixed (one commit, the same index pages rewritten), so
 * claiming 32 rows at a time instead of 16 halves the claims of a fast fan-out; with half the slots still
 * in flight the connection to the platform never runs dry. Measured with limits lifted: about 10 % less CPU
 * per message, and paced sends (30/s, paid 1000/s) unchanged.
 */
const minClaim = (concurrency: number) => Math.max(8, Math.floor(concurrency / 2));
/** A slot missed by more than this is taken again, so a stalled event loop cannot release a burst. */
const LATE_MS = 10;
const PROGRESS_EVERY_MS = 10_000;

interface Candidate {
  row: QueueEntry;
  dest: DestinationRecord;
  platform: { sender: PlatformSender; pacer: Pacer };
  chatKey: string;
  probe: boolean;
  /** The pacing slot reserved for its first message (ms since the epoch). */
  slot: number;
}

/**
 * Collects items and writes them together. After a quiet spell the first item is written at the next
 * turn of the event loop (with whatever else was answered in the same turn), so a lone send is recorded
 * at once; while writes follow each other closely, items wait up to `maxWaitMs` for company, or until
 * `maxItems` are waiting. Each `add` resolves once its batch is written, or rejects with the batch's
 * error (the caller keeps the item and adds it again later).
 */
class WriteBatch<T> {
  private items: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private timer: { kind: 'timeout'; t: NodeJS.Timeout } | { kind: 'immediate'; t: NodeJS.Immediate } | null = null;
  private lastFlush = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxItems: number,
    private readonly maxWaitMs: number,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.items.push({ item, resolve, reject });
      if (this.items.length >= this.maxItems) this.flush();
      else if (!this.timer) {
        const since = Date.now() - this.lastFlush;
        this.timer =
          since >= this.maxWaitMs
            ? { kind: 'immediate', t: setImmediate(() => this.flush()) }
            : { kind: 'timeout', t: setTimeout(() => this.flush(), this.maxWaitMs - since) };
      }
    });
  }

  private flush(): void {
    // Each kind cleared by its own function (fake timers in tests refuse a mismatch).
    if (this.timer?.kind === 'timeout') clearTimeout(this.timer.t);
    else if (this.timer?.kind === 'immediate') clearImmediate(this.timer.t);
    this.timer = null;
    this.lastFlush = Date.now();
    const batch = this.items;
    this.items = [];
    if (batch.length === 0) return;
    this.write(batch.map((b) => b.item)).then(
      () => batch.forEach((b) => b.resolve()),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A platform call: whatever it throws reaches the policy as a PlatformSendError (unknown throws are transient). */
async function platformCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw err instanceof PlatformSendError ? err : new PlatformSendError('transient', errorText(err));
  }
}

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
