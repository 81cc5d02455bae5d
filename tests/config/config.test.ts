import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig, parseBytes, parseDuration } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.feeds).toEqual(['examples/feed.xml']);
    expect(c.pollIntervalMs).toBe(120_000);
    expect(c.timeZone).toBe('America/Sao_Paulo');
    expect(c.telegram.token).toBeNull();
    expect(c.fetch).toMatchObject({ timeoutMs: 15_000, maxBytes: 5 * 1024 * 1024 });
    expect(c.whatsapp.gapMs).toEqual({ min: 4000, max: 8000 });
    expect(c.whatsapp.privatePush).toBe(false);
  });

  it('names the variable, the problem and an example', () => {
    expect(() => loadConfig({ POLL_INTERVAL: '2 minutos' })).toThrow('POLL_INTERVAL="2 minutos" is not a duration; use 120s, 2m or 1h');
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ POLL_INTERVAL: 'x', TZ: 'Mars/Base', BACKFILL: '-1', EDITORS: 'bob', TELEGRAM_BOT_TOKEN: 'nope' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).message;
      expect(text).toContain('POLL_INTERVAL');
      expect(text).toContain('BACKFILL="-1" must be a whole number');
      expect(text).toContain('TELEGRAM_BOT_TOKEN does not look like a bot token');
    }
    expect(() => loadConfig({ TZ: 'Mars/Base' })).toThrow('TZ="Mars/Base" is not a time zone');
    expect(() => loadConfig({ EDITORS: 'bob' })).toThrow('EDITORS entry "bob" is not platform:id');
    expect(() => loadConfig({ EDITORS: 'whatsapp:5511999998888@lid' })).toThrow(
      'EDITORS entry "whatsapp:5511999998888@lid" is not a WhatsApp phone number',
    );
    expect(() => loadConfig({ EDITORS: 'whatsapp:120363@g.us' })).toThrow('is not a WhatsApp phone number');
    expect(() => loadConfig({ EDITORS: 'telegram:@ana' })).toThrow('EDITORS entry "telegram:@ana" is not a Telegram user id (an integer)');
    expect(() => loadConfig({ EDITORS: 'telegram:12.5' })).toThrow('is not a Telegram user id');
  });

  it('never echoes a token in its errors', () => {
    const token = '123456:' + 'A'.repeat(10);
    try {
      loadConfig({ TELEGRAM_BOT_TOKEN: token });
    } catch (err) {
      expect((err as Error).message).not.toContain(token);
    }
  });

  it('parses editors, lists and rates', () => {
    const c = loadConfig({
      EDITORS: 'telegram:12345, whatsapp:+5511999998888',
      TELEGRAM_CHATS: '@canal,-1001234567890:42',
      REPLY_RATE: '10/min',
      WHATSAPP_GAP: '5s-9s',
    });
    expect(c.editors).toEqual([
      { platform: 'telegram', id: '12345' },
      { platform: 'whatsapp', id: '5511999998888' },
    ]);
    expect(c.telegram.chats).toEqual(['@canal', '-1001234567890:42']);
    // WhatsApp numbers are normalised to digits here, once, so the router compares plain strings.
    expect(
      loadConfig({ EDITORS: 'wa:+55 11 99999-8888,whatsapp:5511977776666@s.whatsapp.net,tg:-42' }).editors,
    ).toEqual([
      { platform: 'whatsapp', id: '5511999998888' },
      { platform: 'whatsapp', id: '5511977776666' },
      { platform: 'telegram', id: '-42' },
    ]);
    expect(c.replyRate).toEqual({ count: 10, perMs: 60_000 });
    expect(c.whatsapp.gapMs).toEqual({ min: 5000, max: 9000 });
    expect(() => loadConfig({ WHATSAPP_GAP: '9s-5s' })).toThrow('WHATSAPP_GAP="9s-5s" is not a duration range');
  });

  it('parses the WhatsApp reply share and group reply rate (a rate may name its window: 5/10min)', () => {
    const d = loadConfig({});
    expect(d.whatsapp.replyShare).toBeCloseTo(0.2);
    expect(d.whatsapp.groupReplyRate).toEqual({ count: 5, perMs: 600_000 });
    const c = loadConfig({ WHATSAPP_REPLY_SHARE: '35%', WHATSAPP_GROUP_REPLY_RATE: '3/2h', REPLY_RATE: '4/30s' });
    expect(c.whatsapp.replyShare).toBeCloseTo(0.35);
    expect(c.whatsapp.groupReplyRate).toEqual({ count: 3, perMs: 7_200_000 });
    expect(c.replyRate).toEqual({ count: 4, perMs: 30_000 });
    expect(loadConfig({ WHATSAPP_REPLY_SHARE: '0%' }).whatsapp.replyShare).toBe(0);
    expect(() => loadConfig({ WHATSAPP_REPLY_SHARE: '80%' })).toThrow('WHATSAPP_REPLY_SHARE="80%" must be a percentage from 0% to 50%');
    expect(() => loadConfig({ WHATSAPP_GROUP_REPLY_RATE: '5/0min' })).toThrow('WHATSAPP_GROUP_REPLY_RATE="5/0min" is not a rate');
  });

  it('parses durations and sizes', () => {
    expect(parseDuration('120s')).toBe(120_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('2 minutos')).toBeNull();
    expect(parseDuration('')).toBeNull();
    expect(parseBytes('5MB')).toBe(5 * 1024 * 1024);
    expect(parseBytes('512kb')).toBe(512 * 1024);
    expect(parseBytes('lots')).toBeNull();
  });

  it('.env.example lists every variable with its default', () => {
    const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    for (const [name, value] of Object.entries(DEFAULTS)) {
      const m = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
      expect(m, `${name} missing from .env.example`).not.toBeNull();
      expect(m![1], name).toBe(value);
    }
  });
});

describe('polling at scale settings', () => {
  it('POLL_CONCURRENCY, POLL_CONCURRENCY_PER_HOST and RETENTION: defaults, off, and RETENTION longer than MAX_ARTICLE_AGE', () => {
    const c = loadConfig({});
    expect(c.pollConcurrency).toEqual({ overall: 64, perHost: 4 });
    expect(c.retentionMs).toBe(90 * 86_400_000);
    expect(loadConfig({ RETENTION: 'off' }).retentionMs).toBeNull();
    expect(loadConfig({ RETENTION: '30d', POLL_CONCURRENCY: '8', POLL_CONCURRENCY_PER_HOST: '1' })).toMatchObject({ retentionMs: 30 * 86_400_000, pollConcurrency: { overall: 8, perHost: 1 } });
    expect(() => loadConfig({ RETENTION: '1d' })).toThrow(/RETENTION=1d must be longer than MAX_ARTICLE_AGE=48h/);
    expect(() => loadConfig({ RETENTION: 'forever' })).toThrow(/RETENTION="forever" is not a duration/);
    expect(() => loadConfig({ POLL_CONCURRENCY: '0' })).toThrow(/POLL_CONCURRENCY="0" must be a whole number from 1 to 1000/);
  });
});

describe('TEMPLATES_DIR', () => {
  it('the default finds the bundled templates from any working folder; an absolute one is kept', async () => {
    const { existsSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const before = process.cwd();
    const elsewhere = mkdtempSync(join(tmpdir(), 'manchete-cwd-'));
    try {
      process.chdir(elsewhere);
      const dir = loadConfig({}).templatesDir;
      expect(existsSync(join(dir, 'locales', 'commands.en.json'))).toBe(true);
      expect(dir.startsWith(elsewhere)).toBe(false);
      expect(loadConfig({ TEMPLATES_DIR: '/srv/tpl' }).templatesDir).toBe('/srv/tpl');
    } finally {
      process.chdir(before);
    }
  });
});
