import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telegraf, TelegramError } from 'telegraf';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { telegramTextLength, validateTelegramHtml } from '../../../src/render/telegram-html.js';
import { HtmlParseError, TG_ERRORS, parseTelegramHtml, startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-api.js';
import { TOKEN } from './helpers.js';

/** The fake is itself a test tool: these pin down that it refuses what Telegram refuses. */

async function api(fake: FakeTelegram, method: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${fake.apiRoot}/bot${TOKEN}/${method}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { ok: boolean; result?: unknown; description?: string; parameters?: { retry_after?: number } } };
}

describe('parseTelegramHtml', () => {
  test('accepts the allowed tags and reports entities in UTF-16 units', () => {
    const r = parseTelegramHtml('😀 <b>Mundo</b> <a href="https://x.example/a?b=1&amp;c=2">link</a> &lt;3 &#233;');
    expect(r.text).toBe('😀 Mundo link <3 é');
    expect(r.entities).toEqual([
      { type: 'bold', offset: 3, length: 5 },
      { type: 'text_link', offset: 9, length: 4, url: 'https://x.example/a?b=1&c=2' },
    ]);
    expect(parseTelegramHtml('<pre><code class="language-ts">x &lt; y</code></pre>').entities).toEqual([
      { type: 'pre', offset: 0, length: 5, language: 'ts' },
    ]);
    expect(parseTelegramHtml('<blockquote expandable>q</blockquote><span class="tg-spoiler">s</span>').entities.map((e) => e.type)).toEqual([
      'expandable_blockquote',
      'spoiler',
    ]);
  });

  test.each([
    ['<script>alert(1)</script>', 'Unsupported start tag "script" at byte offset 0'],
    ['<b>bold', 'Can\'t find end tag corresponding to start tag "b"'],
    ['<b><i>x</b></i>', 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['a < b', 'Unsupported start tag "" at byte offset 2'],
    ['Tom & Jerry', 'Character "&" at byte offset 4'],
    ['ção &nbsp;', 'Character "&" at byte offset 6'],
    ['<a>no href</a>', 'must have a non-empty href'],
    ['<span>x</span>', 'must have class "tg-spoiler"'],
    ['<code><b>x</b></code>', "can't be nested"],
    ['<blockquote><blockquote>x</blockquote></blockquote>', "can't be nested"],
    ['<b', 'Unclosed start tag at byte offset 0'],
    ['<a href="x>y</a>', 'Unclosed start tag'],
    ['&#0;', 'Invalid numeric HTML entity'],
  ])('refuses %j', (html, reason) => {
    expect(() => parseTelegramHtml(html)).toThrow(HtmlParseError);
    expect(() => parseTelegramHtml(html)).toThrow(reason);
  });
});

describe('the fake and the renderer read Telegram HTML alike', () => {
  // Two implementations on purpose (the fake must be able to catch renderer bugs), so they are
  // cross-checked: whatever the renderer calls valid, the fake accepts, with the same length.
  const texts = ['texto ', 'ção ', '😀', '\n', '&amp;', '&lt;', '&gt;', '&quot;', '&#233;', '&#x1F600;', '"', ' '];
  const wrappers: [string, string][] = [
    ['<b>', '</b>'], ['<i>', '</i>'], ['<u>', '</u>'], ['<s>', '</s>'], ['<tg-spoiler>', '</tg-spoiler>'], ['<span class="tg-spoiler">', '</span>'],
    ['<a href="https://x.example/?a=1&amp;b=2">', '</a>'], ['<code>', '</code>'], ['<pre>', '</pre>'], ['<blockquote>', '</blockquote>'],
    ['<pre><code class="language-ts">', '</code></pre>'],
  ];
  const faults = ['&', '<', '>', '<script>', '&nbsp;', '</b>', '<b>'];

  test('on 3,000 generated strings', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const node = (depth: number): string => {
      const r = next();
      if (r < 0.05) return pick(faults);
      if (depth > 0 && r < 0.45) {
        const [open, close] = pick(wrappers);
        return open + node(depth - 1) + node(depth - 1) + close;
      }
      return pick(texts);
    };
    let valid = 0;
    for (let n = 0; n < 3000; n++) {
      const html = node(3) + node(2);
      if (!validateTelegramHtml(html).ok) continue;
      valid += 1;
      let parsed;
      try {
        parsed = parseTelegramHtml(html);
      } catch (err) {
        throw new Error(`renderer accepts but the fake refuses ${JSON.stringify(html)}: ${(err as Error).message}`);
      }
      expect(parsed.text.length, html).toBe(telegramTextLength(html));
    }
    expect(valid).toBeGreaterThan(500);
  });
});

describe('fake Bot API server', () => {
  let fake: FakeTelegram;
  let bot: Telegraf;
  beforeEach(async () => {
    // Limits are lifted here except in the rate-limit tests, so tests never need to wait them out.
    fake = await startFakeTelegram({ limits: false });
    bot = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
    fake.addChat({ id: -1001, type: 'channel', username: 'canal', title: 'Canal' });
    fake.addChat({ id: 42, type: 'private', firstName: 'Ana' });
  });
  afterEach(async () => {
    await fake.close();
  });

  test('sends through real telegraf, assigns message ids per chat and logs what was sent', async () => {
    const a = await bot.telegram.sendMessage('@canal', '<b>Um</b>', { parse_mode: 'HTML', disable_notification: true });
    const b = await bot.telegram.sendMessage(42, 'dois');
    expect(a.message_id).toBe(1);
    expect(b.message_id).toBe(1);
    expect(fake.sent).toMatchObject([
      { method: 'sendMessage', chat_id: -1001, chat_ref: '@canal', text: '<b>Um</b>', plain: 'Um', parse_mode: 'HTML', disable_notification: true },
      { method: 'sendMessage', chat_id: 42, text: 'dois', plain: 'dois' },
    ]);
    expect(fake.sentTo('@canal')).toHaveLength(1);
  });

  test('refuses bad HTML, overlong text and captions, empty text, unknown chats', async () => {
    const fail = (p: Promise<unknown>) => p.then(() => null, (e: TelegramError) => `${e.code} ${e.description}`);
    expect(await fail(bot.telegram.sendMessage(-1001, '<script>x</script>', { parse_mode: 'HTML' }))).toBe(
      '400 Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 0',
    );
    // 4096 UTF-16 units after parsing pass; one more does not. An emoji counts as two.
    expect(await fail(bot.telegram.sendMessage(-1001, `<b>${'a'.repeat(4096)}</b>`, { parse_mode: 'HTML' }))).toBeNull();
    expect(await fail(bot.telegram.sendMessage(-1001, `${'a'.repeat(4095)}😀`))).toBe('400 Bad Request: message is too long');
    expect(await fail(bot.telegram.sendPhoto(-1001, 'https://img.example/a.jpg', { caption: 'c'.repeat(1025) }))).toBe(
      '400 Bad Request: message caption is too long',
    );
    expect(await fail(bot.telegram.sendMessage(-1001, '<b> </b>', { parse_mode: 'HTML' }))).toBe('400 Bad Request: message text is empty');
    expect(await fail(bot.telegram.sendMessage('@nobody', 'x'))).toBe('400 Bad Request: chat not found');
    expect(await fail(bot.telegram.sendMessage(-999, 'x'))).toBe('400 Bad Request: chat not found');
    expect(await fail(bot.telegram.sendPhoto(42, 'not a url'))).toBe('400 Bad Request: wrong file identifier/HTTP URL specified');
    expect(await fail(bot.telegram.sendMessage(42, 'x', { reply_markup: { inline_keyboard: [[{ text: 'b', callback_data: 'x'.repeat(65) }]] } }))).toBe(
      '400 Bad Request: BUTTON_DATA_INVALID',
    );
    expect(fake.sent).toHaveLength(1);
  });

  test('answers as Telegram does when the bot may not post', async () => {
    fake.addChat({ id: -1002, type: 'channel', botIsAdmin: false });
    fake.addChat({ id: -1003, type: 'channel', canPost: false });
    fake.addChat({ id: -1004, type: 'supergroup', botStatus: 'kicked' });
    fake.addChat({ id: -5, type: 'group', migratedTo: -1005 });
    fake.addChat({ id: -1006, type: 'supergroup', membersCanSend: false });
    fake.addChat({ id: 43, type: 'private', blocked: true });
    const fail = (p: Promise<unknown>) => p.then(() => null, (e: TelegramError) => [e.code, e.description, e.parameters]);
    expect(await fail(bot.telegram.sendMessage(-1002, 'x'))).toEqual([403, 'Forbidden: bot is not a member of the channel chat', undefined]);
    expect(await fail(bot.telegram.sendMessage(-1003, 'x'))).toEqual([400, 'Bad Request: need administrator rights in the channel chat', undefined]);
    expect(await fail(bot.telegram.sendMessage(-1004, 'x'))).toEqual([403, 'Forbidden: bot was kicked from the supergroup chat', undefined]);
    expect(await fail(bot.telegram.sendMessage(-5, 'x'))).toEqual([
      400,
      'Bad Request: group chat was upgraded to a supergroup chat',
      { migrate_to_chat_id: -1005 },
    ]);
    expect(await fail(bot.telegram.sendMessage(-1006, 'x'))).toEqual([400, 'Bad Request: not enough rights to send text messages to the chat', undefined]);
    expect(await fail(bot.telegram.sendMessage(43, 'x'))).toEqual([403, 'Forbidden: bot was blocked by the user', undefined]);
  });

  test('forum topics: message_thread_id must name a topic of a forum', async () => {
    fake.addChat({ id: -1007, type: 'supergroup', isForum: true, topics: [7] });
    await bot.telegram.sendMessage(-1007, 'x', { message_thread_id: 7 });
    await expect(bot.telegram.sendMessage(-1001, 'x', { message_thread_id: 7 })).rejects.toThrow('message thread not found');
    await expect(bot.telegram.sendMessage(-1007, 'x', { message_thread_id: 8 })).rejects.toThrow('message thread not found');
    expect(fake.sent[0]).toMatchObject({ chat_id: -1007, message_thread_id: 7 });
  });

  test('reads urlencoded and multipart bodies as telegraf and others send them', async () => {
    const form = await api(fake, 'sendMessage', 'chat_id=42&text=ol%C3%A1&disable_notification=true&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(200);
    expect(fake.sent[0]).toMatchObject({ chat_id: 42, text: 'olá', disable_notification: true, reply_markup: { inline_keyboard: [] } });
    // telegraf uploads a Buffer as multipart/form-data
    await bot.telegram.sendPhoto(-1001, { source: Buffer.from('jpegbytes'), filename: 'a.jpg' }, { caption: '<i>legenda</i>', parse_mode: 'HTML' });
    expect(fake.sent[1]).toMatchObject({ method: 'sendPhoto', photo: { filename: 'a.jpg', size: 9 }, caption: '<i>legenda</i>', plain: 'legenda' });
  });

  test('edits: text and caption, not modified, wrong kind, unknown message', async () => {
    const m = await bot.telegram.sendMessage(-1001, '<b>a</b>', { parse_mode: 'HTML' });
    await bot.telegram.editMessageText(-1001, m.message_id, undefined, '<b>b</b>', { parse_mode: 'HTML' });
    expect(fake.message(-1001, m.message_id)?.plain).toBe('b');
    await expect(bot.telegram.editMessageText(-1001, m.message_id, undefined, '<b>b</b>', { parse_mode: 'HTML' })).rejects.toThrow('message is not modified');
    await expect(bot.telegram.editMessageCaption(-1001, m.message_id, undefined, 'c')).rejects.toThrow('there is no caption in the message to edit');
    await expect(bot.telegram.editMessageText(-1001, 99, undefined, 'x')).rejects.toThrow('message to edit not found');
    expect(fake.edits).toHaveLength(1);
  });

  describe('rate limits', () => {
    test('one message per second per chat, then 429 with retry_after', async () => {
      fake.setLimits({});
      await bot.telegram.sendMessage(42, 'a');
      const err = await bot.telegram.sendMessage(42, 'b').catch((e: TelegramError) => e);
      expect(err).toBeInstanceOf(TelegramError);
      expect((err as TelegramError).code).toBe(429);
      expect((err as TelegramError).parameters?.retry_after).toBe(1);
      expect((err as TelegramError).description).toBe('Too Many Requests: retry after 1');
      expect(fake.stats.tooMany).toBe(1);
      expect(fake.sent).toHaveLength(1);
    });

    test('30 per second overall; the limits can be lifted', async () => {
      for (let i = 0; i < 30; i++) fake.addChat({ id: 1000 + i, type: 'private' });
      fake.addChat({ id: 2000, type: 'private' });
      fake.setLimits({});
      await Promise.all(Array.from({ length: 30 }, (_, i) => bot.telegram.sendMessage(1000 + i, 'x')));
      await expect(bot.telegram.sendMessage(2000, 'x')).rejects.toMatchObject({ code: 429 });
      fake.setLimits(false);
      await bot.telegram.sendMessage(2000, 'x');
      await bot.telegram.sendMessage(2000, 'y');
      expect(fake.stats.tooMany).toBe(1);
      expect(fake.sent).toHaveLength(32);
    });

    test('20 per minute per group or channel, with a retry_after up to the window', async () => {
      let t = 1_000_000;
      await fake.close();
      fake = await startFakeTelegram({ now: () => t });
      bot = new Telegraf(TOKEN, { telegram: { apiRoot: fake.apiRoot } });
      fake.addChat({ id: -1001, type: 'channel' });
      for (let i = 0; i < 20; i++) {
        await bot.telegram.sendMessage(-1001, `n${i}`);
        t += 1000;
      }
      const err = (await bot.telegram.sendMessage(-1001, 'x').catch((e: TelegramError) => e)) as TelegramError;
      expect(err.code).toBe(429);
      expect(err.parameters?.retry_after).toBe(40); // the first of the 20 leaves the window 40 s from now
      t += 40_000;
      await bot.telegram.sendMessage(-1001, 'x');
    });
  });

  describe('scripting and faults', () => {
    test('failNext answers the next n calls of a method, then normal service resumes', async () => {
      fake.failNext('sendMessage', 2, TG_ERRORS.serverError);
      await expect(bot.telegram.sendMessage(42, 'a')).rejects.toMatchObject({ code: 500 });
      await expect(bot.telegram.sendMessage(42, 'a')).rejects.toMatchObject({ code: 500 });
      await bot.telegram.sendMessage(42, 'a');
      expect(fake.stats.scripted).toBe(2);
      expect(fake.sent).toHaveLength(1);
    });

    test('script() sees every call and can answer any of them', async () => {
      const off = fake.script(({ method, params }) => (method === 'sendMessage' && params.chat_id === 42 ? TG_ERRORS.blocked : undefined));
      await expect(bot.telegram.sendMessage(42, 'a')).rejects.toMatchObject({ code: 403 });
      await bot.telegram.sendMessage(-1001, 'a');
      off();
      await bot.telegram.sendMessage(42, 'a');
    });

    test('hang never answers until close; reset drops the connection', async () => {
      fake.failNext('getChat', 1, TG_ERRORS.reset);
      await expect(bot.telegram.getChat(42)).rejects.toThrow(/socket hang up|ECONNRESET/);
      fake.failNext('getMe', 1, TG_ERRORS.hang);
      const ac = new AbortController();
      const pending = bot.telegram.callApi('getMe', {}, { signal: ac.signal as never }).catch((e: Error) => e.name);
      await fake.waitFor(() => fake.calls.some((c) => c.method === 'getMe'), 2000, 'the hanging call');
      ac.abort();
      expect(await pending).toBe('AbortError');
    });

    test('seeded fault injection is reproducible and counted', async () => {
      const run = async (seed: number) => {
        const f = await startFakeTelegram({ limits: false, faults: { rate429: 0.2, rate5xx: 0.2, seed } });
        f.addChat({ id: 42, type: 'private' });
        const b = new Telegraf(TOKEN, { telegram: { apiRoot: f.apiRoot } });
        const outcomes: (number | 'ok')[] = [];
        for (let i = 0; i < 40; i++) outcomes.push(await b.telegram.sendMessage(42, 'x').then(() => 'ok' as const, (e: TelegramError) => e.code));
        const stats = { ...f.stats };
        await f.close();
        return { outcomes, stats };
      };
      const a = await run(7);
      const b = await run(7);
      expect(a.outcomes).toEqual(b.outcomes);
      expect(a.outcomes).toContain(429);
      expect(a.outcomes).toContain(500);
      expect(a.stats.injected429 + a.stats.injected5xx).toBe(a.outcomes.filter((o) => o !== 'ok').length);
      expect(a.stats.tooMany).toBe(0);
    });
  });

  describe('updates', () => {
    test('getUpdates returns queued updates, waits for new ones, and forgets confirmed ones', async () => {
      fake.pushMessage({ chatId: 42, text: '/start' });
      const first = (await bot.telegram.callApi('getUpdates', { offset: 0, timeout: 0 })) as { update_id: number }[];
      expect(first).toHaveLength(1);
      const waiting = bot.telegram.callApi('getUpdates', { offset: first[0]!.update_id + 1, timeout: 5 });
      await fake.waitFor(() => fake.calls.filter((c) => c.method === 'getUpdates').length === 2, 2000, 'the long poll');
      expect(fake.pendingUpdates()).toBe(0); // confirmed by the offset
      fake.pushMessage({ chatId: 42, text: 'oi' });
      const second = (await waiting) as { message: { text: string } }[];
      expect(second.map((u) => u.message.text)).toEqual(['oi']);
    });

    test('a second poller ends the first with 409, and getUpdates is refused while a webhook is set', async () => {
      const first = bot.telegram.callApi('getUpdates', { timeout: 5 }).catch((e: TelegramError) => e.code);
      await fake.waitFor(() => fake.calls.some((c) => c.method === 'getUpdates'), 2000, 'the first poll');
      const second = bot.telegram.callApi('getUpdates', { timeout: 5 });
      expect(await first).toBe(409);
      fake.pushMessage({ chatId: 42, text: 'oi' });
      expect(await second).toHaveLength(1);
      await bot.telegram.setWebhook('https://bot.example/hook');
      await expect(bot.telegram.callApi('getUpdates', {})).rejects.toMatchObject({ code: 409 });
    });

    test('deliverWebhook posts the update with the secret header', async () => {
      const seen: { secret: unknown; body: string }[] = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          seen.push({ secret: req.headers['x-telegram-bot-api-secret-token'], body });
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      await bot.telegram.setWebhook(url, { secret_token: 's3cret' });
      expect((await bot.telegram.getWebhookInfo()).url).toBe(url);
      const r = await fake.deliverWebhook({ message: { message_id: 1, chat: { id: 42, type: 'private' }, text: 'x', date: 0 } });
      expect(r.status).toBe(200);
      expect(seen[0]?.secret).toBe('s3cret');
      expect(JSON.parse(seen[0]!.body)).toMatchObject({ update_id: 1, message: { text: 'x' } });
      await new Promise((r) => server.close(r));
    });
  });

  test('a wrong token is refused when the fake knows the token; unknown methods are 404', async () => {
    await fake.close();
    fake = await startFakeTelegram({ token: TOKEN });
    const wrong = new Telegraf('1:wrong', { telegram: { apiRoot: fake.apiRoot } });
    await expect(wrong.telegram.getMe()).rejects.toMatchObject({ code: 401 });
    expect((await api(fake, 'noSuchMethod', {})).status).toBe(404);
  });

  test('setMyCommands keeps menus per language and refuses invalid command names', async () => {
    await bot.telegram.setMyCommands([{ command: 'latest', description: 'Latest' }]);
    await bot.telegram.setMyCommands([{ command: 'ultimas', description: 'Últimas' }], { language_code: 'pt' });
    expect(fake.commands.get('')).toEqual([{ command: 'latest', description: 'Latest' }]);
    expect(fake.commands.get('pt')).toEqual([{ command: 'ultimas', description: 'Últimas' }]);
    await expect(bot.telegram.setMyCommands([{ command: 'últimas', description: 'x' }])).rejects.toThrow('BOT_COMMAND_INVALID');
  });
});
