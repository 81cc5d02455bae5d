/**
 * The one exponential backoff of the program: `base × 2^(attempt-1)`, capped, with jitter in
 * [50 %, 100 %] of the step so that many rows failing together do not come back together. The random
 * source is a parameter so tests can pin it (a fixed `() => 1` gives the full step).
 */

export interface BackoffOptions {
  /** The first wait (attempt 1). */
  baseMs: number;
  /** No wait is longer than this. */
  capMs: number;
}

/** Delivery retries after a transient error: 2 s doubling, at most 10 min. */
export const RETRY_BACKOFF: BackoffOptions = { baseMs: 2_000, capMs: 10 * 60_000 };

/** `attempt` counts from 1. Never negative; `random` must return a number in [0, 1). */
export function backoffMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const step = Math.min(opts.capMs, opts.baseMs * 2 ** exp);
  return Math.round(step * (0.5 + random() * 0.5));
}
