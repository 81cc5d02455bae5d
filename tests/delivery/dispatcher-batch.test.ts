import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Telegraf } from 'telegraf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { Pacer, telegramPolicy, type PacingPolicy } from '../../src/delivery/pacer.js';
import type { Destination } from '../../src/delivery/types.js';
import { createBotApiTransport, createTelegramClient, telegrafTransport } from '../../src/platforms/telegram/client.js';
import { createPaidBroadcast, type PaidBroadcast } from '../../src/platforms/telegram/paid.js';
import { createTelegramSender } from '../../src/platforms/telegram/sender.js';
import { openStore, type Store } from '../../src/store/db.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';

/**
 * Batched claims and writes, and paid broadcasts, over the real pieces: SQLite files, the Bot API client
 * as module.ts builds it (keep-alive transport), the fake Bot API on loopback.
 */

const CHANNEL = -1001000000001;
const NO_LIMITS: PacingPolicy = { globalGapMs: 0, globalJitterMs: 0, chatGapMs: 0, groupWindow: null, globalWindow: null };
const dest = (chatId: number | string): Destination => ({ id: `telegram:${chatId}`, platform: 'telegram', chatId: String(chatId), threadId: null, options: {} });
const text = (t: string) => [{ kind: 'text' as const, text: t }];

let dir: string;
let store: Store;
let fake: FakeTelegram;
let outbox: Outbox;
let registry: DestinationRegistry;
let running: Dispatcher[];
let closers: (() => Promise<void>)[];
let mem: ReturnType<typeof memoryLogger>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'manchete-batch-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  fake = await startFakeTelegram({ token: TOKEN, autoPrivateChats: true, limits: { perChatPerSecond: 1000, perGroupPerMinute: 100_000, globalPerSecond: 1000 } });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal' });
  outbox = new Outbox(store.db);
  registry = new DestinationRegistry(store.db);
  mem = memoryLogger();
  running = [];
  closers = [];
});

afterEach(async () => {
  for (const d of running) await d.stop(1000);
  for (const c of closers) await c();
  await fake.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function subscribers(n: number, from = 1000): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = dest(from + i);
    await registry.upsert(d);
    ids.push(d.id);
  }
  return ids;
}

function makeDispatcher(o: { holder: string; policy?: PacingPolicy; paid?: PaidBroadcast; concurrency?: number; outbox?: Outbox; registry?: DestinationRegistry }) {
  const telegraf = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
  const transport = createBotApiTransport({ apiRoot: fake.apiRoot, token: TOKEN, fallback: telegrafTransport(telegraf.telegram) });
  closers.push(() => transport.close());
  const client = createTelegramClient({ transport, token: TOKEN, timeoutMs: 5_000 });
  const sender = createTelegramSender({ telegram: telegraf, logger: mem.logger, token: TOKEN, client, ...(o.paid ? { paid: o.paid } : {}) });
  const d = new Dispatcher({
    outbox: o.outbox ?? outbox,
    destinations: o.registry ?? registry,
    senders: { telegram: { sender, pacer: new Pacer(o.policy ?? NO_LIMITS) } },
    logger: mem.logger,
    maxAttempts: 4,
    backoffBaseMs: 20,
    holder: o.holder,
    soleSender: false,
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
  });
  running.push(d);
  return d;
}

const events = (name: string) => mem.lines.filter((l) => l.includes(`"event":"${name}"`));

describe('batched claims', () => {
  it('claimMany takes only pending rows, once: a second claimer of the same ids gets none', async () => {
    const [a, b, c] = await outbox.enqueue(['a', 'b', 'c'].map((t) => ({ articleId: t, destinationId: 'telegram:1', kind: 'article' as const, priority: 0, payload: text(t) })));
    await outbox.finish(c!, 'cancelled', 'test');
    const first = await outbox.claimMany([a!, b!, c!], 'one', 60_000);
    expect([...first.keys()].sort()).toEqual([a, b].sort());
    expect(first.get(a!)).toMatchObject({ status: 'sending', claimed_by: 'one', payload: JSON.stringify(text('a')) });
    expect((await outbox.claimMany([a!, b!, c!], 'two', 60_000)).size).toBe(0);
    expect(await outbox.claim(a!, 'two', 60_000)).toBe(false);
  });

  it('markSentMany records each row its own message ids and note, in one write', async () => {
    const ids = await outbox.enqueue(['a', 'b'].map((t) => ({ articleId: t, destinationId: 'telegram:1', kind: 'article' as const, priority: 0, payload: text(t) })));
    await outbox.claimMany(ids, 'me', 60_000);
    await outbox.markSentMany([
      { id: ids[0]!, messageIds: ['10'], note: null },
      { id: ids[1]!, messageIds: ['11', '12'], note: 'sent as plain text' },
    ]);
    expect(await outbox.get(ids[0]!)).toMatchObject({ status: 'sent', message_ids: '["10"]', last_error: null, attempts: 1, claimed_by: null });
    expect(await outbox.get(ids[1]!)).toMatchObject({ status: 'sent', message_ids: '["11","12"]', last_error: 'sent as plain text' });
  });

  it('claims and sent-writes of any size come in a few statement shapes, and each row is changed once, with its own values', async () => {
    const { Kysely, SqliteDialect } = await import('kysely');
    const Sqlite = (await import('better-sqlite3')).default;
    const texts = new Set<string>();
    const logged = new Kysely<never>({
      dialect: new SqliteDialect({ database: new Sqlite(join(dir, 'db.sqlite')) }),
      log: (e) => void texts.add(e.query.sql),
    });
    closers.push(() => logged.destroy());
    const box = new Outbox(logged as never);
    const ids = await box.enqueue(Array.from({ length: 360 }, (_, i) => ({ articleId: `a${i}`, destinationId: 'telegram:1', kind: 'article' as const, priority: 0, payload: text(`n${i}`) })));
    texts.clear();
    let at = 0;
    for (let size = 1; size <= 20; size++) {
      const chunk = ids.slice(at, at + size);
      at += size;
      const claimed = await box.claimMany(chunk, 'me', 60_000);
      expect([...claimed.keys()]).toEqual(chunk);
      await box.markSentMany(chunk.map((id) => ({ id, messageIds: [`m${id}`], note: id % 2 ? 'nota' : null })));
    }
    // Sizes 1 to 20: six shapes each for claims and for sent-writes (1, 2, 4, 8, 16 and 32 rows), not twenty.
    expect([...texts].filter((t) => t.includes('"claimed_by" = ?') && t.startsWith('update')).length).toBeLessThanOrEqual(12);
    const rows = await Promise.all(ids.slice(0, at).map((id) => box.get(id)));
    for (const r of rows) expect(r).toMatchObject({ status: 'sent', message_ids: JSON.stringify([`m${r!.id}`]), attempts: 1, last_error: r!.id % 2 ? 'nota' : null });
    expect(await box.get(ids[at]!)).toMatchObject({ status: 'pending', attempts: 0 });
    texts.clear();
    // More than one statement's worth (128 rows) in one call: two chunks, every row claimed once.
    const rest = ids.slice(at);
    expect((await box.claimMany(rest, 'me', 60_000)).size).toBe(rest.length);
    expect([...texts].filter((t) => t.startsWith('update')).length).toBe(2);
  });

  it('two dispatch loops on one outbox never send a row twice', async () => {
    const dests = await subscribers(300);
    await outbox.enqueue(dests.map((d, i) => ({ articleId: 'a1', destinationId: d, kind: 'article' as const, priority: 0, payload: text(`notícia ${i}`) })));
    // A second process on the same database file: its own store, outbox and registry.
    const other = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    closers.push(() => other.close());
    const one = makeDispatcher({ holder: 'one', concurrency: 16 });
    const two = makeDispatcher({ holder: 'two', concurrency: 16, outbox: new Outbox(other.db), registry: new DestinationRegistry(other.db) });
    await Promise.all([one.start(), two.start()]);
    await fake.waitFor(() => fake.sent.length >= 300, 20_000, '300 sends');
    await one.idle();
    await two.idle();
    expect(fake.sent).toHaveLength(300);
    expect(new Set(fake.sent.map((m) => m.chat_id)).size).toBe(300);
    // Both loops took part, and every row is sent exactly once in the bookkeeping.
    expect(one.stats.sent).toBeGreaterThan(0);
    expect(two.stats.sent).toBeGreaterThan(0);
    expect(one.stats.sent + two.stats.sent).toBe(300);
    expect(await outbox.counts()).toEqual({ sent: 300 });
  });

  it('a crash mid-batch: rows claimed by the dead process are taken back once their claim expires, and sent once', async () => {
    const dests = await subscribers(40);
    const ids = await outbox.enqueue(dests.map((d, i) => ({ articleId: 'a1', destinationId: d, kind: 'article' as const, priority: 0, payload: text(`n ${i}`) })));
    // What a process killed mid-batch leaves: 25 rows claimed (a short lease), 5 of them already sent and recorded.
    const claimed = await outbox.claimMany(ids.slice(0, 25), 'dead-process', 1);
    expect(claimed.size).toBe(25);
    await outbox.markSentMany(ids.slice(0, 5).map((id, i) => ({ id, messageIds: [String(900 + i)] })));
    await new Promise((r) => setTimeout(r, 5));
    const d = makeDispatcher({ holder: 'new-process' });
    await d.start();
    expect(events('outbox.recovered')).toHaveLength(1);
    await fake.waitFor(() => fake.sent.length >= 35, 10_000, '35 sends');
    await d.idle();
    expect(fake.sent).toHaveLength(35);
    expect(new Set(fake.sent.map((m) => m.chat_id)).size).toBe(35);
    expect(await outbox.counts()).toEqual({ sent: 40 });
  });

  it('records every send even when many finish together (batched writes), with their message ids', async () => {
    const dests = await subscribers(200);
    const ids = await outbox.enqueue(dests.map((d, i) => ({ articleId: 'a1', destinationId: d, kind: 'article' as const, priority: 0, payload: text(`n ${i}`) })));
    const d = makeDispatcher({ holder: 'me', concurrency: 64 });
    await d.start();
    await fake.waitFor(() => fake.sent.length >= 200, 10_000, '200 sends');
    await d.idle();
    for (const id of [ids[0]!, ids[99]!, ids[199]!]) {
      const row = (await outbox.get(id))!;
      const chat = Number(row.destination_id.split(':')[1]);
      expect(row.status).toBe('sent');
      expect(JSON.parse(row.message_ids!)).toEqual([String(fake.sentTo(chat)[0]!.message_id)]);
    }
    // No line per send at info level.
    expect(mem.lines.filter((l) => l.includes('"event":"delivery.sent"') && l.includes('"level":30'))).toHaveLength(0);
  });

  it('a queue read whole is not read again at every answer; a row queued behind it without a wake-up is still sent', async () => {
    const dests = await subscribers(120);
    await outbox.enqueue(dests.map((d, i) => ({ articleId: 'a1', destinationId: d, kind: 'article' as const, priority: 0, payload: text(`n ${i}`) })));
    let reads = 0;
    const window = outbox.window.bind(outbox);
    outbox.window = (limit: number) => {
      reads++;
      return window(limit);
    };
    const d = makeDispatcher({ holder: 'me', concurrency: 16 });
    await d.start();
    await fake.waitFor(() => fake.sent.length >= 120, 10_000, '120 sends');
    // 120 rows, 8 to 16 at a time: dozens of passes. Before, each read the (complete) queue again: 152 reads.
    expect(reads).toBeLessThan(50);
    // Queued by another process (no wake): seen by the next look.
    await outbox.enqueue([{ articleId: 'a2', destinationId: dests[0]!, kind: 'article' as const, priority: 0, payload: text('depois') }]);
    await fake.waitFor(() => fake.sent.length >= 121, 5_000, 'the late row');
  });
});

describe('paid broadcasts through the dispatcher', () => {
  const paidPolicy = (paid: PaidBroadcast) => telegramPolicy({ maxPerSecond: 30, chatGapMs: 1000, groupPerMinute: 20, paid: { maxPerSecond: 1000, applies: (x) => paid.applies(x) } });

  it('private subscribers carry allow_paid_broadcast; the channel never does', async () => {
    const dests = await subscribers(20);
    await registry.upsert(dest(CHANNEL));
    await outbox.enqueue([...dests, `telegram:${CHANNEL}`].map((d) => ({ articleId: 'a1', destinationId: d, kind: 'article' as const, priority: 0, payload: text('notícia') })));
    const paid = createPaidBroadcast('subscribers');
    const d = makeDispatcher({ holder: 'me', paid, policy: paidPolicy(paid) });
    await d.start();
    await fake.waitFor(() => fake.sent.length >= 21, 10_000, '21 sends');
    expect(fake.sentTo(CHANNEL)[0]!.allow_paid_broadcast).toBeUndefined();
    expect(fake.sent.filter((m) => m.chat_id > 0).every((m) => m.allow_paid_broadcast === true)).toBe(true);
    expect(fake.stats.paid).toBe(20);
  });

  it('out of Stars: one error line, paid broadcasts off, the refused rows sent again unpaid, none lost or failed', async () => {
    fake.setStars(1); // ten paid messages' worth
    const dests = await subscribers(60);
    await outbox.enqueue(dests.map((x, i) => ({ articleId: 'a1', destinationId: x, kind: 'article' as const, priority: 0, payload: text(`n ${i}`) })));
    const paid = createPaidBroadcast('subscribers');
    const d = makeDispatcher({ holder: 'me', paid, policy: paidPolicy(paid) });
    await d.start();
    await fake.waitFor(() => fake.sent.length >= 60, 15_000, '60 sends');
    await d.idle();
    expect(fake.stats.paid).toBe(10);
    expect(fake.stats.paidRefused).toBeGreaterThan(0);
    expect(paid.active).toBe(false);
    expect(paid.offReason).toContain('BALANCE_TOO_LOW');
    const off = events('telegram.paid_broadcast_off');
    expect(off).toHaveLength(1);
    expect(off[0]).toContain('"level":50');
    expect(await outbox.counts()).toEqual({ sent: 60 });
    expect(d.stats.failed).toBe(0);
    expect(new Set(fake.sent.map((m) => m.chat_id)).size).toBe(60);
    // After the switch, sends go unpaid and at the free pace.
    const unpaid = fake.sent.filter((m) => !m.allow_paid_broadcast);
    expect(unpaid).toHaveLength(50);
    const times = unpaid.map((m) => m.time);
    // 30 sends span at least a second at the free pace (less a little arrival jitter on a loaded machine).
    for (let i = 30; i < times.length; i++) expect(times[i]! - times[i - 30]!).toBeGreaterThanOrEqual(950);
  }, 20_000);
});
