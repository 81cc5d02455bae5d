import { describe, expect, it } from 'vitest';
import { Pacer, replyReserve, telegramPolicy, waitShared, whatsappPolicy } from '../../src/delivery/pacer.js';
import type { Destination } from '../../src/delivery/types.js';

const tg = (chatId: string): Destination => ({ id: `telegram:${chatId}`, platform: 'telegram', chatId, threadId: null, options: {} });
const wa = (chatId: string): Destination => ({ id: `whatsapp:${chatId}`, platform: 'whatsapp', chatId, threadId: null, options: {} });

/** Drives a pacer like the dispatcher does: send whenever allowed, advancing a virtual clock. */
function simulate(pacer: Pacer, dests: Destination[], count: number): number[] {
  const times: number[] = [];
  let now = 0;
  let i = 0;
  while (times.length < count) {
    const d = dests[i % dests.length]!;
    const wait = pacer.waitFor(d, now);
    if (wait > 0) {
      now += wait;
      continue;
    }
    pacer.reserve(d, now);
    times.push(now);
    i++;
  }
  return times;
}

const maxInWindow = (times: number[], windowMs: number) => {
  let best = 0;
  for (let a = 0, b = 0; b < times.length; b++) {
    while (times[b]! - times[a]! >= windowMs) a++;
    best = Math.max(best, b - a + 1);
  }
  return best;
};

describe('Pacer (Telegram)', () => {
  const policy = telegramPolicy({ maxPerSecond: 30, chatGapMs: 1000, groupPerMinute: 20 });

  it('counts a chat\'s gap from when the previous call came back, so a slow request cannot crowd the next', () => {
    const pacer = new Pacer(policy);
    const d = tg('42');
    pacer.reserve(d, 0);
    expect(pacer.waitFor(d, 0)).toBe(1000);
    // The request took 700 ms to be answered: at the platform it may have arrived late.
    pacer.settled(d, 700);
    expect(pacer.waitFor(d, 1000)).toBe(700);
    // An answer older than the reservation changes nothing.
    pacer.settled(d, 100);
    expect(pacer.waitFor(d, 1700)).toBe(0);
    // A chat the pacer never saw stays unknown.
    pacer.settled(tg('7'), 5000);
    expect(pacer.waitFor(tg('7'), 5000)).toBe(0);
  });

  it('stays under 30 messages per second across many private chats, close to the ceiling', () => {
    const dests = Array.from({ length: 500 }, (_, i) => tg(String(1000 + i)));
    const times = simulate(new Pacer(policy), dests, 600);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(30);
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
    expect(rate).toBeGreaterThan(28.5);
  });

  it('makes up for late sends without ever exceeding the ceiling', () => {
    let seed = 3;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const p = new Pacer(policy);
    const dests = Array.from({ length: 500 }, (_, i) => tg(String(1000 + i)));
    const times: number[] = [];
    let now = 0;
    for (let i = 0; times.length < 600; ) {
      const d = dests[i % dests.length]!;
      const wait = p.waitFor(d, now);
      if (wait > 0) {
        // The dispatcher wakes up late by 0–8 ms, as timers and database reads do.
        now += wait + Math.floor(random() * 8);
        continue;
      }
      p.reserve(d, now);
      times.push(now);
      i++;
    }
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(30);
    expect((times.length - 1) / ((times.at(-1)! - times[0]!) / 1000)).toBeGreaterThan(28.5);
  });

  it('sends at most one message per second to one chat', () => {
    const times = simulate(new Pacer(policy), [tg('42')], 10);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it('queues a burst of 50 to one channel at 20 per minute', () => {
    const times = simulate(new Pacer(policy), [tg('@canal')], 50);
    expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(20);
    expect(times.at(-1)!).toBeGreaterThanOrEqual(120_000);
  });

  it('honours a pause for one chat without holding the others', () => {
    const p = new Pacer(policy);
    p.pauseChat('@a', 5_000);
    expect(p.waitFor(tg('@a'), 0)).toBe(5_000);
    expect(p.waitFor(tg('@b'), 0)).toBe(0);
  });
});

describe('Pacer (WhatsApp)', () => {
  it('spaces sends by a jittered 4–8 s gap and caps the hour', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const p = new Pacer(whatsappPolicy({ gapMs: { min: 4000, max: 8000 }, chatGapMs: 30_000, hourlyCap: 60 }), random);
    const dests = Array.from({ length: 20 }, (_, i) => wa(`1203630${i}@g.us`));
    const times = simulate(p, dests, 130);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(4000);
    expect(new Set(gaps.map((g) => Math.round(g / 100))).size).toBeGreaterThan(5);
    expect(maxInWindow(times, 3_600_000)).toBeLessThanOrEqual(60);
  });

  it('keeps the per-chat gap', () => {
    const p = new Pacer(whatsappPolicy({ gapMs: { min: 4000, max: 4000 }, chatGapMs: 30_000, hourlyCap: 1000 }));
    const times = simulate(p, [wa('1@g.us')], 4);
    expect(times).toEqual([0, 30_000, 60_000, 90_000]);
  });
});

describe('WhatsApp reply reserve', () => {
  const policy = () => whatsappPolicy({ gapMs: { min: 1000, max: 1000 }, chatGapMs: 0, hourlyCap: 10, replyShare: 0.2 });

  it('keeps a share of the hourly cap for replies: posts stop at the rest, replies at the reserve', () => {
    const p = new Pacer(policy());
    expect(p.policy.replyReserve).toBe(2);
    let now = 0;
    for (let i = 0; i < 8; i++) {
      now += p.waitFor(wa(`g${i}@g.us`), now, 'article');
      p.reserve(wa(`g${i}@g.us`), now, 'article');
    }
    // The posts' share (8 of 10) is used: the next post waits for the hour, a reply goes after the gap.
    expect(p.waitFor(wa('x@g.us'), now, 'article')).toBeGreaterThan(3_000_000);
    expect(p.waitFor(wa('x@g.us'), now, 'reply')).toBe(1000);
    now += 1000;
    p.reserve(wa('r1@s.whatsapp.net'), now, 'reply');
    now += 1000;
    p.reserve(wa('r2@s.whatsapp.net'), now, 'reply');
    expect(p.waitFor(wa('r3@s.whatsapp.net'), now, 'reply')).toBeGreaterThan(3_000_000);
  });

  it('replies cannot take the posts share', () => {
    const p = new Pacer(policy());
    let now = 0;
    for (let i = 0; i < 2; i++) {
      now += p.waitFor(wa(`r${i}@s.whatsapp.net`), now, 'reply');
      p.reserve(wa(`r${i}@s.whatsapp.net`), now, 'reply');
    }
    expect(p.waitFor(wa('r9@s.whatsapp.net'), now, 'reply')).toBeGreaterThan(3_000_000);
    expect(p.waitFor(wa('g@g.us'), now, 'edit')).toBe(1000);
  });

  it('the reserve is the share rounded down and never the whole cap; 0 means one shared cap', () => {
    expect(replyReserve(60, 0.2)).toBe(12);
    expect(replyReserve(5, 0.2)).toBe(1);
    expect(replyReserve(1, 0.5)).toBe(0);
    expect(replyReserve(60, 0)).toBe(0);
    const shared = new Pacer(whatsappPolicy({ gapMs: { min: 0, max: 0 }, chatGapMs: 0, hourlyCap: 2 }));
    shared.reserve(wa('a@g.us'), 0, 'reply');
    shared.reserve(wa('b@g.us'), 0, 'article');
    expect(shared.waitFor(wa('c@g.us'), 0, 'reply')).toBe(3_600_000);
  });
});

describe('waitShared (the budget several instances share)', () => {
  it('waits for the slot, and a slot missed by more than 10 ms is given up for a fresh one (at most three tries)', async () => {
    let now = 1_000;
    const asked: number[] = [];
    // A budget whose slots are always 100 ms ahead; this "process" wakes 30 ms late twice, then on time.
    let lateness = [30, 30, 0];
    const budget = {
      take: async (gap: number) => {
        asked.push(gap);
        return now + 100;
      },
    };
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      now += ms + (lateness.shift() ?? 0);
      return realSetTimeout(fn, 0);
    }) as typeof setTimeout;
    try {
      await waitShared(budget, 35, () => now);
      expect(asked).toEqual([35, 35, 35]);
      expect(now).toBe(1_000 + 130 + 130 + 100);
      // Always late: it goes after the third slot rather than never.
      asked.length = 0;
      lateness = [50, 50, 50];
      await waitShared(budget, 35, () => now);
      expect(asked).toHaveLength(3);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  });

  it('a budget that cannot answer rejects (the send goes back to the queue)', async () => {
    await expect(waitShared({ take: () => Promise.reject(new Error('connection refused')) }, 35)).rejects.toThrow('connection refused');
  });
});
