import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/lib/duration.js';
import { makeInstanceId } from '../../src/lib/instance.js';
import { backoffMs } from '../../src/lib/backoff.js';

describe('formatDuration', () => {
  it('says seconds, minutes, hours and days the one way', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(90 * 60_000)).toBe('1.5 h');
    expect(formatDuration(3 * 86_400_000)).toBe('3 d');
  });
});

describe('makeInstanceId', () => {
  it('is host:pid:random, and two made with the same host and pid differ (two containers, both pid 1)', () => {
    const a = makeInstanceId({ host: 'app', pid: 1 });
    const b = makeInstanceId({ host: 'app', pid: 1 });
    expect(a.id).toMatch(/^app:1:[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(makeInstanceId({ host: 'h', pid: 7, random: () => 'x' })).toEqual({ id: 'h:7:x', host: 'h', pid: 7 });
  });
});

describe('backoffMs', () => {
  it('doubles from the base, caps, and takes its jitter from the injected source', () => {
    const o = { baseMs: 1_000, capMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, o, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000]);
    expect(backoffMs(3, o, () => 0)).toBe(2_000);
  });
});
