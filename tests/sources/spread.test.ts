import { describe, expect, it } from 'vitest';
import { nextSlot, PHASE_SCALE, pollPeriodMs, pollPhase, slotAfter } from '../../src/sources/poller.js';
import { HostLimiter, hostKey } from '../../src/sources/limiter.js';

/** The pure parts of polling at scale: phases, slots, and the concurrency limiter. */

const INTERVAL = 10 * 60_000;
const urls = Array.from({ length: 10_000 }, (_, i) => `https://site${i % 700}.example.com.br/feed/${i}.xml`);

describe('phases and slots', () => {
  it('10,000 feeds spread evenly over the interval, by URL alone and with the random part', () => {
    for (const random of [() => 0, Math.random]) {
      const phases = urls.map((u) => pollPhase(u, random));
      expect(phases.every((p) => Number.isInteger(p) && p >= 0 && p < PHASE_SCALE)).toBe(true);
      // Per minute of a 10-minute interval: 1,000 each, give or take 10 %.
      const minutes = Array(10).fill(0);
      for (const p of phases) minutes[Math.floor((p / PHASE_SCALE) * 10)]++;
      for (const n of minutes) expect(Math.abs(n - 1000)).toBeLessThan(100);
      // Per 5-second tick (120 of them): about 83 each, never a burst.
      const ticks = Array(120).fill(0);
      for (const p of phases) ticks[Math.floor((p / PHASE_SCALE) * 120)]++;
      expect(Math.max(...ticks)).toBeLessThan(83 * 1.5);
    }
  });

  it('a URL keeps its hash part: the same random draw gives the same phase, another draw another phase', () => {
    expect(pollPhase(urls[0]!, () => 0.25)).toBe(pollPhase(urls[0]!, () => 0.25));
    expect(pollPhase(urls[0]!, () => 0.25)).not.toBe(pollPhase(urls[0]!, () => 0.75));
  });

  it('slots are on a grid anchored at the epoch: the same whenever the process started', () => {
    const phase = 250_000; // a quarter of the interval
    const t = Date.parse('2026-12-01T10:03:00.000Z');
    const slot = slotAfter(t, INTERVAL, phase);
    expect(new Date(slot).toISOString()).toBe('2026-12-01T10:12:30.000Z');
    expect(slotAfter(t - 3 * 60_000, INTERVAL, phase)).toBe(Date.parse('2026-12-01T10:02:30.000Z'));
  });

  it('a poll that ran late comes back to its own slot; a first poll joins the grid within one and a half intervals', () => {
    const phase = 500_000;
    const slot = Date.parse('2026-12-01T10:05:00.000Z');
    expect(nextSlot(slot, INTERVAL, phase)).toBe(slot + INTERVAL);
    expect(nextSlot(slot + 90_000, INTERVAL, phase)).toBe(slot + INTERVAL);
    expect(nextSlot(slot + INTERVAL / 2 + 1, INTERVAL, phase)).toBe(slot + 2 * INTERVAL);
    for (let i = 0; i < 200; i++) {
      const from = slot + Math.random() * 5 * INTERVAL;
      const next = nextSlot(from, INTERVAL, pollPhase(String(i)));
      expect(next - from).toBeGreaterThanOrEqual(INTERVAL / 2);
      expect(next - from).toBeLessThan(1.5 * INTERVAL);
    }
  });

  it('the period is the interval, or the feed floor when longer, capped at an hour', () => {
    expect(pollPeriodMs(INTERVAL, null)).toBe(INTERVAL);
    expect(pollPeriodMs(INTERVAL, 60)).toBe(INTERVAL);
    expect(pollPeriodMs(INTERVAL, 1800)).toBe(1_800_000);
    expect(pollPeriodMs(INTERVAL, 86_400)).toBe(3_600_000);
  });
});

describe('HostLimiter', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('holds the overall and the per-host limits, and reaches them', async () => {
    const limiter = new HostLimiter(5, 2);
    let active = 0;
    let peak = 0;
    const perHost = new Map<string, number>();
    const hostPeak = new Map<string, number>();
    const task = (host: string) => async () => {
      active++;
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      peak = Math.max(peak, active);
      hostPeak.set(host, Math.max(hostPeak.get(host) ?? 0, perHost.get(host)!));
      await sleep(5);
      active--;
      perHost.set(host, perHost.get(host)! - 1);
      return host;
    };
    const hosts = ['a', 'b', 'c', 'd'];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => limiter.run(hosts[i % 4]!, task(hosts[i % 4]!))));
    expect(results.filter((h) => h === 'a')).toHaveLength(15);
    expect(peak).toBe(5);
    expect([...hostPeak.values()]).toEqual([2, 2, 2, 2]);
    expect(limiter.stats).toEqual({ active: 0, waiting: 0, hosts: 0 });
  });

  it('hosts take turns: a long queue on one host does not delay another host behind it', async () => {
    const limiter = new HostLimiter(2, 2);
    const order: string[] = [];
    const task = (name: string) => async () => {
      order.push(name);
      await sleep(2);
    };
    const all = [...Array.from({ length: 20 }, (_, i) => limiter.run('big', task(`big${i}`))), limiter.run('small', task('small'))];
    await Promise.all(all);
    // The small host's task starts among the first few, not after the twenty of the big one.
    expect(order.indexOf('small')).toBeLessThanOrEqual(3);
  });

  it('a task that throws frees its slots and rejects its caller only', async () => {
    const limiter = new HostLimiter(1, 1);
    const failing = limiter.run('a', async () => {
      throw new Error('boom');
    });
    const ok = limiter.run('a', async () => 'ok');
    await expect(failing).rejects.toThrow('boom');
    await expect(ok).resolves.toBe('ok');
    expect(limiter.stats.active).toBe(0);
  });

  it('counts hosts by name, whatever the port, path or credentials; local files share one key', () => {
    expect(hostKey('https://www.Site.com.br:8443/feed?x=1')).toBe('www.site.com.br');
    expect(hostKey('http://user:pw@127.0.0.2:9000/f.xml')).toBe('127.0.0.2');
    expect(hostKey('http://[::1]:80/feed')).toBe('[::1]');
    expect(hostKey('examples/feed.xml')).toBe('file');
  });
});
