import { backoffMs, type BackoffOptions } from '../lib/backoff.js';

/**
 * A circuit breaker per platform. One chat failing is that chat's problem and spends that row's
 * attempts; several different chats failing with transient errors within a short window means the
 * platform itself (or the network to it) is down. Then the breaker opens: the dispatcher stops sending
 * to that platform, rows keep their attempts, and one probe (the oldest pending row) goes out now and
 * then, with backoff. The first probe that the platform answers closes the breaker and sending resumes.
 *
 * The model is listmonk's messenger error threshold (pause a campaign after N errors), with a probe so
 * that resuming needs no operator. Pure state plus an injected clock and random source: no timers here;
 * the dispatcher asks `mayProbe(now)` on its own passes.
 */

export type BreakerState = 'closed' | 'open' | 'probing';

export interface BreakerOptions {
  /** Distinct chats failing with transient errors, with no success in between, that open the breaker. Default 3. */
  chats?: number;
  /** Only failures this recent count. Default 30 s. */
  windowMs?: number;
  /** Wait before the first probe, doubling per failed probe. Default 2 s. */
  probeBaseMs?: number;
  /** Longest wait between probes. Default 60 s. */
  probeCapMs?: number;
}

/** What /health, /metrics and /status show of a breaker. */
export interface BreakerSnapshot {
  state: BreakerState;
  /** When the state last changed (ms since the epoch); null before any change. */
  since: number | null;
  /** The last failure that opened it or kept it open. */
  reason: string | null;
  /** Probes sent since it opened. */
  probes: number;
  /** When the next probe may go (open state only). */
  nextProbeAt: number | null;
  /** Times it opened since this process started. */
  opened: number;
}

/** A transition, for the log: `breaker.open`, `breaker.probe`, `breaker.closed`. */
export type BreakerEvent =
  | { event: 'breaker.open'; chats: string[]; reason: string; nextProbeAt: number }
  | { event: 'breaker.probe'; outcome: 'sent' | 'failed'; chat: string; probes: number; reason?: string; nextProbeAt?: number }
  | { event: 'breaker.closed'; downMs: number; probes: number };

export class Breaker {
  private state_: BreakerState = 'closed';
  private since: number | null = null;
  private reason: string | null = null;
  private probes = 0;
  private opened = 0;
  private nextProbeAt = 0;
  /** chat → time of its latest transient failure since the last success. */
  private readonly failing = new Map<string, number>();
  private readonly opts: Required<BreakerOptions>;

  constructor(
    readonly platform: string,
    opts: BreakerOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.opts = { chats: 3, windowMs: 30_000, probeBaseMs: 2_000, probeCapMs: 60_000, ...opts };
  }

  get state(): BreakerState {
    return this.state_;
  }

  /** True when sends to this platform go out as usual. */
  get closed(): boolean {
    return this.state_ === 'closed';
  }

  /** A send to `chat` succeeded (not a probe): the platform answers, earlier failures were the chats' own. */
  success(): void {
    if (this.failing.size) this.failing.clear();
  }

  /** A send to `chat` failed with a transient error while closed. Returns the `breaker.open` event when it trips. */
  failure(chat: string, reason: string, now: number): BreakerEvent | null {
    if (this.state_ !== 'closed') {
      this.reason = reason;
      return null;
    }
    this.failing.set(chat, now);
    for (const [c, at] of this.failing) if (now - at > this.opts.windowMs) this.failing.delete(c);
    if (this.failing.size < this.opts.chats) return null;
    const chats = [...this.failing.keys()];
    this.failing.clear();
    this.state_ = 'open';
    this.since = now;
    this.reason = reason;
    this.probes = 0;
    this.opened++;
    this.nextProbeAt = now + backoffMs(1, this.backoff(), this.random);
    return { event: 'breaker.open', chats, reason, nextProbeAt: this.nextProbeAt };
  }

  /** Open, no probe in flight, and its time has come. */
  mayProbe(now: number): boolean {
    return this.state_ === 'open' && now >= this.nextProbeAt;
  }

  /** How long until a probe may go (0 when it may now; Infinity while one is in flight or when closed). */
  probeIn(now: number): number {
    return this.state_ === 'open' ? Math.max(0, this.nextProbeAt - now) : Number.POSITIVE_INFINITY;
  }

  /** The dispatcher is sending the probe now. */
  probeStarted(): void {
    if (this.state_ === 'open') {
      this.state_ = 'probing';
      this.probes++;
    }
  }

  /**
   * The probe's outcome. `answered` is true when the platform answered anything but a transient error
   * (a success, and also a 403 or a 429: the platform is up). Returns the events to log.
   */
  probeDone(chat: string, answered: boolean, reason: string | null, now: number): BreakerEvent[] {
    if (this.state_ !== 'probing') return [];
    if (answered) {
      const downMs = this.since === null ? 0 : now - this.since;
      const probes = this.probes;
      this.state_ = 'closed';
      this.since = now;
      this.reason = null;
      this.failing.clear();
      return [
        { event: 'breaker.probe', outcome: 'sent', chat, probes },
        { event: 'breaker.closed', downMs, probes },
      ];
    }
    this.state_ = 'open';
    if (reason) this.reason = reason;
    this.nextProbeAt = now + backoffMs(this.probes + 1, this.backoff(), this.random);
    return [{ event: 'breaker.probe', outcome: 'failed', chat, probes: this.probes, reason: reason ?? 'failed', nextProbeAt: this.nextProbeAt }];
  }

  /**
   * The probe ended without an answer either way (the process could not record it): open again and
   * let the next probe go at once.
   */
  probeAbandoned(now: number): void {
    if (this.state_ === 'probing') {
      this.state_ = 'open';
      this.nextProbeAt = now;
    }
  }

  snapshot(): BreakerSnapshot {
    return {
      state: this.state_,
      since: this.since,
      reason: this.reason,
      probes: this.probes,
      nextProbeAt: this.state_ === 'closed' ? null : this.nextProbeAt,
      opened: this.opened,
    };
  }

  private backoff(): BackoffOptions {
    return { baseMs: this.opts.probeBaseMs, capMs: this.opts.probeCapMs };
  }
}
