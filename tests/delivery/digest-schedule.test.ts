import { describe, expect, it } from 'vitest';
import { dueSlot, instantOf, latestSlot, nextSlot, offsetAt, slotsBetween, wallClock } from '../../src/delivery/digest-schedule.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const local = (s: string) => Date.parse(`${s}Z`); // a wall-clock time written as UTC
const HOUR = 3_600_000;

describe('digest slots in TZ', () => {
  it('reads wall clocks and offsets', () => {
    expect(iso(wallClock(Date.parse('2026-12-02T10:00:00Z'), 'America/Sao_Paulo'))).toBe('2026-12-02T07:00:00.000Z');
    expect(offsetAt(Date.parse('2026-12-02T10:00:00Z'), 'America/Sao_Paulo')).toBe(-3 * HOUR);
    expect(offsetAt(Date.parse('2026-07-01T10:00:00Z'), 'Europe/Lisbon')).toBe(HOUR);
    expect(offsetAt(Date.parse('2026-01-01T10:00:00Z'), 'Europe/Lisbon')).toBe(0);
  });

  it('puts 07:00 and 18:30 on the right instants of the local day, not of UTC', () => {
    const tz = 'America/Sao_Paulo';
    // 01:00 UTC on Dec 3 is still Dec 2, 22:00 in São Paulo: the latest slot is Dec 2, 18:30 local.
    const now = Date.parse('2026-12-03T01:00:00Z');
    expect(iso(latestSlot(['07:00', '18:30'], tz, now))).toBe('2026-12-02T21:30:00.000Z');
    expect(iso(nextSlot(['07:00', '18:30'], tz, now))).toBe('2026-12-03T10:00:00.000Z');
    // Exactly at the slot, it is due.
    expect(iso(latestSlot(['07:00'], tz, Date.parse('2026-12-03T10:00:00Z')))).toBe('2026-12-03T10:00:00.000Z');
    expect(iso(latestSlot(['07:00'], tz, Date.parse('2026-12-03T09:59:59.999Z')))).toBe('2026-12-02T10:00:00.000Z');
    // Tokyo is ahead of UTC: 07:00 there is 22:00 UTC the day before.
    expect(iso(nextSlot(['07:00'], 'Asia/Tokyo', Date.parse('2026-12-02T12:00:00Z')))).toBe('2026-12-02T22:00:00.000Z');
    expect(latestSlot([], tz, Date.now())).toBeNull();
  });

  it('is DST-safe: a day that springs forward sends a skipped time later, never twice or never', () => {
    const tz = 'America/New_York'; // 2026-03-08 02:00 EST → 03:00 EDT
    expect(iso(instantOf(local('2026-03-08T02:30:00'), tz))).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    expect(iso(instantOf(local('2026-03-08T07:00:00'), tz))).toBe('2026-03-08T11:00:00.000Z'); // EDT after the jump
    expect(iso(instantOf(local('2026-03-07T07:00:00'), tz))).toBe('2026-03-07T12:00:00.000Z'); // EST the day before
    const day = slotsBetween(['02:30', '07:00'], tz, Date.parse('2026-03-08T05:00:00Z'), Date.parse('2026-03-09T05:00:00Z'));
    expect(day.map(iso)).toEqual(['2026-03-08T07:30:00.000Z', '2026-03-08T11:00:00.000Z']);
  });

  it('is DST-safe: a day that falls back sends a repeated time once, the first time', () => {
    const tz = 'America/New_York'; // 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice
    expect(iso(instantOf(local('2026-11-01T01:30:00'), tz))).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT
    const day = slotsBetween(['01:30'], tz, Date.parse('2026-11-01T04:00:00Z'), Date.parse('2026-11-02T04:00:00Z'));
    expect(day.map(iso)).toEqual(['2026-11-01T05:30:00.000Z']);
    // During the second 01:30 (EST), the latest slot is still the first one: not due again.
    expect(iso(latestSlot(['01:30'], tz, Date.parse('2026-11-01T06:45:00Z')))).toBe('2026-11-01T05:30:00.000Z');
  });

  it('a zone that dropped DST (São Paulo since 2019) has every slot 24 h apart', () => {
    const slots = slotsBetween(['07:00'], 'America/Sao_Paulo', Date.parse('2026-10-01T00:00:00Z'), Date.parse('2026-11-30T00:00:00Z'));
    expect(slots).toHaveLength(60);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(24 * HOUR);
  });

  it('due: the latest unhandled slot under the catch-up window is sent; older is missed; handled is nothing', () => {
    const tz = 'America/Sao_Paulo';
    const slot = Date.parse('2026-12-02T10:00:00Z'); // 07:00 local
    expect(dueSlot(['07:00'], tz, slot + 59 * 60_000, null, HOUR)).toEqual({ slot, action: 'send' });
    expect(dueSlot(['07:00'], tz, slot + 61 * 60_000, null, HOUR)).toEqual({ slot, action: 'missed' });
    expect(dueSlot(['07:00'], tz, slot + 5 * 60_000, slot, HOUR)).toBeNull();
    // A later slot than the one handled is due again.
    expect(dueSlot(['07:00'], tz, slot + 24 * HOUR, slot, HOUR)).toEqual({ slot: slot + 24 * HOUR, action: 'send' });
    // Two slots missed while down: only the latest one goes (one digest of everything since the last).
    expect(dueSlot(['07:00', '07:30'], tz, slot + 40 * 60_000, slot - 24 * HOUR, HOUR)).toEqual({ slot: slot + 30 * 60_000, action: 'send' });
  });
});
