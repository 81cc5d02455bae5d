import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { Pacer, whatsappPolicy } from '../../src/delivery/pacer.js';
import { useDatabaseAuthState } from '../../src/platforms/whatsapp/auth-store.js';
import { WhatsAppConnection } from '../../src/platforms/whatsapp/connection.js';
import { createWhatsAppSender } from '../../src/platforms/whatsapp/sender.js';
import { openStore, type Store } from '../../src/store/db.js';
import { captureLogger, fakeSocketFactory, flush, groupMeta } from '../fakes/whatsapp-socket.js';

/**
 * WhatsApp pacing under fake timers: the real dispatcher, pacer, connection manager and sender, over a
 * Baileys-typed fake socket; time is advanced by hand, so hours of pacing take milliseconds.
 */

const OWN = '5511900000000@s.whatsapp.net';
const A = '120363000000000011@g.us';
const B = '120363000000000022@g.us';

let store: Store;
let dispatcher: Dispatcher | null = null;
let connection: WhatsAppConnection | null = null;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  store = await openStore('sqlite::memory:');
});
afterEach(async () => {
  const stopping = Promise.all([dispatcher?.stop(0), connection?.stop()]);
  await vi.runOnlyPendingTimersAsync();
  await stopping;
  vi.useRealTimers();
  await store.close();
  dispatcher = null;
  connection = null;
});

async function world(policy: { gap: [number, number]; chatGap: number; hourlyCap: number }) {
  const sockets = fakeSocketFactory((s) => {
    for (const g of [A, B]) s.groups.set(g, groupMeta(g, { members: [[OWN, 'admin']] }));
  });
  const { logger } = captureLogger('warn');
  connection = new WhatsAppConnection({ session: 'default', auth: await useDatabaseAuthState(store.db, 'default'), socketFactory: sockets.factory, logger, onQr: () => undefined });
  const sender = createWhatsAppSender({ connection, logger });
  await connection.start();
  sockets.last().open();
  await flush();
  const sendTimes: { jid: string; at: number }[] = [];
  const original = sockets.last().sendMessage;
  sockets.last().sendMessage = async (jid, content, options) => {
    sendTimes.push({ jid, at: Date.now() });
    return original(jid, content, options);
  };
  const outbox = new Outbox(store.db);
  const registry = new DestinationRegistry(store.db);
  for (const g of [A, B]) await registry.upsert({ id: `whatsapp:${g}`, platform: 'whatsapp', chatId: g, threadId: null, options: {} });
  const pacer = new Pacer(whatsappPolicy({ gapMs: { min: policy.gap[0], max: policy.gap[1] }, chatGapMs: policy.chatGap, hourlyCap: policy.hourlyCap }));
  dispatcher = new Dispatcher({ outbox, destinations: registry, senders: { whatsapp: { sender, pacer } }, logger, maxAttempts: 3 });
  return { outbox, sendTimes, socket: sockets.last() };
}

async function advance(ms: number, step = 250) {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(step);
    await flush(2);
  }
}

const enqueue = (outbox: Outbox, chat: string, n: number) =>
  outbox.enqueue(Array.from({ length: n }, (_, i) => ({ articleId: `${chat}-${i}`, destinationId: `whatsapp:${chat}`, kind: 'article' as const, priority: 0, payload: [{ kind: 'text' as const, text: `notícia ${i}` }] })));

describe('WhatsApp pacing (fake timers)', () => {
  it('keeps a jittered 4–8 s gap between sends and the per-chat gap, and delivers everything', async () => {
    const w = await world({ gap: [4000, 8000], chatGap: 30_000, hourlyCap: 60 });
    await enqueue(w.outbox, A, 3);
    await enqueue(w.outbox, B, 3);
    await dispatcher!.start();
    await advance(120_000);
    expect(w.sendTimes).toHaveLength(6);
    const gaps = w.sendTimes.slice(1).map((s, i) => s.at - w.sendTimes[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(4000);
    for (const chat of [A, B]) {
      const times = w.sendTimes.filter((s) => s.jid === chat).map((s) => s.at);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(30_000);
    }
  });

  it('stops at the hourly cap and resumes in the next hour', async () => {
    const w = await world({ gap: [1000, 1000], chatGap: 1000, hourlyCap: 5 });
    await enqueue(w.outbox, A, 8);
    await dispatcher!.start();
    await advance(10 * 60_000, 1000);
    expect(w.sendTimes).toHaveLength(5);
    await advance(55 * 60_000, 5000);
    expect(w.sendTimes).toHaveLength(8);
  });

  it('sends nothing while the connection is down, then resumes', async () => {
    const w = await world({ gap: [4000, 4000], chatGap: 4000, hourlyCap: 60 });
    w.socket.close(503, 'Service Unavailable');
    await flush();
    await enqueue(w.outbox, A, 2);
    await dispatcher!.start();
    await advance(1_000);
    expect(w.sendTimes).toHaveLength(0);
    expect(connection!.state()).toBe('reconnecting');
  });
});
