import { describe, expect, it } from 'vitest';
import { Breaker } from '../../src/delivery/breaker.js';

/** The platform breaker with an injected clock (plain numbers) and a pinned random source (full step). */

const full = () => 0.999999;
const make = () => new Breaker('telegram', { chats: 3, windowMs: 30_000, probeBaseMs: 2_000, probeCapMs: 60_000 }, full);

describe('Breaker', () => {
  it('stays closed while one or two chats fail, however often', () => {
    const b = make();
    for (let i = 0; i < 20; i++) expect(b.failure(i % 2 ? 'a' : 'b', '502', 1_000 + i)).toBeNull();
    expect(b.state).toBe('closed');
  });

  it('opens when three different chats fail within the window', () => {
    const b = make();
    expect(b.failure('a', 'ECONNREFUSED', 0)).toBeNull();
    expect(b.failure('b', 'ECONNREFUSED', 10_000)).toBeNull();
    const ev = b.failure('c', 'ECONNREFUSED', 20_000);
    expect(ev).toEqual({ event: 'breaker.open', chats: ['a', 'b', 'c'], reason: 'ECONNREFUSED', nextProbeAt: 22_000 });
    expect(b.state).toBe('open');
    expect(b.snapshot()).toMatchObject({ state: 'open', since: 20_000, reason: 'ECONNREFUSED', opened: 1, nextProbeAt: 22_000 });
  });

  it('forgets failures older than the window', () => {
    const b = make();
    b.failure('a', '502', 0);
    b.failure('b', '502', 1_000);
    expect(b.failure('c', '502', 31_500)).toBeNull(); // a is 31.5 s old, b 30.5 s: both out
    expect(b.state).toBe('closed');
  });

  it('a success in between means the failures were the chats\' own', () => {
    const b = make();
    b.failure('a', '502', 0);
    b.failure('b', '502', 1);
    b.success();
    expect(b.failure('c', '502', 2)).toBeNull();
    expect(b.state).toBe('closed');
  });

  it('one probe at a time, with backoff doubling to the cap, closing on the first answered probe', () => {
    const b = make();
    for (const c of ['a', 'b', 'c']) b.failure(c, 'down', 0);
    expect(b.mayProbe(1_999)).toBe(false);
    expect(b.probeIn(1_000)).toBe(1_000);
    expect(b.mayProbe(2_000)).toBe(true);
    b.probeStarted();
    expect(b.state).toBe('probing');
    expect(b.mayProbe(100_000)).toBe(false); // one in flight
    const [failed] = b.probeDone('a', false, '502 Bad Gateway', 2_500);
    expect(failed).toEqual({ event: 'breaker.probe', outcome: 'failed', chat: 'a', probes: 1, reason: '502 Bad Gateway', nextProbeAt: 6_500 });
    const waits: number[] = [];
    let now = 6_500;
    for (let i = 0; i < 6; i++) {
      expect(b.mayProbe(now)).toBe(true);
      b.probeStarted();
      const [ev] = b.probeDone('a', false, 'ECONNREFUSED', now);
      waits.push(ev!.event === 'breaker.probe' ? ev!.nextProbeAt! - now : -1);
      now = ev!.event === 'breaker.probe' ? ev!.nextProbeAt! : now;
    }
    expect(waits).toEqual([8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(b.state).toBe('open');
    b.probeStarted();
    const events = b.probeDone('a', true, null, now + 10);
    expect(events.map((e) => e.event)).toEqual(['breaker.probe', 'breaker.closed']);
    expect(events[1]).toEqual({ event: 'breaker.closed', downMs: now + 10, probes: 8 });
    expect(b.closed).toBe(true);
    expect(b.snapshot()).toMatchObject({ state: 'closed', reason: null, nextProbeAt: null, opened: 1 });
  });

  it('an abandoned probe (the store failed) lets the next one go at once', () => {
    const b = make();
    for (const c of ['a', 'b', 'c']) b.failure(c, 'down', 0);
    b.probeStarted();
    b.probeAbandoned(5_000);
    expect(b.state).toBe('open');
    expect(b.mayProbe(5_000)).toBe(true);
  });

  it('opens again after closing, counting each opening', () => {
    const b = make();
    for (const c of ['a', 'b', 'c']) b.failure(c, 'down', 0);
    b.probeStarted();
    b.probeDone('a', true, null, 3_000);
    for (const c of ['x', 'y', 'z']) b.failure(c, 'down again', 4_000);
    expect(b.snapshot()).toMatchObject({ state: 'open', opened: 2, probes: 0, reason: 'down again' });
  });
});
