import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PlatformSendError, type Destination } from '../../../src/delivery/types.js';
import type { OutboundMessage } from '../../../src/render/types.js';
import { openStore, type Store } from '../../../src/store/db.js';
import { useDatabaseAuthState } from '../../../src/platforms/whatsapp/auth-store.js';
import { parseWhatsAppChats, WhatsAppChatsError } from '../../../src/platforms/whatsapp/chats.js';
import { WhatsAppConnection } from '../../../src/platforms/whatsapp/connection.js';
import { classifyWhatsAppError, createWhatsAppSender, type WhatsAppMessageUpdate } from '../../../src/platforms/whatsapp/sender.js';
import { makeJpegThumbnail } from '../../../src/platforms/whatsapp/thumbnail.js';
import { boom, captureLogger, fakeSocketFactory, flush, groupMeta, iqError, type FakeWhatsAppSocket } from '../../fakes/whatsapp-socket.js';

const OWN = '5511900000000@s.whatsapp.net';
const OWN_LID = '88800000000@lid';
const GROUP = '120363025246125486@g.us';
const ANNOUNCE = '120363111111111111@g.us';
const COMMUNITY = '120363222222222222@g.us';
const CHANNEL = '120363144038483540@newsletter';
const IMG = 'https://site.example/foto.jpg';

let photo: Buffer; // a large, noisy PNG: hard to compress
let store: Store;

beforeAll(async () => {
  const w = 1600;
  const h = 1000;
  photo = await sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
});
beforeEach(async () => {
  store = await openStore('sqlite::memory:');
});
afterEach(() => store.close());

const dest = (chatId: string, options: Destination['options'] = {}): Destination => ({
  id: `whatsapp:${chatId}`,
  platform: 'whatsapp',
  chatId,
  threadId: null,
  options,
});

const article: OutboundMessage = {
  kind: 'text',
  text: '*Mundo*\n*Coreia do Norte testa míssil*\nO líder afirmou…\nhttps://site.example/a',
  previewUrl: 'https://site.example/a',
  imageUrl: IMG,
  preview: { title: 'Coreia do Norte testa míssil', description: 'O líder afirmou…' },
};

function world(s: FakeWhatsAppSocket) {
  s.user = { id: '5511900000000:7@s.whatsapp.net', lid: '88800000000:7@lid' };
  s.groups.set(GROUP, groupMeta(GROUP, { subject: 'Leitores', members: [[OWN, 'admin'], ['5511911111111@s.whatsapp.net']] }));
  s.groups.set(COMMUNITY, groupMeta(COMMUNITY, { subject: 'Comunidade', isCommunity: true, members: [[OWN, 'superadmin']] }));
  s.groups.set(ANNOUNCE, groupMeta(ANNOUNCE, { subject: 'Avisos', isCommunityAnnounce: true, announce: true, linkedParent: COMMUNITY, members: [[OWN_LID, 'admin']] }));
  s.newsletters.set(`jid:${CHANNEL}`, { id: CHANNEL, name: 'Canal', viewer_metadata: { role: 'OWNER' } });
  s.newsletters.set('invite:0029VaABCDEFGHIJ', { id: CHANNEL, thread_metadata: { name: { text: 'Canal' } }, viewer_metadata: { role: 'ADMIN' } } as never);
}

async function setup(opts: { fetchImage?: (url: string) => Promise<Uint8Array>; open?: boolean; extra?: (s: FakeWhatsAppSocket) => void } = {}) {
  const fake = fakeSocketFactory((s) => {
    world(s);
    opts.extra?.(s);
  });
  const { logger } = captureLogger();
  const connection = new WhatsAppConnection({
    session: 'default',
    auth: await useDatabaseAuthState(store.db, 'default'),
    socketFactory: fake.factory,
    logger,
    onQr: () => undefined,
  });
  const sender = createWhatsAppSender({
    connection,
    logger,
    ...(opts.fetchImage ? { fetchImage: opts.fetchImage } : {}),
  });
  await connection.start();
  if (opts.open !== false) {
    fake.last().open();
    await flush();
  }
  return { sender, connection, sock: fake.last() };
}

const serve = (bytes: Uint8Array) => async (url: string) => {
  if (url !== IMG) throw new Error(`unexpected ${url}`);
  return bytes;
};

describe('makeJpegThumbnail', () => {
  it('makes a small JPEG (≤ 50 KB) from a large noisy image; null for bytes that are no image', async () => {
    const thumb = await makeJpegThumbnail(photo);
    expect(thumb).not.toBeNull();
    expect(thumb!.length).toBeLessThanOrEqual(50_000);
    const meta = await sharp(thumb!).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);
    expect(await makeJpegThumbnail(Buffer.from('<html>not an image</html>'))).toBeNull();
    expect(await makeJpegThumbnail(photo, { maxBytes: 10 })).toBeNull();
  });
});

describe('WhatsApp sender: send', () => {
  it('text goes out with Manchete’s own link preview and a JPEG thumbnail', async () => {
    const { sender, sock, connection } = await setup({ fetchImage: serve(photo) });
    expect(sender.ready()).toBe(true);
    const sent = await sender.send(dest(GROUP), article);
    expect(sent).toEqual({ messageId: sock.sent[0]!.id });
    const content = sock.sent[0]!.content as unknown as { text: string; linkPreview: Record<string, unknown> };
    expect(sock.sent[0]!.jid).toBe(GROUP);
    expect(content.text).toBe(article.text);
    expect(content.linkPreview).toMatchObject({
      'canonical-url': 'https://site.example/a',
      'matched-text': 'https://site.example/a',
      title: 'Coreia do Norte testa míssil',
      description: 'O líder afirmou…',
    });
    const thumb = content.linkPreview.jpegThumbnail as Buffer;
    expect(thumb.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(thumb.length).toBeLessThanOrEqual(50_000);
    // remembered for Baileys' retry requests
    expect(await connection.getMessage({ id: sent.messageId })).toBeDefined();
  });

  it('an image that cannot be fetched or decoded: the preview goes without thumbnail', async () => {
    for (const fetchImage of [async () => Promise.reject(new Error('404')), serve(Buffer.from('nope'))]) {
      const { sender, sock } = await setup({ fetchImage });
      await sender.send(dest(GROUP), article);
      const lp = (sock.sent[0]!.content as unknown as { linkPreview: Record<string, unknown> }).linkPreview;
      expect(lp.title).toBe('Coreia do Norte testa míssil');
      expect(lp).not.toHaveProperty('jpegThumbnail');
    }
  });

  it('no preview data, or linkPreview off for the destination: linkPreview null (Baileys must not fetch one)', async () => {
    const { sender, sock } = await setup({ fetchImage: serve(photo) });
    await sender.send(dest(GROUP), { kind: 'text', text: 'só texto https://x.example' });
    await sender.send(dest(GROUP, { linkPreview: false }), article);
    expect(sock.sent.map((s) => (s.content as { linkPreview: unknown }).linkPreview)).toEqual([null, null]);
  });

  it('image kind to a group: the image with its caption', async () => {
    const { sender, sock } = await setup({ fetchImage: serve(photo) });
    const sent = await sender.send(dest(GROUP), { kind: 'image', text: 'legenda', imageUrl: IMG });
    expect(sent.degraded).toBeUndefined();
    const content = sock.sent[0]!.content as { image: Buffer; caption: string };
    expect(Buffer.isBuffer(content.image)).toBe(true);
    expect(content.image.equals(photo)).toBe(true);
    expect(content.caption).toBe('legenda');
  });

  it('image kind without fetchImage: Baileys gets the URL', async () => {
    const { sender, sock } = await setup();
    await sender.send(dest(GROUP), { kind: 'image', text: 'legenda', imageUrl: IMG });
    expect(sock.sent[0]!.content).toEqual({ image: { url: IMG }, caption: 'legenda' });
  });

  it('image kind to a channel: text with the preview instead (media fails on channels in rc14)', async () => {
    const { sender, sock } = await setup({ fetchImage: serve(photo) });
    const sent = await sender.send(dest(CHANNEL), { ...article, kind: 'image' });
    expect(sent).toMatchObject({ degraded: 'text_instead_of_photo', kind: 'text' });
    const content = sock.sent[0]!.content as { text: string; linkPreview: { jpegThumbnail?: Buffer } };
    expect(sock.sent[0]!.jid).toBe(CHANNEL);
    expect(content.text).toBe(article.text);
    expect(content.linkPreview.jpegThumbnail).toBeInstanceOf(Buffer);
    expect(sock.sent[0]!.content).not.toHaveProperty('image');
  });

  it('an image that cannot be fetched for a group degrades to text', async () => {
    const { sender, sock } = await setup({ fetchImage: async () => Promise.reject(new Error('timeout')) });
    const sent = await sender.send(dest(GROUP), { ...article, kind: 'image' });
    expect(sent.degraded).toBe('text_instead_of_photo');
    expect(sock.sent[0]!.content).toHaveProperty('text');
  });

  it('a community parent is never posted to: the announcement group is', async () => {
    const { sender, sock } = await setup();
    await sender.send(dest(COMMUNITY), { kind: 'text', text: 'a' });
    await sender.send(dest(COMMUNITY), { kind: 'text', text: 'b' });
    expect(sock.sent.map((s) => s.jid)).toEqual([ANNOUNCE, ANNOUNCE]);
  });

  it('a channel invite link is resolved to the channel JID', async () => {
    const { sender, sock } = await setup();
    await sender.send(dest('https://whatsapp.com/channel/0029VaABCDEFGHIJ'), { kind: 'text', text: 'a' });
    expect(sock.sent[0]!.jid).toBe(CHANNEL);
    await expect(sender.send(dest('https://whatsapp.com/channel/0029VaUNKNOWNXX'), { kind: 'text', text: 'a' })).rejects.toMatchObject({
      kind: 'gone',
    });
  });

  it('edit replaces the text of a sent message', async () => {
    const { sender, sock } = await setup();
    await sender.edit(dest(GROUP), '3EB0ABC', { kind: 'text', text: 'corrigido' });
    expect(sock.sent[0]!.content).toEqual({ text: 'corrigido', edit: { remoteJid: GROUP, fromMe: true, id: '3EB0ABC' } });
  });
});

describe('WhatsApp sender: errors', () => {
  it('not connected → transient; ready() false', async () => {
    const { sender } = await setup({ open: false });
    expect(sender.ready()).toBe(false);
    const err = await sender.send(dest(GROUP), article).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformSendError);
    expect(err).toMatchObject({ kind: 'transient' });
    expect((err as Error).message).toMatch(/not connected \(state connecting/);
  });

  it('463 → restricted, and the connection pauses (ready() false) until it is lifted', async () => {
    const { sender, sock, connection } = await setup();
    sock.failNextSend(boom(463, 'account restricted'));
    await expect(sender.send(dest(GROUP), article)).rejects.toMatchObject({ kind: 'restricted' });
    expect(connection.state()).toBe('restricted');
    expect(sender.ready()).toBe(false);
    await expect(sender.send(dest(GROUP), article)).rejects.toMatchObject({ kind: 'restricted', details: { code: 463 } });
    expect(sock.sent).toHaveLength(0);
  });

  it.each([
    [iqError(403, 'forbidden'), 'gone'],
    [iqError(401, 'not-authorized'), 'gone'],
    [new Error('not-authorized'), 'gone'],
    [iqError(404, 'item-not-found'), 'gone'],
    [iqError(429, 'rate-overlimit'), 'rate_limited'],
    [boom(428, 'Connection Closed'), 'transient'],
    [boom(408, 'Timed Out'), 'transient'],
    [boom(503, 'unavailable'), 'transient'],
    [new Error('Connection Closed'), 'transient'],
    [iqError(400, 'bad-request'), 'permanent'],
    [new Error('Invalid media type'), 'permanent'],
  ] as const)('%s → %s', async (error, kind) => {
    const { sender, sock } = await setup();
    sock.failNextSend(error);
    const err = await sender.send(dest(GROUP), { kind: 'text', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformSendError);
    expect((err as PlatformSendError).kind).toBe(kind);
    expect((err as Error).message).toContain(GROUP);
  });

  it('classifyWhatsAppError keeps PlatformSendErrors and gives rate limits a wait', () => {
    const own = new PlatformSendError('gone', 'x');
    expect(classifyWhatsAppError(own, GROUP)).toBe(own);
    expect(classifyWhatsAppError(iqError(429, 'rate-overlimit'), GROUP).details.retryAfterMs).toBe(60_000);
    expect(classifyWhatsAppError('a string', GROUP).kind).toBe('permanent');
  });

  it('a group the account is not in → gone; a community without its announcement group → permanent', async () => {
    const { sender } = await setup({ extra: (s) => s.groups.delete(ANNOUNCE) });
    await expect(sender.send(dest('120363999999999999@g.us'), article)).rejects.toMatchObject({ kind: 'gone' });
    await expect(sender.send(dest(COMMUNITY), article)).rejects.toMatchObject({ kind: 'permanent' });
    await expect(sender.send(dest('not-a-jid'), article)).rejects.toMatchObject({ kind: 'permanent' });
  });
});

describe('WhatsApp sender: onMessageUpdate', () => {
  it('surfaces errors and statuses of our own messages, keyed by message id', async () => {
    const { sender, sock } = await setup();
    const updates: WhatsAppMessageUpdate[] = [];
    sender.onMessageUpdate((u) => updates.push(u));
    const { messageId } = await sender.send(dest(GROUP), { kind: 'text', text: 'x' });
    sock.ev.emit('messages.update', [
      { key: { remoteJid: GROUP, id: messageId, fromMe: true }, update: { status: 3 } },
      { key: { remoteJid: GROUP, id: messageId, fromMe: true }, update: { status: 0, messageStubParameters: ['479'] } },
      { key: { remoteJid: GROUP, id: 'SOMEONE-ELSES', fromMe: false }, update: { status: 0, messageStubParameters: ['500'] } },
      { key: { remoteJid: GROUP, id: messageId, fromMe: true }, update: { pollUpdates: [] } },
    ]);
    expect(updates).toEqual([
      { messageId, chatId: GROUP, status: 'delivered', error: null, restricted: false, revoked: false },
      { messageId, chatId: GROUP, status: 'error', error: '479', restricted: false, revoked: false },
    ]);
  });

  it('a 463 report marks the update restricted and pauses the connection', async () => {
    const { sender, sock, connection } = await setup();
    const updates: WhatsAppMessageUpdate[] = [];
    sender.onMessageUpdate((u) => updates.push(u));
    const { messageId } = await sender.send(dest(GROUP), { kind: 'text', text: 'x' });
    sock.ev.emit('messages.update', [
      { key: { remoteJid: GROUP, id: messageId, fromMe: true }, update: { status: 0, messageStubParameters: ['463', 'Your account has been restricted'] } },
    ]);
    await flush();
    expect(updates[0]).toMatchObject({ status: 'error', restricted: true, error: '463: Your account has been restricted' });
    expect(connection.state()).toBe('restricted');
  });
});

describe('WhatsApp sender: check', () => {
  it('a group where the account is admin', async () => {
    const { sender } = await setup();
    expect(await sender.check(dest(GROUP))).toEqual({ ok: true, kind: 'group', title: 'Leitores', message: 'ok, can post' });
  });

  it('an announcement group where the account is not admin; a plain group where it is a member', async () => {
    const { sender } = await setup({
      extra: (s) => {
        s.groups.set(GROUP, groupMeta(GROUP, { announce: true, members: [[OWN]] }));
        s.groups.set('120363333@g.us', groupMeta('120363333@g.us', { members: [['5511900000000:7@s.whatsapp.net']] }));
      },
    });
    expect(await sender.check(dest(GROUP))).toMatchObject({
      ok: false,
      message: 'the account is not an admin of this announcement group: make it an admin',
    });
    expect(await sender.check(dest('120363333@g.us'))).toMatchObject({ ok: true, message: expect.stringMatching(/^ok, can post/) });
  });

  it('a group the account left, or that does not exist: gone', async () => {
    const { sender } = await setup({ extra: (s) => s.groups.set(GROUP, groupMeta(GROUP, { members: [['5511911111111@s.whatsapp.net', 'admin']] })) });
    expect(await sender.check(dest(GROUP))).toMatchObject({ ok: false, gone: true });
    expect(await sender.check(dest('120363999999999999@g.us'))).toMatchObject({ ok: false, gone: true });
  });

  it('a community resolves to its announcement group (admin matched by LID)', async () => {
    const { sender } = await setup();
    expect(await sender.check(dest(COMMUNITY))).toEqual({
      ok: true,
      kind: 'community',
      title: 'Comunidade',
      message: 'ok, can post',
      resolvedChatId: ANNOUNCE,
    });
    expect(await sender.check(dest(ANNOUNCE))).toMatchObject({ ok: true, kind: 'community' });
  });

  it('a community whose announcement group the account is not in', async () => {
    const { sender } = await setup({ extra: (s) => s.groups.delete(ANNOUNCE) });
    expect(await sender.check(dest(COMMUNITY))).toMatchObject({ ok: false, kind: 'community', message: expect.stringMatching(/never posts to the community parent/) });
  });

  it('channels: owner/admin ok (also by invite link, resolved), subscriber not, unknown gone', async () => {
    const { sender } = await setup({
      extra: (s) => s.newsletters.set('jid:99999@newsletter', { id: '99999@newsletter', name: 'Outro', viewer_metadata: { role: 'SUBSCRIBER' } }),
    });
    expect(await sender.check(dest(CHANNEL))).toEqual({ ok: true, kind: 'newsletter', title: 'Canal', message: 'ok, can post' });
    expect(await sender.check(dest('https://whatsapp.com/channel/0029VaABCDEFGHIJ'))).toEqual({
      ok: true,
      kind: 'newsletter',
      title: 'Canal',
      resolvedChatId: CHANNEL,
      message: 'ok, can post',
    });
    expect(await sender.check(dest('99999@newsletter'))).toMatchObject({
      ok: false,
      message: 'the account is a subscriber of this channel: make it an admin of the channel',
    });
    expect(await sender.check(dest('11111@newsletter'))).toMatchObject({ ok: false, gone: true });
  });

  it('not connected, or a bad id: not ok, never throws', async () => {
    const { sender } = await setup({ open: false });
    expect(await sender.check(dest(GROUP))).toMatchObject({ ok: false, message: expect.stringMatching(/not connected/) });
    const open = await setup();
    expect(await open.sender.check(dest('hello'))).toMatchObject({ ok: false });
    open.sock.groupMetadata = async () => {
      throw boom(408, 'Timed Out');
    };
    expect(await open.sender.check(dest('120363444@g.us'))).toMatchObject({ ok: false, message: expect.stringMatching(/could not check/) });
  });
});

describe('parseWhatsAppChats', () => {
  it('accepts groups, channels, channel links and private JIDs; drops blanks and duplicates', () => {
    expect(
      parseWhatsAppChats([GROUP, ' ', CHANNEL, 'https://www.whatsapp.com/channel/0029VaABCDEFGHIJ?utm=x', '5511999998888@s.whatsapp.net', GROUP]),
    ).toEqual([
      { input: GROUP, kind: 'group', chatId: GROUP },
      { input: CHANNEL, kind: 'newsletter', chatId: CHANNEL },
      {
        input: 'https://www.whatsapp.com/channel/0029VaABCDEFGHIJ?utm=x',
        kind: 'channel_invite',
        chatId: 'https://whatsapp.com/channel/0029VaABCDEFGHIJ',
        inviteCode: '0029VaABCDEFGHIJ',
      },
      { input: '5511999998888@s.whatsapp.net', kind: 'private', chatId: '5511999998888@s.whatsapp.net' },
    ]);
  });

  it('names every bad entry with what to write instead', () => {
    let err: unknown;
    try {
      parseWhatsAppChats(['https://chat.whatsapp.com/AbCdEf', '+55 11 99999-8888', 'abc@g.us', '@canal', GROUP]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WhatsAppChatsError);
    const problems = (err as WhatsAppChatsError).problems;
    expect(problems.map((p) => p.input)).toEqual(['https://chat.whatsapp.com/AbCdEf', '+55 11 99999-8888', 'abc@g.us', '@canal']);
    expect(problems[0]!.problem).toMatch(/group invite links are not accepted/);
    expect(problems[1]!.problem).toMatch(/5511999998888@s\.whatsapp\.net/);
    expect(problems[2]!.problem).toMatch(/must be digits/);
    expect(problems[3]!.problem).toMatch(/…@g\.us/);
    expect((err as Error).message).toMatch(/^WHATSAPP_CHATS has 4 bad entries/);
  });
});
