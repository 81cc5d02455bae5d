/**
 * Sliding-window budgets for WhatsApp command replies, keyed by chat (one per group) or by a fixed key
 * (the whole account). Every person in a group has their own REPLY_RATE, but thirty people typing at
 * once would still drain the account; a budget per group, shared by all its members, bounds what one
 * crowd can cost. Times come in as numbers (the caller's clock), so tests need no timers.
 *
 * `log` is true for the first refusal of a key in each window: a crowd kept at the limit for an hour gives
 * one log line per window, not one per message.
 */
export class WindowBudget {
  private readonly hits = new Map<string, number[]>();
  private readonly loggedAt = new Map<string, number>();
  private takes = 0;

  constructor(
    readonly count: number,
    readonly perMs: number,
  ) {}

  /** Counts one reply for `key` at `now` when there is room; says whether there was, and whether to log the refusal. */
  take(key: string, now: number): { allowed: boolean; log: boolean } {
    if (++this.takes % 1000 === 0) this.sweep(now);
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.perMs);
    if (recent.length >= this.count) {
      this.hits.set(key, recent);
      const last = this.loggedAt.get(key);
      const log = last === undefined || now - last >= this.perMs;
      if (log) this.loggedAt.set(key, now);
      return { allowed: false, log };
    }
    recent.push(now);
    this.hits.set(key, recent);
    return { allowed: true, log: false };
  }

  /** Forgets keys whose window has emptied, so memory follows active chats rather than every chat ever seen. */
  private sweep(now: number): void {
    for (const [key, times] of this.hits) if (times.every((t) => now - t >= this.perMs)) this.hits.delete(key);
    for (const [key, at] of this.loggedAt) if (now - at >= this.perMs) this.loggedAt.delete(key);
  }
}
