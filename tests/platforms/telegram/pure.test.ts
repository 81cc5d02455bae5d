import type { Update } from 'telegraf/types';
import { describe, expect, test } from 'vitest';
import { TelegramChatsError, parseTelegramChats } from '../../../src/platforms/telegram/destinations.js';
import { escapeTelegramHtml, splitPlain, truncateUtf16 } from '../../../src/platforms/telegram/plain.js';
import { RecentUpdateIds, addressing, isForwarded, toIncomingAction, toIncomingMessage } from '../../../src/platforms/telegram/updates.js';
import { parseTelegramHtml } from '../../fakes/telegram-api.js';

describe('parseTelegramChats', () => {
  test('reads channels, supergroups, topics, groups and private chats', () => {
    const d = parseTelegramChats([' @canal ', '-1001234567890', '-1001234567890:42', '-4567', '123456', '@Forum_Group:7', '']);
    expect(d.map((x) => [x.id, x.chatId, x.threadId])).toEqual([
      ['telegram:@canal', '@canal', null],
      ['telegram:-1001234567890', '-1001234567890', null],
      ['telegram:-1001234567890:42', '-1001234567890', '42'],
      ['telegram:-4567', '-4567', null],
      ['telegram:123456', '123456', null],
      ['telegram:@Forum_Group:7', '@Forum_Group', '7'],
    ]);
    expect(d.every((x) => x.platform === 'telegram')).toBe(true);
  });

  test('keeps a repeated entry once (usernames compared without case) and copies default options', () => {
    const d = parseTelegramChats(['@canal', '@CANAL', '-1001', '-1001'], { silent: true });
    expect(d).toHaveLength(2);
    expect(d[0]!.options).toEqual({ silent: true });
    expect(d[0]!.options).not.toBe(d[1]!.options);
  });

  test('names every entry it cannot read', () => {
    const bad = ['foo', '@ab', 'https://t.me/canal', '-100abc', '-1001:topic', '-1001:0', '0', '@canal:', '12 34'];
    let err: unknown;
    try {
      parseTelegramChats(['@ok_canal', ...bad]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TelegramChatsError);
    expect((err as TelegramChatsError).entries).toEqual(bad);
    expect((err as Error).message).toContain('TELEGRAM_CHATS entry "foo" is not @username, a numeric id or id:topic');
  });
});

describe('plain text helpers', () => {
  test('escapeTelegramHtml output always parses and round-trips', () => {
    for (const s of ['<script>&"x"</script>', 'a & b < c > d', '😀 &amp; literal', '']) {
      expect(parseTelegramHtml(escapeTelegramHtml(s)).text).toBe(s);
    }
  });

  test('truncateUtf16 never splits a surrogate pair', () => {
    expect(truncateUtf16('abc', 5)).toBe('abc');
    const cut = truncateUtf16('ab😀cd', 4);
    expect(cut.length).toBeLessThanOrEqual(4);
    expect(cut).toBe('ab…');
  });

  test('splitPlain keeps every piece within the limit, preferring line breaks', () => {
    const text = `${'linha curta\n'.repeat(10)}${'x'.repeat(50)}`;
    const parts = splitPlain(text, 40);
    expect(parts.every((p) => p.length <= 40)).toBe(true);
    expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, '')); // nothing lost but the whitespace at cuts
    expect(parts[0]).toBe('linha curta\nlinha curta\nlinha curta'); // cut at a line break
    expect(splitPlain('', 10)).toEqual(['']);
    expect(splitPlain('😀'.repeat(30), 9).every((p) => p.length <= 9 && !/[\ud800-\udbff]$/.test(p))).toBe(true);
  });
});

describe('addressing in chats', () => {
  test.each([
    ['private', 'oi', true, 'oi'],
    ['private', '/latest@manchete_bot mundo', true, '/latest mundo'],
    ['private', '/latest@other_bot', true, '/latest@other_bot'],
    ['group', '/latest', true, '/latest'],
    ['group', '/latest@Manchete_Bot política', true, '/latest política'],
    ['group', '/latest@other_bot', false, '/latest@other_bot'],
    ['group', 'bom dia', false, 'bom dia'],
    ['group', '/últimas', true, '/últimas'],
    ['group', ' /latest', false, ' /latest'],
  ] as const)('%s: %j → addressed %s', (chatType, text, addressed, normalized) => {
    expect(addressing(text, chatType, 'manchete_bot')).toEqual({ addressed, text: normalized });
  });
});

describe('updates → router shapes', () => {
  const at = new Date('2025-01-01T12:00:00Z');
  const message = (chat: object, text: string, from: object = { id: 9, is_bot: false, first_name: 'Ana', last_name: 'Lima', language_code: 'pt-br' }) =>
    ({ update_id: 1, message: { message_id: 5, date: 0, chat, from, text } }) as unknown as Update;

  test('a private message', () => {
    expect(toIncomingMessage(message({ id: 9, type: 'private', first_name: 'Ana' }, '/start'), 'manchete_bot', at)).toEqual({
      platform: 'telegram',
      chatId: '9',
      chatType: 'private',
      senderId: '9',
      senderName: 'Ana Lima',
      languageCode: 'pt-br',
      text: '/start',
      messageId: '5',
      threadId: null,
      addressedToBot: true,
      canShowButtons: true,
      receivedAt: at,
    });
  });

  test('groups: only commands for this bot; topics carried; bots and channel posts ignored', () => {
    const group = { id: -100, type: 'supergroup', title: 'G' };
    expect(toIncomingMessage(message(group, 'oi'), 'manchete_bot', at)).toBeNull();
    expect(toIncomingMessage(message(group, '/help@other_bot'), 'manchete_bot', at)).toBeNull();
    expect(toIncomingMessage(message(group, '/help@manchete_bot'), 'manchete_bot', at)).toMatchObject({ chatType: 'group', text: '/help' });
    const topic = { update_id: 2, message: { message_id: 6, date: 0, chat: group, from: { id: 9, is_bot: false, first_name: 'A' }, text: '/help', message_thread_id: 3, is_topic_message: true } } as unknown as Update;
    expect(toIncomingMessage(topic, 'manchete_bot', at)?.threadId).toBe('3');
    expect(toIncomingMessage(message(group, '/help', { id: 1, is_bot: true, first_name: 'B' }), 'manchete_bot', at)).toBeNull();
    const post = { update_id: 3, channel_post: { message_id: 1, date: 0, chat: { id: -1001, type: 'channel', title: 'C' }, text: '/help' } } as unknown as Update;
    expect(toIncomingMessage(post, 'manchete_bot', at)).toBeNull();
    const joined = { update_id: 4, message: { message_id: 7, date: 0, chat: group, from: { id: 9, is_bot: false, first_name: 'A' }, new_chat_members: [] } } as unknown as Update;
    expect(toIncomingMessage(joined, 'manchete_bot', at)).toBeNull();
  });

  test('a forwarded message is never a command, whichever forward field marks it', () => {
    const chat = { id: 9, type: 'private', first_name: 'Ana' };
    const forwarded = (extra: object) =>
      ({ update_id: 8, message: { message_id: 5, date: 0, chat, from: { id: 9, is_bot: false, first_name: 'Ana' }, text: '/push https://x', ...extra } }) as unknown as Update;
    const marks = [
      { forward_origin: { type: 'user', date: 1, sender_user: { id: 5, is_bot: false, first_name: 'R' } } },
      { forward_origin: { type: 'hidden_user', date: 1, sender_user_name: 'R' } },
      { forward_from: { id: 5, is_bot: false, first_name: 'R' } },
      { forward_from_chat: { id: -100, type: 'channel', title: 'C' } },
      { forward_sender_name: 'R' },
      { forward_date: 1 },
      { is_automatic_forward: true },
    ];
    for (const m of marks) {
      expect(isForwarded((forwarded(m) as unknown as { message: object }).message), JSON.stringify(m)).toBe(true);
      expect(toIncomingMessage(forwarded(m), 'manchete_bot', at), JSON.stringify(m)).toBeNull();
    }
    expect(toIncomingMessage(forwarded({}), 'manchete_bot', at)?.text).toBe('/push https://x');
    expect(toIncomingMessage(forwarded({ is_automatic_forward: false }), 'manchete_bot', at)?.text).toBe('/push https://x');
  });

  test('recent update ids: a repeat is refused, and only the newest `capacity` ids are kept', () => {
    const recent = new RecentUpdateIds(3);
    expect([1, 2, 3].map((id) => recent.add(id))).toEqual([true, true, true]);
    expect(recent.add(2)).toBe(false);
    expect(recent.add(4)).toBe(true);
    expect(recent.size).toBe(3);
    // 1 was the oldest and is forgotten; 2, 3, 4 are still known.
    expect([2, 3, 4].map((id) => recent.add(id))).toEqual([false, false, false]);
    expect(recent.add(1)).toBe(true);
    for (let id = 100; id < 10_100; id++) recent.add(id);
    expect(recent.size).toBe(3);
    expect(() => new RecentUpdateIds(0)).toThrow('positive integer');
  });

  test('a sticker in private arrives with empty text; a caption counts as text', () => {
    const sticker = { update_id: 5, message: { message_id: 8, date: 0, chat: { id: 9, type: 'private' }, from: { id: 9, is_bot: false, first_name: 'A' }, sticker: {} } } as unknown as Update;
    expect(toIncomingMessage(sticker, 'manchete_bot', at)?.text).toBe('');
    const captioned = { update_id: 6, message: { message_id: 9, date: 0, chat: { id: 9, type: 'private' }, from: { id: 9, is_bot: false, first_name: 'A' }, photo: [], caption: '/push https://x' } } as unknown as Update;
    expect(toIncomingMessage(captioned, 'manchete_bot', at)?.text).toBe('/push https://x');
  });

  test('a button press', () => {
    const cq = {
      update_id: 7,
      callback_query: { id: 'q1', from: { id: 9, is_bot: false, first_name: 'A', language_code: 'en' }, chat_instance: 'c', data: 'push:ok:1', message: { message_id: 11, date: 1, chat: { id: 9, type: 'private' } } },
    } as unknown as Update;
    expect(toIncomingAction(cq, at)).toEqual({ platform: 'telegram', chatId: '9', senderId: '9', languageCode: 'en', data: 'push:ok:1', messageId: '11', receivedAt: at });
    const game = { update_id: 8, callback_query: { id: 'q2', from: { id: 9 }, chat_instance: 'c', game_short_name: 'g' } } as unknown as Update;
    expect(toIncomingAction(game, at)).toBeNull();
  });
});
