import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../src/lib/bounded.js';

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('mapBounded', () => {
  it('keeps at most `overall` in flight and at most `perKey` per key, and returns results in order', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ i, host: `h${i % 3}` }));
    let inFlight = 0;
    let peak = 0;
    const perHost = new Map<string, number>();
    let peakPerHost = 0;
    const out = await mapBounded(items, { overall: 5, perKey: 2, key: (x) => x.host }, async (x) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      perHost.set(x.host, (perHost.get(x.host) ?? 0) + 1);
      peakPerHost = Math.max(peakPerHost, perHost.get(x.host)!);
      await tick(2 + (x.i % 4));
      perHost.set(x.host, perHost.get(x.host)! - 1);
      inFlight--;
      return x.i * 10;
    });
    expect(out).toEqual(items.map((x) => x.i * 10));
    // Three hosts at two each: six could run, the overall limit holds it at five.
    expect(peak).toBe(5);
    expect(peakPerHost).toBe(2);
  });

  it('a host at its limit does not hold back the others', async () => {
    const order: string[] = [];
    const items = ['a1', 'a2', 'a3', 'a4', 'b1'];
    await mapBounded(items, { overall: 4, perKey: 1, key: (x) => x[0]! }, async (x) => {
      order.push(x);
      await tick(x.startsWith('a') ? 20 : 1);
    });
    // b1 starts second, while a1 still runs, not after every a.
    expect(order.slice(0, 2)).toEqual(['a1', 'b1']);
  });

  it('empty input and a failing call', async () => {
    expect(await mapBounded([], { overall: 2, perKey: 1, key: String }, async () => 1)).toEqual([]);
    await expect(mapBounded([1, 2, 3], { overall: 2, perKey: 2, key: () => 'k' }, async (n) => {
      if (n === 2) throw new Error('boom');
      return n;
    })).rejects.toThrow('boom');
  });
});
