import { describe, expect, it } from 'vitest';
import { articlesFromFeed, failureWaitMs, floorSeconds, MAX_BACKOFF_MS, MAX_FLOOR_MS, nextPollAt } from '../../src/sources/poller.js';

/** The poller's pure parts: feed text → articles, and when to poll next. */

const FEED = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Folha Teste</title><link>https://example.com/</link><ttl>15</ttl>
<item><title>Sem seção</title><link>https://example.com/a</link><guid>a</guid><description>Um lead com palavras suficientes para contar como lead de verdade.</description></item>
<item><title>Com seção</title><link>https://example.com/b</link><guid>b</guid><category>Esportes</category><description>Outro lead com palavras suficientes para contar como lead.</description></item>
<item><title>Link ruim</title><link>file:///etc/passwd</link><guid>c</guid></item>
</channel></rss>`;

describe('articlesFromFeed', () => {
  it('gives items without a section the routes file default, keeps their own, and reports skipped items', () => {
    const r = articlesFromFeed(FEED, 'https://example.com/feed.xml', 'https://example.com/feed.xml', { summaryMaxChars: 300, section: 'Cidades' });
    expect(r.title).toBe('Folha Teste');
    expect(r.ttlMinutes).toBe(15);
    expect(r.articles.map((a) => [a.title, a.section])).toEqual([
      ['Sem seção', 'Cidades'],
      ['Com seção', 'Esportes'],
    ]);
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0]).toMatch(/link/i);
  });

  it('without a default, an item without a section stays without one', () => {
    const r = articlesFromFeed(FEED, 'https://example.com/feed.xml', 'https://example.com/feed.xml', { summaryMaxChars: 300 });
    expect(r.articles[0]!.section).toBeNull();
  });

  it('throws the parser error for what is not a feed', () => {
    expect(() => articlesFromFeed('<html><head><title>x</title></head></html>', 'https://example.com/', 'https://example.com/', { summaryMaxChars: 300 })).toThrow();
  });
});

describe('next poll', () => {
  const T = new Date('2026-12-01T10:00:00Z');
  it('is the interval, or the feed floor (max-age, ttl) when longer, capped at an hour', () => {
    expect(nextPollAt(T, 120_000, null, null).getTime() - T.getTime()).toBe(120_000);
    expect(nextPollAt(T, 120_000, 600, null).getTime() - T.getTime()).toBe(600_000);
    expect(nextPollAt(T, 120_000, 60, 15).getTime() - T.getTime()).toBe(900_000);
    expect(nextPollAt(T, 120_000, 86_400, null).getTime() - T.getTime()).toBe(MAX_FLOOR_MS);
    expect(floorSeconds(null, null)).toBeNull();
    expect(floorSeconds(0, 0)).toBeNull();
  });

  it('a failing feed waits interval × 2^failures, jittered into [50 %, 100 %], at most an hour', () => {
    expect([1, 2, 3].map((f) => failureWaitMs(f, 60_000, () => 1))).toEqual([120_000, 240_000, 480_000]);
    expect(failureWaitMs(1, 60_000, () => 0)).toBe(60_000);
    expect(failureWaitMs(30, 60_000, () => 1)).toBe(MAX_BACKOFF_MS);
    for (let i = 0; i < 50; i++) {
      const w = failureWaitMs(2, 60_000);
      expect(w).toBeGreaterThanOrEqual(120_000);
      expect(w).toBeLessThanOrEqual(240_000);
    }
  });
});
