import { describe, expect, it } from 'vitest';
import { Breaker } from '../../src/delivery/breaker.js';
import { platformsNow } from '../../src/delivery/status.js';
import type { Platform } from '../../src/render/types.js';

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
