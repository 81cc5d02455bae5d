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

  it('reads include/exclude filters and utm, dropping empty lists', () => {
    const r = parseRoutes(
      `destinations:
  - platform: telegram
    chat: "-1001234567890:42"
    include: { keywords: [Senado, "Câmara dos Deputados"], sections: [Política], tags: [eleições], authors: [], match: "(?i)\\\\bSTF\\\\b" }
    exclude: { keywords: [horóscopo], sections: [Esportes] }
    utm: { source: canal, campaign: eleicoes, content: topo }
  - platform: whatsapp
    chat: "120363000000000000@newsletter"
    utm: false
    exclude: { keywords: [] }
`,
      'routes.yaml',
    );
    expect(r.destinations[0]!.options).toEqual({
      include: { keywords: ['Senado', 'Câmara dos Deputados'], sections: ['Política'], tags: ['eleições'], match: '(?i)\\bSTF\\b' },
      exclude: { keywords: ['horóscopo'], sections: ['Esportes'] },
      utm: { source: 'canal', campaign: 'eleicoes', content: 'topo' },
    });
    expect(r.destinations[1]!.options).toEqual({ utm: false });
  });

  it('refuses a bad filter or utm entry, naming it', () => {
    const dest = (extra: string) => `destinations:\n  - platform: telegram\n    chat: "@canal"\n${extra}`;
    expect(() => parseRoutes(dest('    include: { keyword: [Senado] }\n'), 'r.yaml')).toThrow(/destinations\.0\.include.*keyword/);
    expect(() => parseRoutes(dest('    utm: true\n'), 'r.yaml')).toThrow(/destinations\.0\.utm/);
    expect(() => parseRoutes(dest('    utm: { sorce: x }\n'), 'r.yaml')).toThrow(/destinations\.0\.utm/);
  });

  it('an invalid match pattern stops the start, naming the destination, the pattern and the engine\'s message', () => {
    const text = `destinations:\n  - platform: telegram\n    chat: "@ok"\n  - platform: telegram\n    chat: "-100123:42"\n    include: { match: "(?i)STF(" }\n`;
    expect(() => parseRoutes(text, 'r.yaml')).toThrow(
      'r.yaml: destinations.1 (telegram -100123:42): include.match "(?i)STF(" is not a valid RE2 regular expression: error parsing regexp: missing closing ): `(?i)STF(`',
    );
    // Lookahead is not RE2: refused at start, not at the first article.
    expect(() => parseRoutes(`destinations:\n  - platform: whatsapp\n    chat: "1@g.us"\n    exclude: { match: "a(?!b)" }\n`, 'r.yaml')).toThrow(
      /destinations\.0 \(whatsapp 1@g\.us\): exclude\.match "a\(\?!b\)" is not a valid RE2/,
    );
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
    // The documented filter and utm examples are live, not only comments.
    expect(r.destinations.some((d) => d.options.include?.match && d.options.exclude?.keywords?.length)).toBe(true);
    expect(r.destinations.some((d) => d.options.utm === false)).toBe(true);
    expect(r.destinations.some((d) => typeof d.options.utm === 'object')).toBe(true);
  });
});
