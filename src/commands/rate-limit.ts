/**
 * Per-user reply rate limit: at most `count` replies in any window of `perMs`, counted from the times
 * passed in (the router's injected clock), so tests need no timers. A user past the limit gets silence;
 * `firstDrop` tells the caller to log once per burst instead of once per message.
 */
export class ReplyRateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly dropping = new Set<string>();
  private checks = 0;

  constructor(
    private readonly count: number,
    private readonly perMs: number,
  ) {}

  /** Counts one reply for `key` at `now` when allowed; returns whether it is, and whether this is the first refusal of a burst. */
  take(key: string, now: Date): { allowed: boolean; firstDrop: boolean } {
    const t = now.getTime();
    if (++this.checks % 1000 === 0) this.sweep(t);
    const recent = (this.hits.get(key) ?? []).filter((h) => t - h < this.perMs);
    if (recent.length >= this.count) {
      this.hits.set(key, recent);
      const firstDrop = !this.dropping.has(key);
      this.dropping.add(key);
      return { allowed: false, firstDrop };
    }
    recent.push(t);
    this.hits.set(key, recent);
    this.dropping.delete(key);
    return { allowed: true, firstDrop: false };
  }

  /** Forgets users whose window has emptied, so memory follows active users rather than all users ever. */
  private sweep(t: number): void {
    for (const [key, times] of this.hits) {
      if (times.every((h) => t - h >= this.perMs)) {
        this.hits.delete(key);
        this.dropping.delete(key);
      }
    }
  }
}
