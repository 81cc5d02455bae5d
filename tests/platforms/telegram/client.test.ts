import { Telegraf } from 'telegraf';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { PlatformSendError } from '../../../src/delivery/types.js';
import { TelegramApiError, createBotApiTransport, createTelegramClient, type TelegramApiClient } from '../../../src/platforms/telegram/client.js';
import { TG_ERRORS, startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-api.js';
import { TOKEN } from './helpers.js';

const SECRET = TOKEN.split(':')[1]!;

async function failure(p: Promise<unknown>): Promise<TelegramApiError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TelegramApiError);
  // The dispatcher sees a PlatformSendError: nothing else needs to know about the client.
  expect(err).toBeInstanceOf(PlatformSendError);
  return err as TelegramApiError;
}

/** Everything an error could carry into a log line: message, stack, own fields, and the same for `cause`. */
function everything(e: Error): string {
  const cause = e.cause as Error | undefined;
  return [e.message, e.stack, JSON.stringify(e), cause?.message, cause?.stack, cause ? JSON.stringify(cause) : '', String(cause)].join('\n');
}

describe('the Telegram client against the fake Bot API (real telegraf over loopback HTTP)', () => {
  let fake: FakeTelegram;
  let client: TelegramApiClient;

  beforeEach(async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: -1001, type: 'channel', username: 'canal', title: 'Canal' });
    const telegraf = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
    client = createTelegramClient({ telegram: telegraf.telegram, token: TOKEN, timeoutMs: 250 });
  });
  afterEach(async () => {
    await fake.close();
  });

  test('a successful call returns Telegram\'s result', async () => {
    const msg = await client.call('sendMessage', { chat_id: '@canal', text: 'olá' });
    expect(msg.message_id).toBe(1);
    expect(fake.sentTo('@canal')[0]?.text).toBe('olá');
  });

  test('a hanging Bot API is cut off at the deadline: TelegramApiError code timeout, transient', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.hang);
    const started = Date.now();
    const e = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
    expect(e.kind).toBe('transient');
    expect(e.code).toBe('timeout');
    expect(e.method).toBe('sendMessage');
    expect(e.status).toBeUndefined();
    expect(e.message).toContain('sendMessage to @canal');
    // Cut off near the 250 ms deadline, far below telegraf's own 500 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a per-call deadline overrides the default, and the caller\'s signal aborts the call', async () => {
    fake.failNext('getUpdates', 2, TG_ERRORS.hang);
    const slow = client.call('getUpdates', { timeout: 0 }, { timeoutMs: 60_000 });
    const ac = new AbortController();
    const aborted = client.call('getUpdates', { timeout: 0 }, { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const e = await failure(aborted);
    expect(e.kind).toBe('transient');
    expect(e.code).toBe('timeout');
    await fake.close(); // drops the other hanging request
    const other = await failure(slow);
    expect(other.kind).toBe('transient');
  });

  test('429 carries retry_after as data and as the dispatcher\'s wait', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.tooMany(7));
    const e = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
    expect(e).toMatchObject({ kind: 'rate_limited', code: 'too_many_requests', status: 429, errorCode: 429, retryAfter: 7 });
    expect(e.details.retryAfterMs).toBe(7000);
    expect(e.description).toBe('Too Many Requests: retry after 7');
  });

  test('400 with migrate_to_chat_id → migrated, the new id as data', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.migrate(-1009876));
    const e = await failure(client.call('sendMessage', { chat_id: -1001, text: 'x' }));
    expect(e).toMatchObject({ kind: 'migrated', code: 'migrated', status: 400, migrateToChatId: -1009876 });
    expect(e.details.migrateTo).toBe('-1009876');
    expect(e.message).toContain('sendMessage to -1001');
  });

  test('403 → gone; chat not found → gone with its own code', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.kickedFromChannel);
    const kicked = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
    expect(kicked).toMatchObject({ kind: 'gone', code: 'forbidden', status: 403 });
    const missing = await failure(client.call('sendMessage', { chat_id: '@nobody_here', text: 'x' }));
    expect(missing).toMatchObject({ kind: 'gone', code: 'chat_not_found', status: 400 });
  });

  test('5xx → transient server_error, with the status', async () => {
    fake.failNext('sendMessage', 1, TG_ERRORS.badGateway);
    const e = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
    expect(e).toMatchObject({ kind: 'transient', code: 'server_error', status: 502 });
  });

  test('the token is in no message, description, stack or cause, whatever failed', async () => {
    const errors: TelegramApiError[] = [];
    fake.failNext('getMe', 1, { raw: { status: 404, body: '<html>nginx</html>' } }); // telegraf puts the URL (and token) in this one
    errors.push(await failure(client.call('getMe', {})));
    fake.failNext('getMe', 1, TG_ERRORS.reset);
    errors.push(await failure(client.call('getMe', {})));
    fake.failNext('getMe', 1, { error_code: 400, description: `Bad Request: echo /bot${TOKEN}/getMe` });
    errors.push(await failure(client.call('getMe', {})));
    fake.failNext('getMe', 1, TG_ERRORS.hang);
    errors.push(await failure(client.call('getMe', {})));
    await fake.refuseConnections();
    errors.push(await failure(client.call('getMe', {})));

    expect(errors.map((e) => e.kind)).toEqual(['transient', 'transient', 'permanent', 'transient', 'transient']);
    // The invalid-json and reset failures keep a cause (name and system code survive, the token does not).
    expect(errors[0]!.cause).toBeInstanceOf(Error);
    expect(errors[1]!.cause).toBeInstanceOf(Error);
    for (const e of errors) {
      expect(everything(e)).not.toContain(SECRET);
      expect(e.description).not.toContain(SECRET);
    }
  });

  test('parameters newer than telegraf\'s types, and a method it does not know, go through the same path', async () => {
    await client.call('sendMessage', { chat_id: '@canal', text: 'pago', allow_paid_broadcast: true, link_preview_options: { is_disabled: true } });
    const sent = fake.calls.find((c) => c.method === 'sendMessage')!;
    expect(sent.params).toMatchObject({ allow_paid_broadcast: true, link_preview_options: { is_disabled: true } });

    const off = fake.script((call) =>
      call.method === 'getStarTransactions' ? { ok: true, result: { transactions: [{ id: 't1', amount: 5, date: 1 }] } } : undefined,
    );
    const page = await client.callNewer('getStarTransactions', { offset: 10, limit: 2 });
    expect(page.transactions[0]?.id).toBe('t1');
    const asked = fake.calls.find((c) => c.method === 'getStarTransactions')!;
    expect(Number(asked.params.offset)).toBe(10);
    expect(Number(asked.params.limit)).toBe(2);
    off();

    // The newer method fails like any other: classified, with its name.
    fake.failNext('getStarTransactions', 1, TG_ERRORS.serverError);
    const e = await failure(client.callNewer('getStarTransactions', {}));
    expect(e).toMatchObject({ kind: 'transient', method: 'getStarTransactions', status: 500 });
  });

  test('transformers added with use see classified errors and every call', async () => {
    const seen: string[] = [];
    client.use(async (next, method, payload, opts) => {
      try {
        return await next(method, payload, opts);
      } catch (err) {
        seen.push(`${method}:${err instanceof TelegramApiError ? err.code : 'raw'}`);
        throw err;
      }
    });
    fake.failNext('sendMessage', 1, TG_ERRORS.blocked);
    await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
    expect(seen).toEqual(['sendMessage:forbidden']);
  });
});

describe('the keep-alive Bot API transport enforces the deadline itself', () => {
  let fake: FakeTelegram;
  afterEach(async () => {
    await fake.close();
  });

  test('a hanging call is cut off at the deadline and its connection freed: with one connection, the next call goes through', async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: -1001, type: 'channel', username: 'canal', title: 'Canal' });
    const transport = createBotApiTransport({ apiRoot: fake.apiRoot, token: TOKEN, connections: 1 });
    expect(transport.enforcesDeadline).toBe(true);
    const client = createTelegramClient({ transport, token: TOKEN, timeoutMs: 300 });
    try {
      fake.failNext('sendMessage', 1, TG_ERRORS.hang);
      const started = Date.now();
      const e = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
      expect(e).toMatchObject({ kind: 'transient', code: 'timeout', method: 'sendMessage' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(5_000);
      // The only connection was given back by undici's own limit: a later call is answered.
      const msg = await client.call('sendMessage', { chat_id: '@canal', text: 'depois' }, { timeoutMs: 5_000 });
      expect(msg.message_id).toBeGreaterThan(0);
      expect(fake.sentTo('@canal').map((m) => m.text)).toContain('depois');
      // The caller's own signal still aborts a call at once.
      fake.failNext('getUpdates', 1, TG_ERRORS.hang);
      const ac = new AbortController();
      const t0 = Date.now();
      const aborted = client.call('getUpdates', { timeout: 0 }, { timeoutMs: 60_000, signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      await failure(aborted);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await transport.close();
    }
  });

  test('answers that are not Telegram\'s: a proxy\'s 502 page is server_error, a 200 page is transient, an endless answer is cut at the cap', async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: -1001, type: 'channel', username: 'canal', title: 'Canal' });
    const transport = createBotApiTransport({ apiRoot: fake.apiRoot, token: TOKEN, connections: 1, maxAnswerBytes: 64 * 1024 });
    const client = createTelegramClient({ transport, token: TOKEN, timeoutMs: 5_000 });
    try {
      fake.failNext('sendMessage', 1, { raw: { status: 502, body: '<html><body>Bad Gateway</body></html>' } });
      expect(await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }))).toMatchObject({ kind: 'transient', code: 'server_error', status: 502 });
      fake.failNext('sendMessage', 1, { raw: { status: 200, body: '<html>captive portal</html>' } });
      const page = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
      expect(page.kind).toBe('transient');
      expect(page.message).toMatch(/not JSON/);
      fake.failNext('sendMessage', 1, { raw: { status: 200, body: 'x'.repeat(200 * 1024), contentType: 'application/json' } });
      const big = await failure(client.call('sendMessage', { chat_id: '@canal', text: 'x' }));
      expect(big.kind).toBe('transient');
      expect(big.message).toMatch(/over 65536 bytes/);
      expect(everything(big)).not.toContain(SECRET);
      // An answer in many chunks, accents split across them, reads back whole; the one connection still works.
      const text = 'Atenção, pôr do sol às 18h: café e pão. '.repeat(1_200);
      fake.failNext('getChat', 1, { raw: { status: 200, body: JSON.stringify({ ok: true, result: { id: -1001, type: 'channel', title: text } }), contentType: 'application/json' } });
      const chat = await client.call('getChat', { chat_id: '@canal' });
      expect((chat as { title: string }).title).toBe(text);
      const msg = await client.call('sendMessage', { chat_id: '@canal', text: 'depois' });
      expect(msg.message_id).toBeGreaterThan(0);
    } finally {
      await transport.close();
    }
  });

  test('a signal already aborted never reaches the server; a null field is left out of the body', async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: -1001, type: 'channel', username: 'canal', title: 'Canal' });
    const transport = createBotApiTransport({ apiRoot: fake.apiRoot, token: TOKEN });
    const client = createTelegramClient({ transport, token: TOKEN, timeoutMs: 5_000 });
    try {
      const ac = new AbortController();
      ac.abort();
      await failure(client.call('sendMessage', { chat_id: '@canal', text: 'nunca' }, { signal: ac.signal }));
      expect(fake.stats.requests).toBe(0);
      const seen: Record<string, unknown>[] = [];
      const stop = fake.script((c) => void seen.push(c.params));
      await client.call('sendMessage', { chat_id: '@canal', text: 'sim', reply_markup: null } as never);
      stop();
      expect(seen[0]).toMatchObject({ chat_id: '@canal', text: 'sim' });
      expect(seen[0]).not.toHaveProperty('reply_markup');
    } finally {
      await transport.close();
    }
  });
});
