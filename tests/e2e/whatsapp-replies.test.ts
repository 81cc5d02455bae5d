import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createWhatsAppModule } from '../../src/platforms/whatsapp/module.js';
import { useDatabaseAuthState } from '../../src/platforms/whatsapp/auth-store.js';
import { openStore } from '../../src/store/db.js';
import { fakeSocketFactory, flush, groupMeta, type FakeWhatsAppSocket } from '../fakes/whatsapp-socket.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { tempDir } from './helpers.js';

/**
 * Command replies on WhatsApp under a crowd, with the whole app (real router, outbox, dispatcher, pacer,
 * connection manager and sender) over the Baileys-typed fake socket and a real SQLite file. Timers and the
 * clock are fake, so hours of pacing take seconds; every send is timestamped at the socket.
 */

const A = '120363000000000011@g.us';
const B = '120363000000000022@g.us';
const OWN = '5511900000000@s.whatsapp.net';
const HOUR = 3_600_000;

let cleanup: (() => Promise<void>)[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: new Date('2026-03-02T12:00:00Z') });
});
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
  vi.useRealTimers();
});

async function advance(ms: number, step = 1_000) {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(step);
    await flush(2);
  }
}

async function setup(env: Record<string, string> = {}) {
  const dir = tempDir('manchete-wareply-');
  const databaseUrl = `sqlite:${join(dir, 'db.sqlite')}`;
  const seed = await openStore(databaseUrl);
  const auth = await useDatabaseAuthState(seed.db, 'default');
  auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Manchete' };
  auth.state.creds.account = { details: new Uint8Array([1]), accountSignatureKey: new Uint8Array([2]), accountSignature: new Uint8Array([3]), deviceSignature: new Uint8Array([4]) };
  await auth.saveCreds();
  await seed.close();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    FEED_URLS: 'examples/feed.xml',
    WHATSAPP_ENABLED: 'true',
    WHATSAPP_CHATS: `${A},${B}`,
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    LOG_LEVEL: 'info',
    ...env,
  });
  const sockets = fakeSocketFactory((s: FakeWhatsAppSocket) => {
    for (const g of [A, B]) s.groups.set(g, groupMeta(g, { members: [[OWN, 'admin']] }));
  });
  const mem = memoryLogger();
  const whatsapp = await createWhatsAppModule(config, mem.logger, [], { socketFactory: sockets.factory, fetchImage: async () => { throw new Error('no images'); } });
  const app: App = await startApp({ config, logger: mem.logger, platforms: [whatsapp], print: () => undefined });
  cleanup.push(async () => {
    const stopping = app.stop();
    await vi.runOnlyPendingTimersAsync();
    await stopping;
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 50 && sockets.sockets.length === 0; i++) await advance(100, 100);
  const socket = sockets.last();
  const sends: { jid: string; at: number; text: string }[] = [];
  const original = socket.sendMessage;
  socket.sendMessage = async (jid, content, options) => {
    sends.push({ jid, at: Date.now(), text: 'text' in content ? content.text : '' });
    return original(jid, content, options);
  };
  socket.open();
  for (let i = 0; i < 50 && whatsapp.state() !== 'open'; i++) await advance(100, 100);
  expect(whatsapp.state()).toBe('open');
  await advance(5_000);
  let n = 0;
  /** `from` types `text` in `chat` (a group, or their own private chat). */
  const say = (from: string, text: string, chat = `${from}@s.whatsapp.net`) =>
    socket.ev.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: chat, fromMe: false, id: `IN${++n}`, ...(chat.endsWith('@g.us') ? { participant: `${from}@s.whatsapp.net` } : {}) },
          message: { conversation: text },
          messageTimestamp: Math.floor(Date.now() / 1000),
        },
      ],
    });
  return { app, config, sends, say, mem };
}

const events = (lines: string[]) => lines.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as { event?: string });

const member = (k: number) => `55219${String(10_000_000 + k)}`;

/** The pacer's promises, checked on what reached the socket. */
function expectPaced(sends: { jid: string; at: number }[], gapMs: number, chatGapMs: number, hourlyCap: number) {
  for (let i = 1; i < sends.length; i++) expect(sends[i]!.at - sends[i - 1]!.at).toBeGreaterThanOrEqual(gapMs);
  const byChat = new Map<string, number[]>();
  for (const s of sends) byChat.set(s.jid, [...(byChat.get(s.jid) ?? []), s.at]);
  for (const times of byChat.values()) for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(chatGapMs);
  for (let i = 0; i < sends.length; i++) expect(sends.filter((s) => s.at >= sends[i]!.at && s.at < sends[i]!.at + HOUR).length).toBeLessThanOrEqual(hourlyCap);
}

/** The most sends of `sends` inside any window of `windowMs`. */
const busiest = (sends: { at: number }[], windowMs: number) => Math.max(0, ...sends.map((s) => sends.filter((t) => t.at >= s.at && t.at < s.at + windowMs).length));

describe('WhatsApp command replies: paced, budgeted, silent to unknown commands in groups', () => {
  it('30 members × 15 unknown commands in a group: not a single reply', async () => {
    const t = await setup();
    for (let round = 0; round < 15; round++) {
      for (let k = 0; k < 30; k++) t.say(member(k), `/comando${round}`, A);
      await advance(60_000, 5_000);
    }
    for (let k = 0; k < 30; k++) t.say(member(k), 'bom dia, pessoal', A);
    await advance(10 * 60_000, 5_000);
    expect(t.sends).toEqual([]);
    expect(await t.app.outbox.counts()).not.toHaveProperty('pending');
  }, 120_000);

  it('30 members × 15 /ultimas in a group: replies bounded by the hourly reply reserve, every one paced', async () => {
    const t = await setup();
    const reserve = Math.floor(t.config.whatsapp.hourlyCap * t.config.whatsapp.replyShare);
    expect(reserve).toBe(12);
    // 450 commands spread over an hour and a half: one round of 30 members every 6 minutes.
    for (let round = 0; round < 15; round++) {
      for (let k = 0; k < 30; k++) t.say(member(k), '/ultimas', A);
      await advance(6 * 60_000, 5_000);
    }
    await advance(HOUR, 5_000);
    const replies = t.sends.filter((s) => s.jid === A);
    expect(replies.length).toBeGreaterThan(0);
    expect(busiest(replies, HOUR)).toBeLessThanOrEqual(reserve);
    expect(busiest(replies, 10 * 60_000)).toBeLessThanOrEqual(t.config.whatsapp.groupReplyRate.count);
    expectPaced(t.sends, t.config.whatsapp.gapMs.min, t.config.whatsapp.chatGapMs, t.config.whatsapp.hourlyCap);
    const limited = events(t.mem.lines).filter((l) => l.event === 'whatsapp.reply_budget_spent' || l.event === 'whatsapp.group_reply_limited');
    expect(limited.length).toBeGreaterThan(0);
    // Logged once per window, not once per refused message (450 − replies were refused).
    expect(limited.length).toBeLessThan(20);
  }, 180_000);

  it('with a large reply reserve, the group budget is what holds a crowd back', async () => {
    const t = await setup({ WHATSAPP_HOURLY_CAP: '400', WHATSAPP_REPLY_SHARE: '50%', WHATSAPP_GROUP_REPLY_RATE: '5/10min', WHATSAPP_CHAT_GAP: '5s' });
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 30; k++) t.say(member(k), '/ultimas', B);
      await advance(5 * 60_000, 5_000);
    }
    await advance(20 * 60_000, 5_000);
    const replies = t.sends.filter((s) => s.jid === B);
    // 30 minutes of crowd: three windows of 10 minutes, five replies each, and nothing more.
    expect(replies.length).toBeGreaterThanOrEqual(5);
    expect(replies.length).toBeLessThanOrEqual(15);
    const logged = events(t.mem.lines).filter((l) => l.event === 'whatsapp.group_reply_limited');
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged.length).toBeLessThanOrEqual(4);
    expectPaced(t.sends, t.config.whatsapp.gapMs.min, t.config.whatsapp.chatGapMs, t.config.whatsapp.hourlyCap);
  }, 180_000);

  it('posts and replies in one hour: posts keep their share, replies get through once posts have used theirs', async () => {
    const t = await setup();
    const cap = t.config.whatsapp.hourlyCap;
    const reserve = Math.floor(cap * t.config.whatsapp.replyShare);
    // More posts than an hour can carry, to both groups.
    await t.app.outbox.enqueue(
      [A, B].flatMap((g) =>
        Array.from({ length: 60 }, (_, i) => ({ articleId: null, destinationId: `whatsapp:${g}`, kind: 'article' as const, priority: 0, payload: [{ kind: 'text' as const, text: `notícia ${g.slice(-4)}-${i}` }] })),
      ),
    );
    t.app.dispatcher.wake();
    await advance(40 * 60_000, 5_000);
    const posts = () => t.sends.filter((s) => s.text.startsWith('notícia'));
    expect(posts()).toHaveLength(cap - reserve);
    // The posts' share is used: readers in private chats (and one in a group) still get answers.
    for (let k = 0; k < 10; k++) t.say(member(100 + k), '/ultimas');
    t.say(member(200), '/ajuda', A);
    await advance(10 * 60_000, 5_000);
    const replies = t.sends.filter((s) => !s.text.startsWith('notícia'));
    expect(replies).toHaveLength(11);
    expect(new Set(replies.map((r) => r.jid)).size).toBe(11);
    expect(posts()).toHaveLength(cap - reserve);
    expectPaced(t.sends, t.config.whatsapp.gapMs.min, t.config.whatsapp.chatGapMs, cap);
    // A crowd of private askers cannot take the posts' share: past the reserve they are not answered.
    for (let k = 0; k < 10; k++) t.say(member(300 + k), '/ultimas');
    await advance(5 * 60_000, 5_000);
    expect(t.sends.filter((s) => !s.text.startsWith('notícia'))).toHaveLength(reserve);
    // The next hour the posts carry on.
    await advance(HOUR, 5_000);
    expect(posts().length).toBeGreaterThan(cap - reserve);
    expectPaced(t.sends, t.config.whatsapp.gapMs.min, t.config.whatsapp.chatGapMs, cap);
  }, 240_000);

  it('an unknown command in a private chat is still answered', async () => {
    const t = await setup();
    t.say(member(1), '/xyz');
    await advance(60_000, 1_000);
    expect(t.sends).toHaveLength(1);
    expect(t.sends[0]!.jid).toBe(`${member(1)}@s.whatsapp.net`);
    expect(t.sends[0]!.text).toContain('/xyz');
  }, 60_000);
});
