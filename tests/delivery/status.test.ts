import { describe, expect, it } from 'vitest';
import { Breaker } from '../../src/delivery/breaker.js';
import { feedsAndQueues, health, metrics, platformsNow } from '../../src/delivery/status.js';
import { openStore } from '../../src/store/db.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import type { Platform } from '../../src/render/types.js';
import { WebSubRepo } from '../../src/store/websub.js';

/** The platform lines /health, /metrics and /status share, from real breakers. */

function platform(name: Platform, state: string) {
  return { platform: name, state: () => state };
}

describe('platformsNow', () => {
  it('reads each platform state once with its breaker: up for connected states, degraded while the breaker is not closed', () => {
    const telegram = new Breaker('telegram');
    const whatsapp = new Breaker('whatsapp', { chats: 2 });
    const t0 = Date.parse('2026-12-01T12:00:00Z');
    whatsapp.failure('a', 'ETIMEDOUT', t0);
    expect(whatsapp.failure('b', 'ETIMEDOUT', t0 + 1)).not.toBeNull();
    const dispatcher = { breakers: () => ({ telegram: telegram.snapshot(), whatsapp: whatsapp.snapshot() }) };
    const now = platformsNow({ dispatcher, platforms: [platform('telegram', 'polling'), platform('whatsapp', 'connecting')] });
    expect(now.platforms.map((p) => [p.platform, p.state, p.up, p.degraded?.state ?? null])).toEqual([
      ['telegram', 'polling', true, null],
      ['whatsapp', 'connecting', false, 'open'],
    ]);
    expect(now.platforms[1]!.degraded!.reason).toBe('ETIMEDOUT');
    expect(Object.keys(now.breakers)).toEqual(['telegram', 'whatsapp']);
  });

  it('a platform without a breaker is never degraded', () => {
    const now = platformsNow({ dispatcher: { breakers: () => ({}) }, platforms: [platform('telegram', 'ready')] });
    expect(now.platforms).toEqual([{ platform: 'telegram', state: 'ready', up: true, degraded: null }]);
  });
});

describe('feedsAndQueues: the feed and queue part of /status, /health and /metrics', () => {
  it('one read gives the feeds, the per-destination queues and the totals the three surfaces show', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const feeds = new FeedRepo(store.db);
      const outbox = new Outbox(store.db);
      const destinations = new DestinationRegistry(store.db);
      await feeds.ensure('https://a.example/feed');
      await feeds.ensure('https://b.example/feed');
      await feeds.update('https://b.example/feed', { failures: 3, last_error: 'HTTP 503' });
      const dest = { id: 'telegram:@canal', platform: 'telegram' as const, chatId: '@canal', threadId: null, options: {} };
      await destinations.upsert(dest);
      await outbox.enqueue([
        { articleId: null, destinationId: dest.id, kind: 'reply', priority: 0, payload: [{ kind: 'text', text: 'a' }] },
        { articleId: null, destinationId: dest.id, kind: 'reply', priority: 0, payload: [{ kind: 'text', text: 'b' }] },
      ]);
      const platforms = [{ platform: 'telegram' as const, state: () => 'polling', destinations: [dest] }];
      const sources = { feeds, outbox, destinations, platforms, store };
      const fq = await feedsAndQueues(sources);
      expect(fq.feeds.map((f) => [f.url, f.failures, f.lastError])).toEqual([
        ['https://a.example/feed', 0, null],
        ['https://b.example/feed', 3, 'HTTP 503'],
      ]);
      expect(fq.queues).toEqual([{ destinationId: dest.id, label: '@canal', pending: 2, failed: 0, dead: false }]);
      expect(fq.deliveries).toEqual({ pending: 2 });

      const dispatcher = { breakers: () => ({}), fault: null, running: true, stats: { sent: 0, failed: 0, retried: 0, rateLimited: 0, held: 0, passFailures: 0 } };
      const h = await health({ ...sources, dispatcher } as never);
      expect(h).toMatchObject({ ok: true, feeds: { total: 2, failing: [{ url: 'https://b.example/feed', failures: 3, error: 'HTTP 503' }] }, deliveries: { pending: 2 } });
      const m = await metrics({ ...sources, dispatcher } as never);
      expect(m.find((x) => x.name === 'manchete_feed_failures')!.values.map((v) => v.value)).toEqual([0, 3]);
      expect(m.find((x) => x.name === 'manchete_deliveries')!.values).toEqual([{ labels: { status: 'pending' }, value: 2 }]);
      // No WebSub subscription: neither surface mentions WebSub.
      expect(h).not.toHaveProperty('websub');
      expect(m.find((x) => x.name === 'manchete_websub_subscriptions')).toBeUndefined();

      // One live subscription and one the hub refused: both counted, the refused one named with its reason.
      const repo = new WebSubRepo(store.db);
      const sub = (id: string, feed: string, state: string, error: string | null) => ({
        id, feed_url: feed, hub: 'https://hub.example/', topic: feed, secret: 's'.repeat(64), state, pending_mode: null, lease_seconds: 86_400,
        requested_at: null, verified_at: null, expires_at: null, next_attempt_at: error ? '2026-12-02T18:00:00.000Z' : null, last_error: error, last_notified_at: null, created_at: '2026-12-02T12:00:00.000Z',
      });
      await repo.insert(sub('a1', 'https://a.example/feed', 'live', null));
      await repo.insert(sub('b1', 'https://b.example/feed', 'denied', 'denied: topic not allowed'));
      const h2 = await health({ ...sources, dispatcher } as never);
      expect(h2).toMatchObject({
        ok: true,
        websub: { states: { live: 1, denied: 1 }, notLive: [{ feed: 'https://b.example/feed', hub: 'https://hub.example/', state: 'denied', error: 'denied: topic not allowed', retryAt: '2026-12-02T18:00:00.000Z' }] },
      });
      const m2 = await metrics({ ...sources, dispatcher } as never);
      expect(m2.find((x) => x.name === 'manchete_websub_subscriptions')!.values).toEqual([
        { labels: { state: 'live' }, value: 1 },
        { labels: { state: 'denied' }, value: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});
