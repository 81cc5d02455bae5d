import { describe, expect, it } from 'vitest';
import { classifyTelegramError, isInsufficientStars } from '../../../src/platforms/telegram/errors.js';
import { createPaidBroadcast, isPrivateTelegramChat } from '../../../src/platforms/telegram/paid.js';
import type { Destination } from '../../../src/delivery/types.js';

const tg = (chatId: string, threadId: string | null = null): Destination => ({ id: `telegram:${chatId}`, platform: 'telegram', chatId, threadId, options: {} });

describe('paid broadcasts: which chats, and the Stars refusal', () => {
  it('applies to private chats only: never channels, groups, @usernames, topics or WhatsApp', () => {
    const paid = createPaidBroadcast('subscribers');
    expect(paid.applies(tg('123456789'))).toBe(true);
    for (const d of [tg('-1001234567890'), tg('-4567'), tg('@canal'), tg('-1001234567890', '7'), tg('123', '7'), tg('0')]) expect(paid.applies(d)).toBe(false);
    expect(isPrivateTelegramChat({ ...tg('5511999999999@s.whatsapp.net'), platform: 'whatsapp' })).toBe(false);
  });

  it('off means off, and turning it off is reported once', () => {
    expect(createPaidBroadcast('off').applies(tg('123'))).toBe(false);
    const paid = createPaidBroadcast('subscribers');
    expect(paid.turnOff('BALANCE_TOO_LOW')).toBe(true);
    expect(paid.turnOff('BALANCE_TOO_LOW')).toBe(false);
    expect(paid.applies(tg('123'))).toBe(false);
    expect(paid.offReason).toBe('BALANCE_TOO_LOW');
  });

  it('recognises the insufficient-Stars answers, whatever the case, and nothing else', () => {
    for (const d of ['Bad Request: BALANCE_TOO_LOW', 'Bad Request: balance_too_low', 'Bad Request: not enough Stars to send a paid broadcast', 'Bad Request: insufficient stars balance', 'Bad Request: the Stars balance is too low'])
      expect(isInsufficientStars(d)).toBe(true);
    for (const d of ['Bad Request: chat not found', 'Bad Request: message is too long', 'Bad Request: STARGIFT_INVALID', 'Too Many Requests: retry after 5'])
      expect(isInsufficientStars(d)).toBe(false);
    // Bounded: a huge description is read only at its start.
    expect(isInsufficientStars(`${'x'.repeat(1_000_000)} BALANCE_TOO_LOW`)).toBe(false);
  });

  it('classifies the 400 as no_stars (so the sender can fall back), a 403 mentioning stars stays gone', () => {
    const e = classifyTelegramError({ response: { error_code: 400, description: 'Bad Request: BALANCE_TOO_LOW' } }, { method: 'sendMessage', chatId: '123' });
    expect(e.details.code).toBe('no_stars');
    const g = classifyTelegramError({ response: { error_code: 403, description: 'Forbidden: bot was blocked by the user' } }, { method: 'sendMessage' });
    expect(g.kind).toBe('gone');
  });
});
