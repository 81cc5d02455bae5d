import { backoffMs, type BackoffOptions } from '../lib/backoff.js';
import type { SendErrorKind } from './types.js';

/**
 * What happens to a delivery after a failed send, in one pure function: the error's class (from the
 * adapter), the attempt it was, and the health of its platform (from the breaker) go in; one decision
 * comes out. The dispatcher carries decisions out and never decides on its own. The table in
 * docs/architecture.md ("Errors") is this function written out; tests/delivery/policy.test.ts checks
 * every row of it.
 */

/** `healthy`: the breaker is closed. `degraded`: the breaker is open (or probing): the platform is down. */
export type PlatformHealth = 'healthy' | 'degraded';

export interface FailureInput {
  kind: SendErrorKind;
  /** The attempt that just failed, counting from 1 (the row's attempts so far + 1). */
  attempt: number;
  maxAttempts: number;
  health: PlatformHealth;
  /** This send was the breaker's probe. */
  probe?: boolean;
  /** 429 / restricted: how long the platform asked us to wait. */
  retryAfterMs?: number;
  /** `migrated`: where the chat went (absent: the platform said "migrated" without saying where). */
  migrateTo?: string;
  /** `migrated`: how many moves were already followed in this send. */
  hops?: number;
  now: number;
  random: () => number;
  backoff: BackoffOptions;
}

export type FailureDecision =
  /** Back to pending at `at`, one attempt spent. */
  | { action: 'retry'; at: number }
  /** The chat asked us to slow down: that chat waits until `until`; no attempt spent. */
  | { action: 'pause_chat'; until: number }
  /** The account may not post for now: the whole platform waits until `until`; no attempt spent. */
  | { action: 'pause_platform'; until: number }
  /** The platform is down (breaker open): back to pending, due at `at`, no attempt spent; the breaker gates it. */
  | { action: 'hold'; at: number }
  /** Resend at once to the chat the platform named. */
  | { action: 'follow_migration'; to: string }
  /** Given up on this delivery, with why. */
  | { action: 'fail'; reason: 'attempts' | 'permanent' }
  /** The destination is gone: it and its queue are dead. */
  | { action: 'dead' }
  /** The adapter fixed the cause already: back to pending, due now, no attempt spent. */
  | { action: 'requeue'; at: number };

/** Waits when the platform names none. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 5_000;
export const DEFAULT_RESTRICTED_WAIT_MS = 10 * 60_000;
/** Moves followed within one send before a `migrated` answer is treated as a transient failure. */
export const MAX_MIGRATION_HOPS = 2;

export function decideFailure(input: FailureInput): FailureDecision {
  const { kind, attempt, maxAttempts, health, now } = input;
  switch (kind) {
    case 'rate_limited':
      return { action: 'pause_chat', until: now + (input.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS) };
    case 'restricted':
      return { action: 'pause_platform', until: now + (input.retryAfterMs ?? DEFAULT_RESTRICTED_WAIT_MS) };
    case 'gone':
      return { action: 'dead' };
    case 'permanent':
      return { action: 'fail', reason: 'permanent' };
    case 'requeue':
      return { action: 'requeue', at: now };
    case 'migrated':
      if (input.migrateTo && (input.hops ?? 0) < MAX_MIGRATION_HOPS) return { action: 'follow_migration', to: input.migrateTo };
      return transient();
    case 'transient':
      return transient();
  }
  function transient(): FailureDecision {
    // While the platform is down the failure says nothing about this row: it keeps its attempts.
    if (health === 'degraded' || input.probe) return { action: 'hold', at: now };
    if (attempt >= maxAttempts) return { action: 'fail', reason: 'attempts' };
    return { action: 'retry', at: now + backoffMs(attempt, input.backoff, input.random) };
  }
}

/**
 * The class of an error thrown by the store (not by a platform), for the log and /health: SQLite's own
 * codes (`SQLITE_BUSY`, `SQLITE_FULL`, `SQLITE_READONLY`, `SQLITE_IOERR_…`), PostgreSQL's SQLSTATE
 * (`57P01` admin shutdown, `53100` disk full, …), the network's (`ECONNREFUSED`), or `connection_lost`
 * when pg says the connection ended without a code. `unknown` for anything else (a bug, not the store).
 */
export function storeErrorCode(err: unknown): string {
  if (!err || typeof err !== 'object') return 'unknown';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code) return code;
  const cause = (err as { cause?: unknown }).cause;
  if (cause && cause !== err) {
    const inner = storeErrorCode(cause);
    if (inner !== 'unknown') return inner;
  }
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && /connection (terminated|ended)|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(message))
    return 'connection_lost';
  return 'unknown';
}

/** What an operator should know about a store error code, in a few words for the log and /health. */
export function storeErrorMeaning(code: string): string {
  if (code === 'SQLITE_FULL' || code === '53100') return 'the disk is full';
  if (code.startsWith('SQLITE_READONLY') || code === '25006') return 'the database is read-only';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'the database is locked by another process';
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') return 'the database file cannot be read or written';
  if (code === 'ECONNREFUSED' || code === 'connection_lost' || code === 'ECONNRESET' || code.startsWith('57P') || code.startsWith('08'))
    return 'the database server cannot be reached';
  return 'the database failed';
}
