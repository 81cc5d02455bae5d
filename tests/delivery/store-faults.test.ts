import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Telegraf } from 'telegraf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { Pacer } from '../../src/delivery/pacer.js';
import { createTelegramSender } from '../../src/platforms/telegram/sender.js';
import { openStore, type Store } from '../../src/store/db.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { postgresUnavailable, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { sleep, until } from '../e2e/helpers.js';

/**
 * The dispatcher never dies of a store error: the database made read-only (SQLite `PRAGMA query_only`)
 * or stopped outright (a real PostgreSQL 15, `pg_ctl stop` then `start`) in the middle of a fan-out.
 * Passes fail with the error's code in the log and in `fault` (what /health reports), back off, and go
 * on by themselves when the store answers again: nothing is lost, order per chat holds, and a message is
 * repeated at most when it was in flight at the moment the database went away.
 */

const CHATS = [-1001000000201, -1001000000202, -1001000000203];

interface Rig {
  store: Store;
  fake: FakeTelegram;
  outbox: Outbox;
  dispatcher: Dispatcher;
  mem: ReturnType<typeof memoryLogger>;
  expected: Map<number, string[]>;
}

let rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs) {
    await r.dispatcher.stop(1_000);
    await r.fake.close();
    await r.store.close().catch(() => undefined);
  }
  rigs = [];
});

async function rig(store: Store, perChat: number): Promise<Rig> {
  const fake = await startFakeTelegram({ token: TOKEN, limits: false });
  for (const id of CHATS) fake.addChat({ id, type: 'channel', title: `Canal ${id}`, botIsAdmin: true, canPost: true });
  const outbox = new Outbox(store.db);
  const registry = new DestinationRegistry(store.db);
  for (const id of CHATS) await registry.upsert({ id: `telegram:${id}`, platform: 'telegram', chatId: String(id), threadId: null, options: {} });
  const expected = new Map<number, string[]>();
  for (const chat of CHATS) {
    const texts = Array.from({ length: perChat }, (_, i) => `${chat} #${i + 1}`);
    expected.set(chat, texts);
    await outbox.enqueue(texts.map((t) => ({ articleId: null, destinationId: `telegram:${chat}`, kind: 'article' as const, priority: 0, payload: [{ kind: 'text' as const, text: t }] })));
  }
  const mem = memoryLogger();
  const telegraf = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
  const sender = createTelegramSender({ telegram: telegraf, logger: mem.logger, token: TOKEN, timeoutMs: 5_000 });
  // A slow fan-out (one message every 40 ms overall) so the fault lands in the middle of it.
  const pacer = new Pacer({ globalGapMs: 40, globalJitterMs: 0, chatGapMs: 0, groupWindow: null, globalWindow: null });
  const dispatcher = new Dispatcher({
    outbox,
    destinations: registry,
    senders: { telegram: { sender, pacer } },
    logger: mem.logger,
    maxAttempts: 3,
    backoffBaseMs: 20,
    passBackoffBaseMs: 50,
    passBackoffCapMs: 300,
    soleSender: store.dialect === 'sqlite',
  });
  const r = { store, fake, outbox, dispatcher, mem, expected };
  rigs.push(r);
  return r;
}

const events = (lines: string[], name: string) => lines.filter((l) => l.includes(`"event":"${name}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Each chat's messages, first occurrences only, must be exactly what was queued, in order; returns the repeats. */
function checkDelivered(r: Rig): number {
  let repeats = 0;
  for (const chat of CHATS) {
    const got = r.fake.sentTo(chat).map((m) => m.plain);
    const firsts = got.filter((t, i) => got.indexOf(t) === i);
    expect(firsts).toEqual(r.expected.get(chat));
    repeats += got.length - firsts.length;
  }
  return repeats;
}

describe('SQLite made read-only mid-run, then writable again', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'manchete-readonly-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs SQLITE_READONLY, reports it, and resumes by itself with nothing lost or repeated', async () => {
    const store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    const r = await rig(store, 12);
    await r.dispatcher.start();
    await until(() => r.fake.sent.length >= 6, 10_000, 'the fan-out to start');
    await sql`PRAGMA query_only = ON`.execute(store.db);
    await until(() => r.dispatcher.fault !== null, 10_000, 'a pass to fail');
    expect(r.dispatcher.fault).toMatchObject({ code: 'SQLITE_READONLY', meaning: 'the database is read-only' });
    expect(r.dispatcher.running).toBe(true);
    await sleep(800);
    const failed = events(r.mem.lines, 'dispatcher.pass_failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed[0]).toMatchObject({ code: 'SQLITE_READONLY' });
    const sentWhileReadOnly = r.fake.sent.length;
    await sleep(300);
    // Nothing new goes out while the outbox cannot record it (only sends already in flight finish).
    expect(r.fake.sent.length).toBe(sentWhileReadOnly);

    await sql`PRAGMA query_only = OFF`.execute(store.db);
    await until(async () => (await r.outbox.counts()).sent === CHATS.length * 12, 20_000, 'every delivery sent');
    expect(r.dispatcher.fault).toBeNull();
    expect(events(r.mem.lines, 'dispatcher.pass_recovered')).toHaveLength(1);
    expect(await r.outbox.counts()).toEqual({ sent: CHATS.length * 12 });
    expect(checkDelivered(r)).toBe(0);
  }, 60_000);
});

describe.skipIf(postgresUnavailable !== null)(`PostgreSQL stopped and started mid fan-out${postgresUnavailable ? ` (skipped: ${postgresUnavailable})` : ''}`, () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps the dispatcher alive through pg_ctl stop/start: nothing lost, repeats within the in-flight bound', async () => {
    const url = await cluster.createDatabase('faults');
    const store = await openStore(url);
    const r = await rig(store, 15);
    await r.dispatcher.start();
    await until(() => r.fake.sent.length >= 8, 15_000, 'the fan-out to start');
    const inFlightAtStop = r.dispatcher.stats.inFlight;
    await cluster.pause();
    await until(() => r.dispatcher.fault !== null, 15_000, 'a pass to fail');
    const fault = r.dispatcher.fault!;
    expect(fault.meaning).toBe('the database server cannot be reached');
    expect(r.dispatcher.running).toBe(true);
    await sleep(1_000);
    expect(events(r.mem.lines, 'dispatcher.pass_failed').length).toBeGreaterThanOrEqual(2);

    await cluster.resume();
    await until(async () => (await r.outbox.counts().catch(() => ({}) as Record<string, number>)).sent === CHATS.length * 15, 30_000, 'every delivery sent');
    await until(() => r.dispatcher.fault === null, 10_000, 'the fault to clear');
    expect(await r.outbox.counts()).toEqual({ sent: CHATS.length * 15 });
    const repeats = checkDelivered(r);
    expect(repeats).toBeLessThanOrEqual(Math.max(1, inFlightAtStop));
    expect(events(r.mem.lines, 'dispatcher.pass_recovered').length).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
