import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BaileysEventMap, WAMessage } from '@whiskeysockets/baileys';
import type { IncomingMessage, Reply } from '../../../src/commands/types.js';
import { openStore, type Store } from '../../../src/store/db.js';
import { useDatabaseAuthState } from '../../../src/platforms/whatsapp/auth-store.js';
import { WhatsAppConnection } from '../../../src/platforms/whatsapp/connection.js';
import {
  messageText,
  readUpsert,
  renderReplyText,
  toIncomingMessage,
  wireCommands,
  type IncomingContext,
} from '../../../src/platforms/whatsapp/incoming.js';
import { Lru } from '../../../src/platforms/whatsapp/lru.js';
import { captureLogger, fakeSocketFactory, flush } from '../../fakes/whatsapp-socket.js';

const EDITOR = '5511999998888';
const GROUP = '120363025246125486@g.us';
const ctx: IncomingContext = {
  lidToPhone: (jid) => (jid === '4242@lid' ? `${EDITOR}@s.whatsapp.net` : null),
  ownJid: '5511900000000:7@s.whatsapp.net',
};

let n = 0;
function msg(over: { key?: Partial<WAMessage['key']>; message?: WAMessage['message']; pushName?: string; messageTimestamp?: number }): WAMessage {
  return {
    key: { remoteJid: `${EDITOR}@s.whatsapp.net`, fromMe: false, id: `ID${++n}`, ...over.key },
    message: 'message' in over ? over.message : { conversation: '/ultimas' },
    pushName: over.pushName ?? 'Ana',
    messageTimestamp: over.messageTimestamp ?? 1_740_830_400,
  };
}

describe('toIncomingMessage', () => {
  it('a private text message', async () => {
    const m = await toIncomingMessage(msg({ message: { conversation: 'oi' } }), ctx);
    expect(m).toEqual<IncomingMessage>({
      platform: 'whatsapp',
      chatId: `${EDITOR}@s.whatsapp.net`,
      chatType: 'private',
      senderId: EDITOR,
      senderName: 'Ana',
      languageCode: null,
      text: 'oi',
      messageId: `ID${n}`,
      addressedToBot: true,
      canShowButtons: false,
      receivedAt: new Date('2025-03-01T12:00:00Z'),
    });
  });

  it('in a group, only messages that start with / (sender from participant)', async () => {
    const withSlash = await toIncomingMessage(
      msg({ key: { remoteJid: GROUP, participant: `${EDITOR}:3@s.whatsapp.net` }, message: { extendedTextMessage: { text: '  /push https://x.com/a' } } }),
      ctx,
    );
    expect(withSlash).toMatchObject({ chatId: GROUP, chatType: 'group', senderId: EDITOR, text: '  /push https://x.com/a' });
    const chatter = await toIncomingMessage(msg({ key: { remoteJid: GROUP, participant: `${EDITOR}@s.whatsapp.net` }, message: { conversation: 'bom dia' } }), ctx);
    expect(chatter).toBeNull();
  });

  it('an @lid sender is mapped to a phone number; unknown mapping gives senderId null (fails closed)', async () => {
    const mapped = await toIncomingMessage(msg({ key: { remoteJid: GROUP, participant: '4242@lid' }, message: { conversation: '/pause' } }), ctx);
    expect(mapped?.senderId).toBe(EDITOR);
    const unmapped = await toIncomingMessage(msg({ key: { remoteJid: '9999@lid' }, message: { conversation: '/pause' } }), ctx);
    expect(unmapped).toMatchObject({ chatType: 'private', senderId: null, chatId: '9999@lid' });
    const throwing = await toIncomingMessage(msg({ key: { remoteJid: '4242@lid' } }), {
      lidToPhone: () => Promise.reject(new Error('db down')),
    });
    expect(throwing?.senderId).toBeNull();
  });

  it('uses the alternate address Baileys 7 puts on the key (participantAlt / remoteJidAlt)', async () => {
    const noLookup: IncomingContext = { lidToPhone: () => null };
    const group = await toIncomingMessage(
      msg({ key: { remoteJid: GROUP, participant: '1111@lid', participantAlt: `${EDITOR}@s.whatsapp.net` }, message: { conversation: '/status' } }),
      noLookup,
    );
    expect(group?.senderId).toBe(EDITOR);
    const priv = await toIncomingMessage(msg({ key: { remoteJid: '1111@lid', remoteJidAlt: `${EDITOR}@s.whatsapp.net` } }), noLookup);
    expect(priv?.senderId).toBe(EDITOR);
  });

  it('unwraps ephemeral, view-once (v1, v2, v2 extension) and document-with-caption messages', async () => {
    const wrapped: WAMessage['message'][] = [
      { ephemeralMessage: { message: { extendedTextMessage: { text: '/ajuda' } } } },
      { viewOnceMessage: { message: { imageMessage: { caption: '/ajuda' } } } },
      { viewOnceMessageV2: { message: { videoMessage: { caption: '/ajuda' } } } },
      { viewOnceMessageV2Extension: { message: { conversation: '/ajuda' } } },
      { documentWithCaptionMessage: { message: { documentMessage: { caption: '/ajuda' } } } },
      { ephemeralMessage: { message: { viewOnceMessageV2: { message: { imageMessage: { caption: '/ajuda' } } } } } },
    ];
    for (const message of wrapped) {
      expect((await toIncomingMessage(msg({ message }), ctx))?.text).toBe('/ajuda');
    }
  });

  it('reads image and video captions', async () => {
    expect((await toIncomingMessage(msg({ message: { imageMessage: { caption: 'veja' } } }), ctx))?.text).toBe('veja');
    expect((await toIncomingMessage(msg({ message: { videoMessage: { caption: 'vídeo' } } }), ctx))?.text).toBe('vídeo');
  });

  it('ignores our own messages, status broadcasts, channels, broadcasts and messages without text', async () => {
    const ignored: WAMessage[] = [
      msg({ key: { fromMe: true } }),
      msg({ key: { remoteJid: 'status@broadcast', participant: `${EDITOR}@s.whatsapp.net` } }),
      msg({ key: { remoteJid: '120363144038483540@newsletter' } }),
      msg({ key: { remoteJid: '12345@broadcast', participant: `${EDITOR}@s.whatsapp.net` } }),
      msg({ message: { stickerMessage: {} } }),
      msg({ message: { conversation: '   ' } }),
      msg({ message: null }),
      msg({ key: { remoteJid: null } }),
      msg({ key: { id: null } }),
      // the account itself, from another device, not flagged fromMe
      msg({ key: { remoteJid: '5511900000000@s.whatsapp.net' } }),
      // a group message without a participant
      msg({ key: { remoteJid: GROUP } }),
    ];
    for (const m of ignored) expect(await toIncomingMessage(m, ctx)).toBeNull();
  });

  it('handles odd input without crashing: 10 KB text, control characters, RTL marks, only emoji', async () => {
    for (const text of ['/x '.repeat(3_500), '/ajuda\u0000\u0007', '\u202e/ajuda', '🗞️🔥']) {
      const m = await toIncomingMessage(msg({ message: { conversation: text } }), ctx);
      expect(m?.text).toBe(text);
    }
  });

  it('timestamps: protobuf Long values, and now() when missing', async () => {
    const long = { toNumber: () => 1_740_830_400, low: 0, high: 0, unsigned: true } as unknown as number;
    expect((await toIncomingMessage(msg({ messageTimestamp: long }), ctx))?.receivedAt.toISOString()).toBe('2025-03-01T12:00:00.000Z');
    const m = msg({});
    delete m.messageTimestamp;
    const now = new Date('2030-01-01T00:00:00Z');
    expect((await toIncomingMessage(m, { ...ctx, now: () => now }))?.receivedAt).toBe(now);
  });
});

describe('messageText', () => {
  it('returns null for nothing usable', () => {
    expect(messageText(undefined)).toBeNull();
    expect(messageText({})).toBeNull();
    expect(messageText({ ephemeralMessage: {} })).toBeNull();
  });
});

describe('readUpsert', () => {
  it('takes notify only, and each message id once', async () => {
    const seen = new Lru<string, true>(100);
    const a = msg({ message: { conversation: 'a' } });
    const event = (type: BaileysEventMap['messages.upsert']['type'], messages: WAMessage[]) => ({ type, messages });
    expect(await readUpsert(event('append', [a]), { ...ctx, seen })).toEqual([]);
    const first = await readUpsert(event('notify', [a, a]), { ...ctx, seen });
    expect(first.map((r) => r.message.text)).toEqual(['a']);
    expect(await readUpsert(event('notify', [a]), { ...ctx, seen })).toEqual([]);
  });
});

describe('renderReplyText', () => {
  it('turns command buttons into lines and leaves opaque ones out', () => {
    const reply: Reply = {
      text: 'Enviar para 3 destinos?',
      buttons: [
        { label: 'Enviar', data: '/confirmar 4821' },
        { label: 'Cancelar', data: '/cancelar 4821' },
        { label: 'x', data: 'cb:opaque' },
      ],
    };
    expect(renderReplyText(reply)).toBe('Enviar para 3 destinos?\n\nEnviar: /confirmar 4821\nCancelar: /cancelar 4821');
    expect(renderReplyText({ text: 'oi' })).toBe('oi');
    expect(renderReplyText(reply, (b) => `Responda ${b.data}`)).toMatch(/Responda cb:opaque$/);
  });
});

describe('wireCommands', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
  });
  afterEach(() => store.close());

  async function connected() {
    const fake = fakeSocketFactory((s) => s.lids.set('4242@lid', `${EDITOR}@s.whatsapp.net`));
    const { logger } = captureLogger();
    const conn = new WhatsAppConnection({
      session: 'default',
      auth: await useDatabaseAuthState(store.db, 'default'),
      socketFactory: fake.factory,
      logger,
      onQr: () => undefined,
    });
    await conn.start();
    fake.last().open();
    await flush();
    return { conn, fake, logger };
  }

  it('hands the replies to deliver as text (never to the socket), shows composing, mapping @lid senders for the router', async () => {
    const { conn, fake, logger } = await connected();
    const got: IncomingMessage[] = [];
    const queued: { chatId: string; replies: Reply[] }[] = [];
    const off = wireCommands(
      conn,
      async (m) => {
        got.push(m);
        return [{ text: 'Pausado.', buttons: [{ label: 'Retomar', data: '/retomar' }] }, { text: 'Segunda.' }];
      },
      { logger, deliver: async (chatId, replies) => void queued.push({ chatId, replies }) },
    );
    const sock = fake.last();
    const raw = msg({ key: { remoteJid: GROUP, participant: '4242@lid' }, message: { conversation: '/pause' } });
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [raw, msg({ key: { remoteJid: GROUP, participant: '4242@lid' }, message: { conversation: 'conversa' } })] });
    await flush(5);

    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ senderId: EDITOR, chatType: 'group', text: '/pause' });
    expect(queued).toEqual([{ chatId: GROUP, replies: [{ text: 'Pausado.\n\nRetomar: /retomar' }, { text: 'Segunda.' }] }]);
    expect(sock.sent).toEqual([]);
    expect(sock.presence).toEqual([{ type: 'composing', jid: GROUP }]);

    // the same message delivered again is not answered twice
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [raw] });
    await flush(5);
    expect(got).toHaveLength(1);
    off();
  });

  it('no replies means nothing queued and no presence; router errors are logged', async () => {
    const { conn, fake } = await connected();
    const log = captureLogger();
    const replies: Reply[][] = [[{ text: 'Olá' }], []];
    const queued: string[] = [];
    wireCommands(
      conn,
      async (m) => {
        if (m.text === 'boom') throw new Error('router failed');
        return replies.shift() ?? [];
      },
      { logger: log.logger, deliver: async (chatId) => void queued.push(chatId) },
    );
    const sock = fake.last();
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [msg({ message: { conversation: '/start' } })] });
    await flush(5);
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [msg({ message: { conversation: 'free text' } })] });
    await flush(5);
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [msg({ message: { conversation: 'boom' } })] });
    await flush(5);
    expect(queued).toEqual([`${EDITOR}@s.whatsapp.net`]);
    expect(sock.presence.map((p) => p.type)).toEqual(['composing']);
    expect(log.lines().some((l) => /answering a WhatsApp command failed/.test(l.msg) && l.err === 'router failed')).toBe(true);
  });

  it('a group shares one reply budget among its members, logged once per window; private chats only pay the account budget', async () => {
    const { conn, fake } = await connected();
    const log = captureLogger('warn');
    let now = 1_000_000;
    const queued: string[] = [];
    wireCommands(conn, async (m) => (m.replyBudget && !m.replyBudget() ? [] : [{ text: 'ok' }]), {
      logger: log.logger,
      deliver: async (chatId) => void queued.push(chatId),
      groupReplyRate: { count: 3, perMs: 600_000 },
      accountReplyRate: { count: 5, perMs: 3_600_000 },
      clock: () => now,
    });
    const sock = fake.last();
    const fromMember = (k: number) => msg({ key: { remoteJid: GROUP, participant: `55119000000${10 + k}@s.whatsapp.net` }, message: { conversation: '/ultimas' } });
    sock.ev.emit('messages.upsert', { type: 'notify', messages: Array.from({ length: 10 }, (_, k) => fromMember(k)) });
    await flush(10);
    expect(queued.filter((c) => c === GROUP)).toHaveLength(3);
    const groupLogs = () => log.lines().filter((l) => l.event === 'whatsapp.group_reply_limited');
    expect(groupLogs()).toHaveLength(1);

    // a private chat is not held back by the group's budget, only by the account's
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [msg({}), msg({})] });
    await flush(10);
    expect(queued.filter((c) => c.endsWith('@s.whatsapp.net'))).toHaveLength(2);
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [msg({})] });
    await flush(10);
    expect(queued).toHaveLength(5);
    expect(log.lines().filter((l) => l.event === 'whatsapp.reply_budget_spent')).toHaveLength(1);

    // ten minutes later the group has room again (and the account does not): still silent, one more log
    now += 600_000;
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [fromMember(20)] });
    await flush(10);
    expect(queued).toHaveLength(5);
    now += 3_600_000;
    sock.ev.emit('messages.upsert', { type: 'notify', messages: [fromMember(21), fromMember(22)] });
    await flush(10);
    expect(queued).toHaveLength(7);
    expect(groupLogs()).toHaveLength(1);
  });

  it('an answer the router gave without asking the budget (an apology) still pays for it', async () => {
    const { conn, fake } = await connected();
    const log = captureLogger();
    const queued: string[] = [];
    wireCommands(conn, async () => [{ text: 'Desculpe, algo falhou.' }], {
      logger: log.logger,
      deliver: async (chatId) => void queued.push(chatId),
      groupReplyRate: { count: 2, perMs: 600_000 },
    });
    const sock = fake.last();
    sock.ev.emit('messages.upsert', {
      type: 'notify',
      messages: Array.from({ length: 6 }, (_, k) => msg({ key: { remoteJid: GROUP, participant: `55119000000${10 + k}@s.whatsapp.net` }, message: { conversation: '/ultimas' } })),
    });
    await flush(10);
    expect(queued).toHaveLength(2);
  });

  it('a failure while queueing is logged, not thrown', async () => {
    const { conn, fake } = await connected();
    const log = captureLogger();
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    wireCommands(conn, async () => [{ text: 'x' }], { logger: log.logger, deliver: async () => Promise.reject(new Error('database is locked')) });
    fake.last().ev.emit('messages.upsert', { type: 'notify', messages: [msg({})] });
    await flush(5);
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
    expect(log.lines().some((l) => l.err === 'database is locked')).toBe(true);
  });
});
