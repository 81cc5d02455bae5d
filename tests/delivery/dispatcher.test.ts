import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Telegraf } from 'telegraf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { Outbox, PRIORITY } from '../../src/delivery/outbox.js';
import { Pacer, telegramPolicy } from '../../src/delivery/pacer.js';
import type { Destination } from '../../src/delivery/types.js';
import { createTelegramSender } from '../../src/platforms/telegram/sender.js';
import { openStore, type Store } from '../../src/store/db.js';
import { startFakeTelegram, TG_ERRORS, type FakeTelegram } from '../fakes/telegram-api.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';

/**
 * The dispatcher over the real pieces: a SQLite outbox file, the real telegraf client, and the fake Bot
 * API server on loopback. Each row of the error table in the Telegram issue has a case here.
 */

const CHANNEL = -1001000000001;
const GROUP = -1001000000002;
const USER = 5001;

const dest = (chatId: number | string, options: Destination['options'] = {}): Destination => ({
  id: `telegram:${chatId}`,
  platform: 'telegram',
  chatId: String(chatId),
  threadId: null,
  options,
});

let dir: string;
let store: Store;
let fake: FakeTelegram;
let outbox: Outbox;
let registry: DestinationRegistry;
let dispatcher: Dispatcher | null;
let mem: ReturnType<typeof memoryLogger>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'manchete-dispatch-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  fake = await startFakeTelegram({ token: TOKEN, limits: { perChatPerSecond: 1000, perGroupPerMinute: 100_000, globalPerSecond: 1000 } });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
  fake.addChat({ id: GROUP, type: 'supergroup', title: 'Grupo', botIsAdmin: true });
  fake.addChat({ id: USER, type: 'private', firstName: 'Ana' });
  outbox = new Outbox(store.db);
  registry = new DestinationRegistry(store.db);
  for (const d of [dest(CHANNEL), dest(GROUP), dest(USER)]) await registry.upsert(d);
  mem = memoryLogger();
  dispatcher = null;
});

afterEach(async () => {
  await dispatcher?.stop(1000);
  await fake.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(opts: { maxAttempts?: number; sendTimeoutMs?: number; pace?: boolean; windowSize?: number } = {}) {
  const telegraf = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
  const sender = createTelegramSender({ telegram: telegraf, logger: mem.logger, token: TOKEN, timeoutMs: opts.sendTimeoutMs ?? 5_000 });
  const pacer = new Pacer(opts.pace ? telegramPolicy({ maxPerSecond: 30, chatGapMs: 1000, groupPerMinute: 20 }) : { globalGapMs: 0, globalJitterMs: 0, chatGapMs: 0, groupWindow: null, globalWindow: null });
  dispatcher = new Dispatcher({
    outbox,
    destinations: registry,
    senders: { telegram: { sender, pacer } },
    logger: mem.logger,
    maxAttempts: opts.maxAttempts ?? 4,
    backoffBaseMs: 20,
    sendTimeoutMs: opts.sendTimeoutMs ?? 5_000,
    ...(opts.windowSize ? { windowSize: opts.windowSize } : {}),
  });
  return dispatcher.start();
}

const text = (t: string) => [{ kind: 'text' as const, text: t }];

async function enqueue(chat: number, t: string, priority: number = PRIORITY.article, articleId = t) {
  const [id] = await outbox.enqueue([{ articleId, destinationId: `telegram:${chat}`, kind: 'article', priority, payload: text(t) }]);
  return id!;
}

async function settle() {
  await dispatcher!.idle();
}

describe('Dispatcher with the real Telegram sender', () => {
  it('sends each chat its posts in order and records the message ids', async () => {
    for (let i = 1; i <= 5; i++) await enqueue(CHANNEL, `<b>notícia ${i}</b>`);
    for (let i = 1; i <= 3; i++) await enqueue(USER, `post ${i}`);
    await start();
    await settle();
    expect(fake.sentTo(CHANNEL).map((m) => m.plain)).toEqual(['notícia 1', 'notícia 2', 'notícia 3', 'notícia 4', 'notícia 5']);
    expect(fake.sentTo(USER).map((m) => m.plain)).toEqual(['post 1', 'post 2', 'post 3']);
    const counts = await outbox.counts();
    expect(counts).toEqual({ sent: 8 });
    const row = await outbox.get(1);
    expect(JSON.parse(row!.message_ids!)).toEqual([String(fake.sentTo(CHANNEL)[0]!.message_id)]);
  });

  it('429: waits retry_after and sends once, without counting an attempt', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.tooMany(1));
    const id = await enqueue(USER, 'urgente');
    const t0 = Date.now();
    await start();
    await settle();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(fake.sentTo(USER)).toHaveLength(1);
    const row = await outbox.get(id);
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    expect(dispatcher!.stats.rateLimited).toBe(1);
  });

  it('5xx: backs off and retries; gives up after MAX_ATTEMPTS with the reason', async () => {
    fake.failNext('sendMessage', 2, TG_ERRORS.serverError);
    const ok = await enqueue(USER, 'segunda tentativa');
    await start({ maxAttempts: 3 });
    await settle();
    expect(await outbox.get(ok)).toMatchObject({ status: 'sent', attempts: 3 });

    fake.failNext('sendMessage', 10, TG_ERRORS.badGateway);
    const bad = await enqueue(USER, 'nunca');
    dispatcher!.wake();
    await settle();
    const row = await outbox.get(bad);
    expect(row!.status).toBe('failed');
    expect(row!.last_error).toMatch(/502|Bad Gateway/);
    expect(row!.last_error).toContain('gave up after 3 attempts');
    expect(mem.lines.join('')).toContain('"event":"delivery.failed"');
  });

  it('a request that hangs times out and is retried', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.hang);
    const id = await enqueue(USER, 'depois do timeout');
    await start({ sendTimeoutMs: 300 });
    await settle();
    expect(await outbox.get(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('400 "can\'t parse entities": resends once as plain text and notes the template fault', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.badMarkup);
    const id = await enqueue(USER, '<b>título</b> &amp; texto');
    await start();
    await settle();
    const [m] = fake.sentTo(USER);
    expect(m!.parse_mode).toBeUndefined();
    expect(m!.text).toBe('título & texto');
    const row = await outbox.get(id);
    expect(row!.status).toBe('sent');
    expect(row!.last_error).toContain('check the template');
  });

  it('400 with migrate_to_chat_id: follows the group to its supergroup and keeps it', async () => {
    const OLD = -4242;
    const NEW = -1009999999999;
    fake.addChat({ id: OLD, type: 'group', title: 'Velho', migratedTo: NEW });
    fake.addChat({ id: NEW, type: 'supergroup', title: 'Novo', botIsAdmin: true });
    await registry.upsert(dest(OLD));
    await enqueue(OLD, 'primeira');
    await enqueue(OLD, 'segunda');
    await start();
    await settle();
    expect(fake.sentTo(NEW).map((m) => m.plain)).toEqual(['primeira', 'segunda']);
    expect((await registry.get(`telegram:${OLD}`))!.chatId).toBe(String(NEW));
  });

  it('403: marks the destination dead, its queue dead, and keeps sending elsewhere', async () => {
    fake.updateChat(USER, { blocked: true });
    const a = await enqueue(USER, 'um');
    const b = await enqueue(USER, 'dois');
    await enqueue(CHANNEL, 'canal segue');
    await start();
    await settle();
    expect(fake.sentTo(CHANNEL)).toHaveLength(1);
    expect((await outbox.get(a))!.status).toBe('dead');
    expect((await outbox.get(b))!.status).toBe('dead');
    expect((await registry.get(`telegram:${USER}`))!.status).toBe('dead');
    expect(mem.lines.join('')).toContain('DESTINATION GONE');
  });

  it('"chat not found" is gone too', async () => {
    await registry.upsert(dest('@sumiu'));
    const id = await outbox.enqueue([{ articleId: 'x', destinationId: 'telegram:@sumiu', kind: 'article', priority: 0, payload: text('oi') }]);
    await start();
    await settle();
    expect((await outbox.get(id[0]!))!.status).toBe('dead');
  });

  it('a refused photo URL falls back to text with a link preview', async () => {
    fake.failNext('sendPhoto', 1, TG_ERRORS.photoUnreachable);
    const [id] = await outbox.enqueue([
      { articleId: 'p', destinationId: `telegram:${CHANNEL}`, kind: 'article', priority: 0, payload: [{ kind: 'photo', text: '<b>Foto</b>', imageUrl: 'http://127.0.0.1:9/x.jpg' }] },
    ]);
    await start();
    await settle();
    const [m] = fake.sentTo(CHANNEL);
    expect(m!.method).toBe('sendMessage');
    expect(m!.link_preview_options).toBeDefined();
    expect((await outbox.get(id!))!.last_error).toContain('image was refused');
  });

  it('an editor push jumps the queue of 20 automatic posts', async () => {
    for (let i = 1; i <= 20; i++) await enqueue(CHANNEL, `auto ${i}`);
    await enqueue(CHANNEL, 'URGENTE', PRIORITY.push);
    await start({ pace: true });
    await fake.waitFor(() => fake.sentTo(CHANNEL).length >= 2, 10_000);
    expect(fake.sentTo(CHANNEL)[0]!.plain).toBe('URGENTE');
  });

  it('paces a burst to one channel under Telegram\'s limits (no 429 from the fake)', async () => {
    fake.setLimits({ enabled: true, globalPerSecond: 30, perChatPerSecond: 1, perGroupPerMinute: 20 });
    for (let i = 1; i <= 4; i++) await enqueue(CHANNEL, `rajada ${i}`);
    await start({ pace: true });
    await settle();
    expect(fake.sentTo(CHANNEL)).toHaveLength(4);
    expect(fake.stats.tooMany).toBe(0);
    const times = fake.sentTo(CHANNEL).map((m) => m.time);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);
  });

  it('a platform that cannot send (WhatsApp down) does not starve the other chats queued behind it', async () => {
    const WA = 'whatsapp:120363000000000001@g.us';
    await registry.upsert({ id: WA, platform: 'whatsapp', chatId: '120363000000000001@g.us', threadId: null, options: {} });
    await outbox.enqueue(Array.from({ length: 60 }, (_, i) => ({ articleId: `w${i}`, destinationId: WA, kind: 'article' as const, priority: 0, payload: text(`wa ${i}`) })));
    for (let i = 1; i <= 3; i++) await enqueue(CHANNEL, `telegram ${i}`);
    await start({ windowSize: 20 });
    await fake.waitFor(() => fake.sentTo(CHANNEL).length === 3, 10_000, 'the Telegram posts behind the WhatsApp backlog');
    expect(fake.sentTo(CHANNEL).map((m) => m.plain)).toEqual(['telegram 1', 'telegram 2', 'telegram 3']);
    expect((await outbox.counts()).pending).toBe(60);
  });

  it('after a crash, rows left "sending" are resumed and parts already sent are skipped', async () => {
    const [id] = await outbox.enqueue([
      { articleId: 'long', destinationId: `telegram:${USER}`, kind: 'article', priority: 0, payload: [{ kind: 'text', text: 'parte 1' }, { kind: 'text', text: 'parte 2' }] },
    ]);
    // What a process killed after sending part 1 leaves behind.
    await outbox.claim(id!, 'dead-process', 1);
    await outbox.recordProgress(id!, ['999']);
    await start();
    await settle();
    expect(fake.sentTo(USER).map((m) => m.plain)).toEqual(['parte 2']);
    expect(JSON.parse((await outbox.get(id!))!.message_ids!)).toEqual(['999', String(fake.sentTo(USER)[0]!.message_id)]);
  });
});
