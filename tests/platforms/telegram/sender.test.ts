import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telegraf } from 'telegraf';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { PlatformSendError, type Destination, type DestinationOptions } from '../../../src/delivery/types.js';
import { telegramErrorCode } from '../../../src/platforms/telegram/errors.js';
import { CHECK_LINES, createTelegramSender, type TelegramSender } from '../../../src/platforms/telegram/sender.js';
import type { OutboundMessage } from '../../../src/render/types.js';
import { TG_ERRORS, startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-api.js';
import { TOKEN, memoryLogger } from './helpers.js';

function dest(chatId: string, options: DestinationOptions = {}, threadId: string | null = null): Destination {
  return { id: `telegram:${chatId}${threadId ? `:${threadId}` : ''}`, platform: 'telegram', chatId, threadId, options };
}

const text = (t: string, previewUrl?: string): OutboundMessage => ({ kind: 'text', text: t, ...(previewUrl ? { previewUrl } : {}) });
const photo = (caption: string): OutboundMessage => ({
  kind: 'photo',
  text: caption,
  imageUrl: 'https://img.example/foto.jpg',
  previewUrl: 'https://news.example/artigo',
});

async function failure(p: Promise<unknown>): Promise<PlatformSendError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformSendError);
  return err as PlatformSendError;
}

describe('Telegram sender against the fake Bot API', () => {
  let fake: FakeTelegram;
  let sender: TelegramSender;
  let lines: string[];

  beforeEach(async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: -1001, type: 'channel', username: 'canal', title: 'Canal' });
    fake.addChat({ id: -1002, type: 'supergroup', isForum: true, topics: [7] });
    fake.addChat({ id: 42, type: 'private' });
    const log = memoryLogger();
    lines = log.lines;
    const bot = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
    sender = createTelegramSender({ telegram: bot, logger: log.logger, token: TOKEN, timeoutMs: 300 });
  });
  afterEach(async () => {
    await fake.close();
  });

  describe('send', () => {
    test('text with HTML, the article preview, the topic and silent posting', async () => {
      const sent = await sender.send(dest('-1002', { silent: true }, '7'), text('<b>Mundo</b> &amp; mais', 'https://news.example/a'));
      expect(sent).toEqual({ messageId: '1' });
      expect(fake.sent[0]).toMatchObject({
        chat_id: -1002,
        message_thread_id: 7,
        parse_mode: 'HTML',
        plain: 'Mundo & mais',
        link_preview_options: { url: 'https://news.example/a' },
        disable_notification: true,
      });
    });

    test('link previews can be turned off per destination', async () => {
      await sender.send(dest('@canal', { linkPreview: false }), text('x', 'https://news.example/a'));
      expect(fake.sent[0]?.link_preview_options).toEqual({ is_disabled: true });
      expect(fake.sent[0]?.disable_notification).toBeUndefined();
    });

    test('a photo goes out as sendPhoto with the caption', async () => {
      const sent = await sender.send(dest('@canal'), photo('<b>Título</b>'));
      expect(sent).toEqual({ messageId: '1' });
      expect(fake.sent[0]).toMatchObject({ method: 'sendPhoto', photo: 'https://img.example/foto.jpg', caption: '<b>Título</b>', parse_mode: 'HTML' });
    });

    test('429 → rate_limited with retryAfterMs, and the sender does not retry by itself', async () => {
      fake.failNext('sendMessage', 1, TG_ERRORS.tooMany(3));
      const e = await failure(sender.send(dest('@canal'), text('x')));
      expect(e.kind).toBe('rate_limited');
      expect(e.details.retryAfterMs).toBe(3000);
      expect(fake.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
    });

    test('the real rate limiter of the fake also comes back as rate_limited', async () => {
      fake.setLimits({});
      await sender.send(dest('42'), text('a'));
      const e = await failure(sender.send(dest('42'), text('b')));
      expect(e.kind).toBe('rate_limited');
      expect(e.details.retryAfterMs).toBe(1000);
    });

    test('500 → transient', async () => {
      fake.failNext('sendMessage', 1, TG_ERRORS.serverError);
      const e = await failure(sender.send(dest('@canal'), text('x')));
      expect(e.kind).toBe('transient');
      expect(fake.sent).toHaveLength(0);
    });

    test('a hanging request is cut off at timeoutMs → transient', async () => {
      fake.failNext('sendMessage', 1, TG_ERRORS.hang);
      const e = await failure(sender.send(dest('@canal'), text('x')));
      expect(e.kind).toBe('transient');
      expect(telegramErrorCode(e)).toBe('timeout');
    });

    test('a connection reset → transient', async () => {
      fake.failNext('sendMessage', 1, TG_ERRORS.reset);
      const e = await failure(sender.send(dest('@canal'), text('x')));
      expect(e.kind).toBe('transient');
      expect(telegramErrorCode(e)).toBe('network');
    });

    test("can't parse entities → resent once as plain text, degraded, template fault logged", async () => {
      const sent = await sender.send(dest('@canal'), text('<b>Mundo</b> <a href="https://news.example/a">Leia</a> <blink>'));
      expect(sent).toEqual({ messageId: '1', degraded: 'plain_text', kind: 'text' });
      expect(fake.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status)).toEqual([400, 200]);
      expect(fake.sent).toHaveLength(1);
      expect(fake.sent[0]?.parse_mode).toBeUndefined();
      expect(fake.sent[0]?.text).toBe('Mundo Leia (https://news.example/a)');
      expect(lines.some((l) => l.includes('template fault'))).toBe(true);
    });

    test('if the plain-text resend fails too, that failure is reported (no loop)', async () => {
      fake.script(({ method, params }) => (method === 'sendMessage' && params.parse_mode === undefined ? TG_ERRORS.serverError : undefined));
      const e = await failure(sender.send(dest('@canal'), text('<blink>')));
      expect(e.kind).toBe('transient');
      expect(fake.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(2);
    });

    test('400 with migrate_to_chat_id → migrated with migrateTo', async () => {
      fake.addChat({ id: -5, type: 'group', migratedTo: -1005 });
      const e = await failure(sender.send(dest('-5'), text('x')));
      expect(e.kind).toBe('migrated');
      expect(e.details.migrateTo).toBe('-1005');
    });

    test('403 blocked, kicked, and chat not found → gone', async () => {
      fake.addChat({ id: 43, type: 'private', blocked: true });
      fake.addChat({ id: -1003, type: 'channel', botStatus: 'kicked' });
      expect((await failure(sender.send(dest('43'), text('x')))).kind).toBe('gone');
      expect((await failure(sender.send(dest('-1003'), text('x')))).kind).toBe('gone');
      const notFound = await failure(sender.send(dest('@sumiu'), text('x')));
      expect(notFound.kind).toBe('gone');
      expect(telegramErrorCode(notFound)).toBe('chat_not_found');
      expect(notFound.message).toContain('@sumiu');
    });

    test.each([
      ['wrong file identifier', TG_ERRORS.badPhotoUrl],
      ['failed to get HTTP URL content', TG_ERRORS.photoUnreachable],
      ['wrong type of the web page content', TG_ERRORS.photoWrongType],
    ])('image refused (%s) → text with a link preview of the article', async (_name, answer) => {
      fake.failNext('sendPhoto', 1, answer);
      const sent = await sender.send(dest('@canal'), photo('<b>Título</b> lead'));
      expect(sent).toEqual({ messageId: '1', degraded: 'text_instead_of_photo', kind: 'text' });
      expect(fake.sent).toHaveLength(1);
      expect(fake.sent[0]).toMatchObject({
        method: 'sendMessage',
        text: '<b>Título</b> lead',
        parse_mode: 'HTML',
        link_preview_options: { url: 'https://news.example/artigo', prefer_large_media: true },
      });
    });

    test('photo caption with bad HTML → photo resent with a plain caption', async () => {
      const sent = await sender.send(dest('@canal'), photo('<b>Título'));
      expect(sent).toEqual({ messageId: '1', degraded: 'plain_text', kind: 'photo' });
      expect(fake.sent[0]).toMatchObject({ method: 'sendPhoto', caption: 'Título' });
      expect(fake.sent[0]?.parse_mode).toBeUndefined();
    });

    test('messages that cannot be Telegram messages are permanent errors, nothing sent', async () => {
      expect((await failure(sender.send(dest('@canal'), { kind: 'image', text: 'x', imageUrl: 'https://x/y.jpg' }))).kind).toBe('permanent');
      expect((await failure(sender.send(dest('@canal'), { kind: 'photo', text: 'x' }))).kind).toBe('permanent');
      expect(fake.calls).toHaveLength(0);
    });
  });

  describe('edit', () => {
    test('text and caption edits reach the message', async () => {
      const a = await sender.send(dest('@canal'), text('<b>antes</b>'));
      const b = await sender.send(dest('@canal'), photo('<i>antes</i>'));
      await sender.edit(dest('@canal'), a.messageId, text('<b>depois</b>'));
      await sender.edit(dest('@canal'), b.messageId, photo('<i>depois</i>'));
      expect(fake.message(-1001, 1)?.plain).toBe('depois');
      expect(fake.message(-1001, 2)?.plain).toBe('depois');
      expect(fake.edits.map((e) => e.method)).toEqual(['editMessageText', 'editMessageCaption']);
    });

    test('"message is not modified" counts as success', async () => {
      const a = await sender.send(dest('@canal'), text('<b>igual</b>'));
      await expect(sender.edit(dest('@canal'), a.messageId, text('<b>igual</b>'))).resolves.toBeUndefined();
      expect(fake.calls.at(-1)?.description).toContain('message is not modified');
    });

    test('a photo that was degraded to text is edited as text', async () => {
      fake.failNext('sendPhoto', 1, TG_ERRORS.badPhotoUrl);
      const sent = await sender.send(dest('@canal'), photo('antes'));
      await sender.edit(dest('@canal'), sent.messageId, photo('depois'));
      expect(fake.message(-1001, Number(sent.messageId))?.plain).toBe('depois');
    });

    test('bad HTML in an edit → edited once as plain text', async () => {
      const a = await sender.send(dest('@canal'), text('antes'));
      await sender.edit(dest('@canal'), a.messageId, text('<b>depois'));
      expect(fake.message(-1001, 1)).toMatchObject({ plain: 'depois', text: 'depois' });
    });

    test('a missing message or a bad id is a permanent error', async () => {
      expect((await failure(sender.edit(dest('@canal'), '77', text('x')))).kind).toBe('permanent');
      expect((await failure(sender.edit(dest('@canal'), 'abc', text('x')))).kind).toBe('permanent');
    });

    test('edit errors are classified like sends (429)', async () => {
      const a = await sender.send(dest('@canal'), text('antes'));
      fake.failNext('editMessageText', 1, TG_ERRORS.tooMany(2));
      const e = await failure(sender.edit(dest('@canal'), a.messageId, text('depois')));
      expect(e.kind).toBe('rate_limited');
    });
  });

  describe('check', () => {
    test.each([
      ['channel, bot admin with Post messages', { id: -2001, type: 'channel' }, { ok: true, message: CHECK_LINES.ok, kind: 'channel' }],
      ['channel, bot not admin', { id: -2002, type: 'channel', botIsAdmin: false }, { ok: false, message: CHECK_LINES.notAdmin }],
      ['channel, bot a plain member', { id: -2003, type: 'channel', botStatus: 'member' }, { ok: false, message: CHECK_LINES.notAdmin }],
      ['channel, admin without Post messages', { id: -2004, type: 'channel', canPost: false }, { ok: false, message: CHECK_LINES.adminWithoutPost }],
      ['channel, bot kicked', { id: -2005, type: 'channel', botStatus: 'kicked' }, { ok: false, gone: true, message: CHECK_LINES.removed }],
      ['group, bot member', { id: -2006, type: 'supergroup' }, { ok: true, message: CHECK_LINES.ok, kind: 'supergroup' }],
      ['group, members may not send', { id: -2007, type: 'supergroup', membersCanSend: false }, { ok: false, message: CHECK_LINES.cannotPostInGroup }],
      ['group, members may not send but bot admin', { id: -2008, type: 'supergroup', membersCanSend: false, botIsAdmin: true }, { ok: true }],
      ['group, bot restricted', { id: -2009, type: 'supergroup', canPost: false }, { ok: false, message: CHECK_LINES.cannotPostInGroup }],
      ['group, bot left', { id: -2010, type: 'group', botStatus: 'left' }, { ok: false, message: CHECK_LINES.notMember }],
      ['private chat', { id: 2011, type: 'private' }, { ok: true, message: CHECK_LINES.ok, kind: 'private' }],
    ] as const)('%s', async (_name, chat, expected) => {
      fake.addChat(chat);
      expect(await sender.check(dest(String(chat.id)))).toMatchObject(expected);
    });

    test('chat not found → gone, with what to check', async () => {
      expect(await sender.check(dest('@naoexiste'))).toEqual({ ok: false, gone: true, message: CHECK_LINES.chatNotFound });
    });

    test('a topic in a chat without topics is reported', async () => {
      fake.addChat({ id: -2012, type: 'supergroup' });
      expect(await sender.check(dest('-2012', {}, '5'))).toMatchObject({ ok: false, message: CHECK_LINES.noTopics });
      expect(await sender.check(dest('-1002', {}, '7'))).toMatchObject({ ok: true });
    });

    test('a migrated group points at its supergroup', async () => {
      fake.addChat({ id: -6, type: 'group', migratedTo: -1006 });
      fake.failNext('getChat', 1, TG_ERRORS.migrate(-1006));
      expect(await sender.check(dest('-6'))).toMatchObject({ ok: false, resolvedChatId: '-1006', message: expect.stringContaining('-1006') });
    });

    test('getMe is asked once for many checks', async () => {
      await sender.check(dest('@canal'));
      await sender.check(dest('42'));
      expect(fake.calls.filter((c) => c.method === 'getMe')).toHaveLength(1);
    });

    test('never throws: Telegram down or answering 500 gives ok: false and a reason', async () => {
      fake.failNext('getMe', 1, TG_ERRORS.serverError);
      const r = await sender.check(dest('@canal'));
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/could not/);
      await fake.close();
      const down = await sender.check(dest('@canal'));
      expect(down.ok).toBe(false);
      expect(down.message).not.toContain(TOKEN.split(':')[1]!);
      fake = await startFakeTelegram(); // for afterEach
    });
  });

  test('ready() is true', () => {
    expect(sender.ready()).toBe(true);
    expect(sender.platform).toBe('telegram');
  });
});

describe('the token never appears in what the sender throws or logs', () => {
  test('an unreachable API root and a proxy answering HTML', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const { logger, lines } = memoryLogger();
    const secret = TOKEN.split(':')[1]!;

    const dead = createTelegramSender({ telegram: new Telegraf(TOKEN, { telegram: { apiRoot: `http://127.0.0.1:${port}` } }), logger, token: TOKEN });
    const e1 = await failure(dead.send(dest('@canal'), text('x')));
    expect(e1.kind).toBe('transient');
    expect(e1.message).not.toContain(secret);

    const fake = await startFakeTelegram();
    try {
      fake.addChat({ id: -1001, type: 'channel' });
      const live = createTelegramSender({ telegram: new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } }), logger, token: TOKEN });
      fake.failNext('sendPhoto', 1, { raw: { status: 404, body: '<html>not found</html>' } });
      const e2 = await failure(live.send(dest('-1001'), photo('x')));
      expect(e2.message).not.toContain(secret);
      fake.failNext('sendMessage', 1, TG_ERRORS.badMarkup);
      await live.send(dest('-1001'), text('<b>x</b>')); // logs a template fault
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('\n')).not.toContain(secret);
    } finally {
      await fake.close();
    }
  });
});
