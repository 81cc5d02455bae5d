import { describe, expect, it } from 'vitest';
import { parseRoutes, quietHoursEnd } from '../../src/delivery/routes-file.js';

describe('routes file', () => {
  it('reads feeds and destinations from YAML', () => {
    const r = parseRoutes(
      `feeds:\n  - url: https://site/feed\n    interval: 5m\n    boilerplate: ["^Leia mais"]\ndestinations:\n  - platform: telegram\n    chat: "@mundo"\n    sections: [Mundo]\n    silent: true\n    quietHours: "23:00-07:00"\n`,
      'routes.yaml',
    );
    expect(r.feeds[0]).toMatchObject({ url: 'https://site/feed', intervalMs: 300_000 });
    expect(r.feeds[0]!.boilerplate[0]!.test('leia mais: outra')).toBe(true);
    expect(r.destinations[0]).toEqual({
      platform: 'telegram',
      chat: '@mundo',
      options: { sections: ['Mundo'], silent: true, quietHours: '23:00-07:00' },
    });
  });

  it('says which entry is wrong', () => {
    expect(() => parseRoutes('destinations:\n  - platform: signal\n    chat: x\n', 'r.yaml')).toThrow(/destinations\.0\.platform/);
    expect(() => parseRoutes('destinations:\n  - platform: telegram\n    chat: x\n    quietHours: "late"\n', 'r.yaml')).toThrow('quietHours is HH:MM-HH:MM');
    expect(() => parseRoutes('feeds:\n  - url: x\n    boilerplate: ["("]\n', 'r.yaml')).toThrow('feeds.0.boilerplate.0 is not a regular expression');
    expect(() => parseRoutes('{bad json', 'r.json')).toThrow('r.json is not valid JSON');
  });

  it('computes the end of quiet hours in the configured time zone', () => {
    // 02:30 in São Paulo (UTC-3) is 05:30 UTC.
    const now = new Date('2026-11-26T05:30:00Z');
    expect(quietHoursEnd('23:00-07:00', now, 'America/Sao_Paulo')?.toISOString()).toBe('2026-11-26T10:00:00.000Z');
    expect(quietHoursEnd('12:00-14:00', now, 'America/Sao_Paulo')).toBeNull();
    expect(quietHoursEnd('01:00-03:00', now, 'America/Sao_Paulo')?.toISOString()).toBe('2026-11-26T06:00:00.000Z');
  });
});

describe('examples/routes.yaml', () => {
  it('is a valid routes file', async () => {
    const { loadRoutesFile } = await import('../../src/delivery/routes-file.js');
    const r = loadRoutesFile(new URL('../../examples/routes.yaml', import.meta.url).pathname);
    expect(r.destinations.length).toBeGreaterThan(3);
    expect(r.feeds[0]!.intervalMs).toBe(300_000);
  });
});
