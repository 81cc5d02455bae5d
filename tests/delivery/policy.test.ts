import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/lib/backoff.js';
import { decideFailure, storeErrorCode, storeErrorMeaning, type FailureDecision, type FailureInput } from '../../src/delivery/policy.js';

/**
 * The failure policy as a table: each row is (error class, attempt, platform health) → what happens next,
 * the same rows as the "Errors" table in docs/architecture.md. The random source is pinned so the backoff
 * is exact: random() = 1 gives the full step, 0 gives half of it.
 */

const NOW = 1_000_000;
const base: Omit<FailureInput, 'kind' | 'attempt' | 'health'> = {
  maxAttempts: 8,
  now: NOW,
  random: () => 0.999999,
  backoff: { baseMs: 2_000, capMs: 600_000 },
};

type Row = [label: string, input: Partial<FailureInput> & Pick<FailureInput, 'kind' | 'attempt' | 'health'>, expected: FailureDecision];

const TABLE: Row[] = [
  ['429 pauses the chat for retry_after', { kind: 'rate_limited', attempt: 3, health: 'healthy', retryAfterMs: 7_000 }, { action: 'pause_chat', until: NOW + 7_000 }],
  ['429 without retry_after waits 5 s', { kind: 'rate_limited', attempt: 1, health: 'healthy' }, { action: 'pause_chat', until: NOW + 5_000 }],
  ['429 at the last attempt still does not fail', { kind: 'rate_limited', attempt: 8, health: 'healthy', retryAfterMs: 1_000 }, { action: 'pause_chat', until: NOW + 1_000 }],
  ['restricted pauses the platform', { kind: 'restricted', attempt: 1, health: 'healthy', retryAfterMs: 60_000 }, { action: 'pause_platform', until: NOW + 60_000 }],
  ['restricted without a wait pauses 10 min', { kind: 'restricted', attempt: 1, health: 'degraded' }, { action: 'pause_platform', until: NOW + 600_000 }],
  ['transient, first attempt: retry in 2 s', { kind: 'transient', attempt: 1, health: 'healthy' }, { action: 'retry', at: NOW + 2_000 }],
  ['transient, attempt 3: retry in 8 s', { kind: 'transient', attempt: 3, health: 'healthy' }, { action: 'retry', at: NOW + 8_000 }],
  ['transient, attempt 7: retry in 128 s', { kind: 'transient', attempt: 7, health: 'healthy' }, { action: 'retry', at: NOW + 128_000 }],
  ['transient at MAX_ATTEMPTS while healthy: failed', { kind: 'transient', attempt: 8, health: 'healthy' }, { action: 'fail', reason: 'attempts' }],
  ['transient while the platform is down: held, no attempt', { kind: 'transient', attempt: 1, health: 'degraded' }, { action: 'hold', at: NOW }],
  ['transient past MAX_ATTEMPTS while down: still held', { kind: 'transient', attempt: 50, health: 'degraded' }, { action: 'hold', at: NOW }],
  ['the probe failing: held', { kind: 'transient', attempt: 8, health: 'healthy', probe: true }, { action: 'hold', at: NOW }],
  ['migrated with a target: follow it', { kind: 'migrated', attempt: 1, health: 'healthy', migrateTo: '-1009', hops: 0 }, { action: 'follow_migration', to: '-1009' }],
  ['migrated, second hop: follow it', { kind: 'migrated', attempt: 1, health: 'healthy', migrateTo: '-1009', hops: 1 }, { action: 'follow_migration', to: '-1009' }],
  ['migrated a third time: transient', { kind: 'migrated', attempt: 2, health: 'healthy', migrateTo: '-1009', hops: 2 }, { action: 'retry', at: NOW + 4_000 }],
  ['migrated without a target: transient', { kind: 'migrated', attempt: 8, health: 'healthy' }, { action: 'fail', reason: 'attempts' }],
  ['gone: dead', { kind: 'gone', attempt: 1, health: 'healthy' }, { action: 'dead' }],
  ['gone while degraded: dead all the same', { kind: 'gone', attempt: 1, health: 'degraded' }, { action: 'dead' }],
  ['permanent: failed', { kind: 'permanent', attempt: 1, health: 'healthy' }, { action: 'fail', reason: 'permanent' }],
  ['permanent while degraded: failed', { kind: 'permanent', attempt: 1, health: 'degraded' }, { action: 'fail', reason: 'permanent' }],
  ['requeue (paid broadcast refused for lack of Stars, now off): again at once, even at the last attempt', { kind: 'requeue', attempt: 8, health: 'healthy' }, { action: 'requeue', at: NOW }],
];

describe('decideFailure: the table', () => {
  it.each(TABLE)('%s', (_label, input, expected) => {
    expect(decideFailure({ ...base, ...input })).toEqual(expected);
  });
});

describe('backoffMs', () => {
  const opts = { baseMs: 2_000, capMs: 600_000 };
  it('doubles per attempt and stops at the cap', () => {
    const full = () => 0.999999;
    expect([1, 2, 3, 4, 10, 11, 40].map((a) => backoffMs(a, opts, full))).toEqual([2_000, 4_000, 8_000, 16_000, 600_000, 600_000, 600_000]);
  });
  it('jitters between half the step and the step, from the injected source', () => {
    expect(backoffMs(3, opts, () => 0)).toBe(4_000);
    expect(backoffMs(3, opts, () => 0.5)).toBe(6_000);
    let n = 0;
    const seq = [0.1, 0.9];
    const two = [backoffMs(2, opts, () => seq[n++]!), backoffMs(2, opts, () => seq[n++]!)];
    expect(two[0]).not.toBe(two[1]);
  });
  it('never goes below zero for attempt 0 or negative', () => {
    expect(backoffMs(0, opts, () => 0)).toBe(1_000);
    expect(backoffMs(-3, opts, () => 0)).toBe(1_000);
  });
});

describe('storeErrorCode', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  it.each([
    ['SQLITE_BUSY', 'the database is locked by another process'],
    ['SQLITE_FULL', 'the disk is full'],
    ['SQLITE_READONLY', 'the database is read-only'],
    ['SQLITE_READONLY_DBMOVED', 'the database is read-only'],
    ['SQLITE_IOERR_WRITE', 'the database file cannot be read or written'],
    ['57P01', 'the database server cannot be reached'],
    ['ECONNREFUSED', 'the database server cannot be reached'],
    ['53100', 'the disk is full'],
  ])('%s: %s', (code, meaning) => {
    expect(storeErrorCode(withCode(code))).toBe(code);
    expect(storeErrorMeaning(code)).toBe(meaning);
  });
  it('reads the cause and pg\'s codeless connection errors', () => {
    expect(storeErrorCode(new Error('wrapped', { cause: withCode('SQLITE_FULL') }))).toBe('SQLITE_FULL');
    expect(storeErrorCode(new Error('Connection terminated unexpectedly'))).toBe('connection_lost');
    expect(storeErrorCode(new Error('a bug'))).toBe('unknown');
    expect(storeErrorCode('text')).toBe('unknown');
  });
});
