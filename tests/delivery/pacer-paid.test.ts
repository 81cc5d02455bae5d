import { describe, expect, it } from 'vitest';
import { Pacer, telegramPolicy } from '../../src/delivery/pacer.js';
import type { Destination } from '../../src/delivery/types.js';
import { createPaidBroadcast } from '../../src/platforms/telegram/paid.js';

/** The pacer with paid broadcasts on: private chats on the 1000/s ceiling, groups and channels on 30/s. */

const tg = (chatId: string): Destination => ({ id: `telegram:${chatId}`, platform: 'telegram', chatId, threadId: null, options: {} });
const users = (n: number, from = 1000) => Array.from({ length: n }, (_, i) => tg(String(from + i)));

/** Sends whenever the pacer allows, round-robin over `dests`, on a virtual clock; returns send times. */
function simulate(pacer: Pacer, dests: Destination[], count: number, start = 0): { times: number[]; to: Destination[] } {
  const times: number[] = [];
  const to: Destination[] = [];
  let now = start;
  let i = 0;
  while (times.length < count) {
    const d = dests[i % dests.length]!;
    const wait = pacer.waitFor(d, now);
    if (wait > 0) {
      now += Math.min(wait, 1);
      continue;
    }
    pacer.reserve(d, now);
    times.push(now);
    to.push(d);
    i++;
  }
  return { times, to };
}

const maxInWindow = (times: number[], windowMs: number) => {
  let best = 0;
  for (let a = 0, b = 0; b < times.length; b++) {
    while (times[b]! - times[a]! >= windowMs) a++;
    best = Math.max(best, b - a + 1);
  }
  return best;
};

function paidPacer(paid = createPaidBroadcast('subscribers')) {
  return {
    paid,
    pacer: new Pacer(telegramPolicy({ maxPerSecond: 30, chatGapMs: 1000, groupPerMinute: 20, paid: { maxPerSecond: 1000, applies: (d) => paid.applies(d) } })),
  };
}

describe('Pacer with paid broadcasts', () => {
  it('lets private subscribers go at the paid ceiling (97% of 1000/s), never above 1000 in any second', () => {
    const { pacer } = paidPacer();
    const { times } = simulate(pacer, users(5000), 5000);
    const span = (times.at(-1)! - times[0]!) / 1000;
    const rate = (times.length - 1) / span;
    expect(rate).toBeGreaterThan(900);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(1000);
  });

  it('keeps channels and groups at 30/s, and they count against the paid ceiling too', () => {
    const { pacer } = paidPacer();
    const mixed = [...users(600), ...Array.from({ length: 60 }, (_, i) => tg(`-100${2000 + i}`))];
    const { times, to } = simulate(pacer, mixed, 3000);
    const groupTimes = times.filter((_, i) => to[i]!.chatId.startsWith('-'));
    expect(groupTimes.length).toBeGreaterThan(0);
    expect(maxInWindow(groupTimes, 1000)).toBeLessThanOrEqual(30);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(1000);
  });

  it('still holds one message per second to one private chat', () => {
    const { pacer } = paidPacer();
    const { times } = simulate(pacer, [tg('42')], 5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it('falls back to 30/s for everyone once paid broadcasts are turned off (Stars ran out)', () => {
    const { pacer, paid } = paidPacer();
    const before = simulate(pacer, users(2000), 1000);
    expect(paid.turnOff('Bad Request: BALANCE_TOO_LOW')).toBe(true);
    expect(paid.turnOff('again')).toBe(false);
    const after = simulate(pacer, users(2000, 10_000), 300, before.times.at(-1)! + 1);
    expect(maxInWindow(after.times, 1000)).toBeLessThanOrEqual(30);
    const rate = (after.times.length - 1) / ((after.times.at(-1)! - after.times[0]!) / 1000);
    expect(rate).toBeGreaterThan(28);
    expect(rate).toBeLessThanOrEqual(30);
  });

  it('without paid broadcasts configured, private chats share the 30/s ceiling', () => {
    const { pacer } = paidPacer(createPaidBroadcast('off'));
    const { times } = simulate(pacer, users(400), 300);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(30);
  });

  it('a send that missed its slot takes the next one of its line, not a second one of its chat', () => {
    const { pacer } = paidPacer();
    const d = tg('77');
    pacer.reserve(d, 0);
    // 50 ms late: the retake waits only for the line (free now), not for the chat's own one-second gap.
    expect(pacer.retake(d, 50)).toBe(0);
    expect(pacer.waitFor(tg('78'), 50)).toBeGreaterThan(0);
  });
});
