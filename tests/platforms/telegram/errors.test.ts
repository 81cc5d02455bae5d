import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telegraf, TelegramError } from 'telegraf';
import { describe, expect, test } from 'vitest';
import { PlatformSendError } from '../../../src/delivery/types.js';
import { TelegramTimeoutError, classifyTelegramError, scrubToken, telegramErrorCode } from '../../../src/platforms/telegram/errors.js';
import { TG_ERRORS, startFakeTelegram } from '../../fakes/telegram-api.js';
import { TOKEN } from './helpers.js';

const tgError = (e: { error_code: number; description: string; parameters?: object }) => new TelegramError(e, { method: 'sendMessage', payload: {} });

describe('classifyTelegramError', () => {
  test.each([
    [TG_ERRORS.tooMany(7), 'rate_limited', 'too_many_requests'],
    [TG_ERRORS.serverError, 'transient', 'server_error'],
    [TG_ERRORS.badGateway, 'transient', 'server_error'],
    [TG_ERRORS.migrate(-1009), 'migrated', 'migrated'],
    [TG_ERRORS.blocked, 'gone', 'forbidden'],
    [TG_ERRORS.kicked, 'gone', 'forbidden'],
    [TG_ERRORS.deactivated, 'gone', 'forbidden'],
    [TG_ERRORS.notMember, 'gone', 'forbidden'],
    [TG_ERRORS.chatNotFound, 'gone', 'chat_not_found'],
    [TG_ERRORS.badMarkup, 'permanent', 'bad_markup'],
    [TG_ERRORS.badPhotoUrl, 'permanent', 'bad_media'],
    [TG_ERRORS.photoUnreachable, 'permanent', 'bad_media'],
    [TG_ERRORS.photoWrongType, 'permanent', 'bad_media'],
    [TG_ERRORS.notModified, 'permanent', 'not_modified'],
    [TG_ERRORS.needAdmin, 'permanent', 'no_rights'],
    [{ error_code: 400, description: 'Bad Request: message is too long' }, 'permanent', 'too_long'],
    [{ error_code: 400, description: 'Bad Request: message thread not found' }, 'permanent', 'bad_topic'],
    [{ error_code: 400, description: 'Bad Request: message to edit not found' }, 'permanent', 'message_gone'],
    [{ error_code: 401, description: 'Unauthorized' }, 'permanent', 'unauthorized'],
    [{ error_code: 400, description: 'Bad Request: something new' }, 'permanent', 'bad_request'],
  ] as const)('%o → %s (%s)', (answer, kind, code) => {
    const e = classifyTelegramError(tgError(answer), { method: 'sendMessage', chatId: '@canal' });
    expect(e).toBeInstanceOf(PlatformSendError);
    expect(e.kind).toBe(kind);
    expect(telegramErrorCode(e)).toBe(code);
    expect(e.message).toContain('sendMessage to @canal');
  });

  test('429 carries retry_after in milliseconds; migrate carries the new chat id', () => {
    expect(classifyTelegramError(tgError(TG_ERRORS.tooMany(7))).details.retryAfterMs).toBe(7000);
    expect(classifyTelegramError(tgError({ error_code: 429, description: 'Too Many Requests' })).details.retryAfterMs).toBe(1000);
    expect(classifyTelegramError(tgError(TG_ERRORS.migrate(-1009))).details.migrateTo).toBe('-1009');
  });

  test('network errors, aborts and our own deadline are transient', () => {
    const reset = Object.assign(new Error('request to http://x/ failed, reason: socket hang up'), { name: 'FetchError', code: 'ECONNRESET' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const abort = Object.assign(new Error('The user aborted a request.'), { name: 'AbortError', type: 'aborted' });
    const undici = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) });
    for (const err of [reset, refused, abort, undici, new TelegramTimeoutError('sendMessage', 50)]) {
      expect(classifyTelegramError(err).kind).toBe('transient');
    }
    expect(telegramErrorCode(classifyTelegramError(abort))).toBe('timeout');
  });

  test('unknown errors are permanent; a PlatformSendError passes through', () => {
    expect(classifyTelegramError(new RangeError('bug')).kind).toBe('permanent');
    expect(classifyTelegramError('weird').kind).toBe('permanent');
    const own = new PlatformSendError('restricted', 'x');
    expect(classifyTelegramError(own)).toBe(own);
  });

  test('the token never survives into a message, by value or by shape', () => {
    const leaky = Object.assign(new Error(`invalid json response body at http://127.0.0.1:1/bot${TOKEN}/sendMessage reason: Unexpected token <`), {
      name: 'FetchError',
      type: 'invalid-json',
    });
    const withValue = classifyTelegramError(leaky, { token: TOKEN });
    const byShape = classifyTelegramError(leaky);
    for (const e of [withValue, byShape]) {
      expect(e.message).not.toContain(TOKEN);
      expect(e.message).not.toContain(TOKEN.split(':')[1]!);
      expect(e.kind).toBe('transient');
    }
    expect(scrubToken(`x ${TOKEN} y`, TOKEN)).toBe('x [redacted] y');
    const odd = 'not-shaped-like-a-token-secret';
    expect(scrubToken(`/bot${odd}/getMe`, odd)).toBe('/bot[redacted]/getMe');
  });
});

describe('token scrubbing with errors real telegraf produces', () => {
  test('connection refused, a proxy answering HTML and a reset: no token in any message', async () => {
    // A port that was just closed: connection refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));

    const fake = await startFakeTelegram();
    try {
      const errors: unknown[] = [];
      const dead = new Telegraf(TOKEN, { telegram: { apiRoot: `http://127.0.0.1:${deadPort}` } });
      errors.push(await dead.telegram.getMe().catch((e: unknown) => e));

      const live = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
      fake.failNext('getMe', 1, { raw: { status: 404, body: '<html>nginx</html>' } });
      errors.push(await live.telegram.getMe().catch((e: unknown) => e));
      fake.failNext('getMe', 1, TG_ERRORS.reset);
      errors.push(await live.telegram.getMe().catch((e: unknown) => e));

      // telegraf leaves the token in the invalid-json message: the reason scrubbing exists.
      expect((errors[1] as Error).message).toContain(TOKEN);
      for (const err of errors) {
        const e = classifyTelegramError(err, { token: TOKEN, method: 'getMe' });
        expect(e.kind).toBe('transient');
        expect(e.message).not.toContain(TOKEN.split(':')[1]!);
        expect(JSON.stringify(e)).not.toContain(TOKEN.split(':')[1]!);
      }
    } finally {
      await fake.close();
    }
  });
});
