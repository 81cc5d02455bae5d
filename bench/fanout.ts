/**
 * Fan-out of one article to many private chats through the Bot API client as module.ts builds it (our keep-alive
 * transport, telegraf for types and uploads) and the fake Bot API
 * (in its own process, warmed up first: see fake-telegram-process.ts), with the dispatcher, pacer and a
 * SQLite outbox as in production.
 *   fanout.ts limited <chats>      Telegram's limits enforced by the fake; Manchete paces at 30 msg/s.
 *   fanout.ts unlimited <count>    The fake's limits lifted and no pacing: Manchete's own overhead.
 *   fanout.ts backlog <pending>    RSS with that many pending deliveries in the outbox while draining.
 *   fanout.ts paid <subscribers>   One article to that many private subscribers as paid broadcasts
 *                                  (TELEGRAM_PAID_BROADCAST=subscribers): the fake enforces 1000 msg/s for
 *                                  paid sends (30/s otherwise); Manchete paces at the 1000/s ceiling.
 * Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Telegraf } from 'telegraf';
import { createLogger } from '../src/log.js';
import { openStore } from '../src/store/db.js';
import { Outbox } from '../src/delivery/outbox.js';
import { DestinationRegistry } from '../src/delivery/destinations.js';
import { Dispatcher } from '../src/delivery/dispatcher.js';
import { Pacer, telegramPolicy, type PacingPolicy } from '../src/delivery/pacer.js';
import { createTelegramSender } from '../src/platforms/telegram/sender.js';
import { createBotApiTransport, createTelegramClient, telegrafTransport } from '../src/platforms/telegram/client.js';
import { createPaidBroadcast } from '../src/platforms/telegram/paid.js';
import { fakeTelegramProcess, peakRssMb } from './lib.js';

const [mode = 'limited', countArg] = process.argv.slice(2);
const count = Number(countArg ?? (mode === 'limited' ? 2000 : mode === 'unlimited' ? 5000 : mode === 'paid' ? 10_000 : 100_000));
const PAID_CEILING = 1000;
const TOKEN = '123456789:AAH-bench_token_0123456789abcdefghijk';
const NO_LIMITS: PacingPolicy = { globalGapMs: 0, globalJitterMs: 0, chatGapMs: 0, groupWindow: null, globalWindow: null };

const dir = mkdtempSync(join(tmpdir(), 'manchete-bench-'));
const fake = await fakeTelegramProcess({ limits: mode === 'limited' || mode === 'paid', warm: 5000 });
const logger = createLogger({ level: 'warn' }, new Writable({ write: (_c, _e, cb) => cb() }));
const store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
const outbox = new Outbox(store.db);
const registry = new DestinationRegistry(store.db);
const chats = mode === 'backlog' ? 5000 : mode === 'paid' ? count : Math.min(count, 5000);

// Destinations and deliveries are written in bulk (as routing does), outside the timed part.
const now = new Date().toISOString();
for (let i = 0; i < chats; i += 500) {
  await store.db
    .insertInto('destinations')
    .values(
      Array.from({ length: Math.min(500, chats - i) }, (_, k) => ({
        id: `telegram:${1000 + i + k}`,
        platform: 'telegram',
        chat_id: String(1000 + i + k),
        thread_id: null,
        status: 'active',
        status_reason: null,
        options: '{}',
        kind: 'private',
        title: null,
        updated_at: now,
      })),
    )
    .execute();
}
const payload = [{ kind: 'text' as const, text: '<b>Kim Jong Un se reúne com Shoigu</b>\n\nO líder da Coreia do Norte afirmou que o seu país continuará a expandir a cooperação com o governo russo.\n\n🔗 <a href="https://exemplo.manchete.dev/mundo/kim">Leia mais</a>' }];
for (let i = 0; i < count; i += 2000) {
  await outbox.enqueue(
    Array.from({ length: Math.min(2000, count - i) }, (_, k) => ({
      articleId: `a${Math.floor((i + k) / chats)}`,
      destinationId: `telegram:${1000 + ((i + k) % chats)}`,
      kind: 'article' as const,
      priority: 0,
      payload,
    })),
  );
}

// The client as module.ts builds it: telegraf's types and fallback, our keep-alive transport underneath.
const telegraf = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
const transport = createBotApiTransport({ apiRoot: fake.apiRoot, token: TOKEN, fallback: telegrafTransport(telegraf.telegram) });
const client = createTelegramClient({ transport, token: TOKEN });
const paid = createPaidBroadcast(mode === 'paid' ? 'subscribers' : 'off');
const sender = createTelegramSender({ telegram: telegraf, logger, token: TOKEN, client, paid });
const limits = { maxPerSecond: 30, chatGapMs: 1000, groupPerMinute: 20 };
const pacer = new Pacer(
  mode === 'limited' ? telegramPolicy(limits) : mode === 'paid' ? telegramPolicy({ ...limits, paid: { maxPerSecond: PAID_CEILING, applies: (d) => paid.applies(d) } }) : NO_LIMITS,
);
// The dispatcher as production builds it (default concurrency, 64).
const dispatcher = new Dispatcher({ outbox, destinations: registry, senders: { telegram: { sender, pacer } }, logger, maxAttempts: 8 });
const drainTarget = mode === 'backlog' ? Math.min(count, 20_000) : count;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await dispatcher.start();
while (dispatcher.stats.sent + dispatcher.stats.failed < drainTarget) await new Promise((r) => setTimeout(r, 50));
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await dispatcher.stop(5_000);
const stats = await fake.stats();
await fake.stop();
await transport.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const span = (stats.lastAt - stats.firstAt) / 1000;
console.log(
  JSON.stringify({
    mode,
    deliveries: count,
    sent: dispatcher.stats.sent,
    failed: dispatcher.stats.failed,
    tooMany: stats.tooMany,
    paid: stats.paid,
    seconds: elapsed,
    // Rate between the first and the last message the fake received, as Telegram would count it.
    rate: stats.sent > 1 ? (stats.sent - 1) / span : 0,
    peakRssMb: peakRssMb(),
    // This process's CPU (user + sys) per delivery while draining: the overhead, whatever the fake's share.
    cpuUsPerMessage: (cpu.user + cpu.system) / Math.max(1, dispatcher.stats.sent),
  }),
);
