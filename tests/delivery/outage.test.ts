import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES } from '../../src/delivery/routes-file.js';
import { startFakeTelegram, TG_ERRORS, type FakeTelegram } from '../fakes/telegram-api.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { sleep, tempDir, until } from '../e2e/helpers.js';

/**
 * A total outage of the Bot API, the whole app in this process: the real telegraf client, a real SQLite
 * file, the real HTTP server. The fake first refuses connections, then answers 502 to everything, for far
 * longer than MAX_ATTEMPTS backoffs (timings shortened through the app's dispatcher options), then comes
 * back. Every queued message must arrive once, in order per chat, with no `failed` row and no requeue;
 * while the breaker is open, /health says so.
 */

const CHATS = [-1001000000101, -1001000000102, -1001000000103, -1001000000104, -1001000000105];
const PER_CHAT = 4;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup() {
  const dir = tempDir('manchete-outage-');
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, limits: false });
  for (const id of CHATS) fake.addChat({ id, type: 'channel', title: `Canal ${id}`, botIsAdmin: true, canPost: true });
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: 'examples/feed.xml',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_CHATS: CHATS.join(','),
    TELEGRAM_CHAT_GAP: '0s',
    // Probes come every 50-250 ms here (minutes apart in production): they would spend a channel's 20/min.
    TELEGRAM_GROUP_PER_MINUTE: '1000',
    HTTP_PORT: '0',
    MAX_ATTEMPTS: '3',
    LOG_LEVEL: 'debug',
  });
  const mem = memoryLogger();
  const platforms = await createPlatformModules(config, mem.logger, EMPTY_ROUTES);
  const app: App = await startApp({
    config,
    logger: mem.logger,
    platforms,
    routes: EMPTY_ROUTES,
    print: () => undefined,
    dispatcher: { backoffBaseMs: 200, sendTimeoutMs: 2_000, breaker: { chats: 3, windowMs: 30_000, probeBaseMs: 50, probeCapMs: 250 } },
  });
  cleanup.push(async () => {
    await app.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, fake, mem };
}

const events = (lines: string[], name: string) => lines.filter((l) => l.includes(`"event":"${name}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('a total Bot API outage', () => {
  it('refused connections, then 502s, for longer than MAX_ATTEMPTS backoffs: everything delivered once, in order, by itself', async () => {
    const { app, fake, mem } = await setup();
    await until(() => app.platforms[0]!.sender.ready(), 10_000, 'Telegram sign-in');
    const health = async () => (await fetch(`${app.httpUrl}/health`)).json() as Promise<Record<string, unknown>>;
    expect((await health()).degraded).toEqual([]);

    await fake.refuseConnections();
    const t0 = Date.now();
    const items = CHATS.flatMap((chat) =>
      Array.from({ length: PER_CHAT }, (_, i) => ({
        articleId: null,
        destinationId: `telegram:${chat}`,
        kind: 'article' as const,
        priority: 0,
        payload: [{ kind: 'text' as const, text: `${chat} #${i + 1}` }],
      })),
    );
    await app.outbox.enqueue(items);
    app.dispatcher.wake();

    await until(() => app.dispatcher.breakers().telegram?.state !== 'closed', 10_000, 'the breaker to open');
    const during = await health();
    expect(during.ok).toBe(true);
    expect(during.degraded).toEqual([expect.objectContaining({ platform: 'telegram', state: expect.stringMatching(/open|probing/), opened: 1 })]);
    expect(JSON.stringify(during.degraded)).toMatch(/could not reach Telegram|ECONNREFUSED/);
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/manchete_breaker_open\{platform="telegram",state="(open|probing)"\} 1/);

    // Connection refused for 1.5 s, then 502s for 1.5 s: at MAX_ATTEMPTS=3 the retry backoff is at most
    // 200 + 400 ms, so without the breaker every row would have failed long before the end.
    await sleep(1_500 - (Date.now() - t0));
    const unscript = fake.script(() => TG_ERRORS.badGateway);
    await fake.acceptConnections();
    await until(() => fake.calls.some((c) => c.status === 502 && c.method === 'sendMessage'), 10_000, 'a probe answered 502');
    await sleep(1_500);
    expect(fake.sent).toHaveLength(0);
    const mid = await app.outbox.counts();
    expect(mid.failed ?? 0).toBe(0);
    expect((mid.pending ?? 0) + (mid.sending ?? 0)).toBe(CHATS.length * PER_CHAT);
    unscript();

    await until(async () => (await app.outbox.counts()).sent === CHATS.length * PER_CHAT, 20_000, 'every delivery sent');
    expect(await app.outbox.counts()).toEqual({ sent: CHATS.length * PER_CHAT });
    for (const chat of CHATS) expect(fake.sentTo(chat).map((m) => m.plain)).toEqual(Array.from({ length: PER_CHAT }, (_, i) => `${chat} #${i + 1}`));
    expect(fake.sent).toHaveLength(CHATS.length * PER_CHAT);

    // At most the failures before the breaker opened were counted (attempts also counts the send that
    // went through): no row reached MAX_ATTEMPTS failures.
    const rows = await app.store.db.selectFrom('deliveries').select(['attempts']).execute();
    expect(Math.max(...rows.map((r) => r.attempts))).toBeLessThanOrEqual(3);

    expect(events(mem.lines, 'breaker.open')).toHaveLength(1);
    const probes = events(mem.lines, 'breaker.probe');
    expect(probes.filter((p) => p.outcome === 'failed').length).toBeGreaterThanOrEqual(3);
    expect(probes.at(-1)).toMatchObject({ outcome: 'sent', platform: 'telegram' });
    expect(events(mem.lines, 'breaker.closed')).toHaveLength(1);
    expect(events(mem.lines, 'delivery.failed')).toHaveLength(0);
    const after = await health();
    expect(after.degraded).toEqual([]);
    expect((after.dispatcher as { breakers: Record<string, { state: string }> }).breakers.telegram!.state).toBe('closed');
  }, 60_000);
});
