import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { IncomingAction, IncomingMessage, Reply } from '../../../src/commands/types.js';
import { createTelegramBot, type TelegramBot } from '../../../src/platforms/telegram/bot.js';
import { TG_ERRORS, startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-api.js';
import { TOKEN, memoryLogger } from './helpers.js';
import { until } from '../../e2e/helpers.js';

type Router = {
  messages: IncomingMessage[];
  actions: IncomingAction[];
  onMessage: (m: IncomingMessage) => Promise<Reply[]>;
  onAction: (a: IncomingAction) => Promise<Reply[]>;
};

/** A stand-in router: records what arrives and answers with `reply(m)`. */
function router(reply: (m: IncomingMessage) => Reply[] | Promise<Reply[]> = (m) => [{ text: `eco: ${m.text}` }]): Router {
  const r: Router = {
    messages: [],
    actions: [],
    onMessage: async (m) => {
      r.messages.push(m);
      return reply(m);
    },
    onAction: async (a) => {
      r.actions.push(a);
      return [{ text: `ok: ${a.data}` }];
    },
  };
  return r;
}

describe('Telegram bot wiring over long polling', () => {
  let fake: FakeTelegram;
  let bot: TelegramBot | null;
  let lines: string[];

  beforeEach(async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: 42, type: 'private', firstName: 'Ana', languageCode: 'pt-br' });
    fake.addChat({ id: -1001, type: 'supergroup', title: 'Redação' });
    fake.addChat({ id: -1002, type: 'channel', title: 'Canal' });
    bot = null;
  });
  afterEach(async () => {
    await bot?.stop();
    await fake.close();
  });

  async function started(r: Router, extra: Partial<Parameters<typeof createTelegramBot>[0]> = {}) {
    const log = memoryLogger();
    lines = log.lines;
    bot = createTelegramBot({ token: TOKEN, apiRoot: fake.apiRoot, logger: log.logger, onMessage: r.onMessage, onAction: r.onAction, pollTimeoutSec: 10, ...extra });
    await bot.start({ mode: 'polling' });
    return bot;
  }

  test('a private message reaches the router and the reply arrives, escaped, without a link preview', async () => {
    const r = router(() => [{ text: 'Olá <Ana> & cia' }]);
    await started(r);
    expect(fake.calls.map((c) => c.method).slice(0, 2)).toEqual(['getMe', 'deleteWebhook']);
    fake.pushMessage({ chatId: 42, text: '/start', from: { id: 42, first_name: 'Ana', language_code: 'pt-br' } });
    await fake.waitFor(() => fake.sent.length === 1, 3000, 'the reply');
    expect(r.messages[0]).toMatchObject({ platform: 'telegram', chatId: '42', chatType: 'private', senderId: '42', languageCode: 'pt-br', text: '/start', addressedToBot: true });
    expect(fake.sent[0]).toMatchObject({ chat_id: 42, text: 'Olá &lt;Ana&gt; &amp; cia', plain: 'Olá <Ana> & cia', parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    expect(bot!.username).toBe('manchete_test_bot');
  });

  test('in groups only commands addressed to this bot are answered; channel posts are ignored', async () => {
    const r = router();
    await started(r);
    const from = { id: 7, first_name: 'Bia' };
    fake.pushMessage({ chatId: -1001, text: 'bom dia', from });
    fake.pushMessage({ chatId: -1001, text: '/latest@other_bot', from });
    fake.pushMessage({ chatId: -1002, text: '/latest' });
    fake.pushMessage({ chatId: -1001, text: '/latest@Manchete_Test_Bot mundo', from });
    fake.pushMessage({ chatId: -1001, text: '/latest', from });
    await fake.waitFor(() => fake.sent.length === 2, 3000, 'two replies');
    expect(r.messages.map((m) => [m.chatType, m.text])).toEqual([
      ['group', '/latest mundo'],
      ['group', '/latest'],
    ]);
    expect(fake.sent.every((s) => s.chat_id === -1001)).toBe(true);
  });

  test('messages of one chat are handled in order even when the first is slow', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const r = router(async (m) => {
      if (m.text === '/start') await gate;
      return [{ text: `feito ${m.text}` }];
    });
    await started(r);
    fake.pushMessage({ chatId: 42, text: '/start' });
    fake.pushMessage({ chatId: 42, text: '/assinar mundo' });
    try {
      await fake.waitFor(() => r.messages.length === 1, 3000, 'the first message');
      expect(fake.sent).toHaveLength(0);
    } finally {
      release();
    }
    await fake.waitFor(() => fake.sent.length === 2, 3000, 'both replies');
    expect(fake.sent.map((s) => s.plain)).toEqual(['feito /start', 'feito /assinar mundo']);
  });

  test('buttons become an inline keyboard; a press is acknowledged, routed, the keyboard removed and the reply sent', async () => {
    const r = router(() => [{ text: 'Enviar para 3 destinos?', buttons: [{ label: 'Enviar', data: 'push:ok:1' }, { label: 'Cancelar', data: 'push:no:1' }] }]);
    await started(r);
    fake.pushMessage({ chatId: 42, text: '/push https://news.example/a' });
    await fake.waitFor(() => fake.sent.length === 1, 3000, 'the preview');
    expect(fake.sent[0]?.reply_markup).toEqual({
      inline_keyboard: [
        [
          { text: 'Enviar', callback_data: 'push:ok:1' },
          { text: 'Cancelar', callback_data: 'push:no:1' },
        ],
      ],
    });
    fake.pushCallback({ chatId: 42, messageId: fake.sent[0]!.message_id, data: 'push:ok:1', from: { id: 42, language_code: 'pt-br' } });
    await fake.waitFor(() => fake.sent.length === 2, 3000, 'the answer to the press');
    expect(fake.callbackAnswers).toHaveLength(1);
    expect(r.actions[0]).toMatchObject({ platform: 'telegram', chatId: '42', senderId: '42', data: 'push:ok:1', messageId: String(fake.sent[0]!.message_id) });
    expect(fake.edits).toMatchObject([{ method: 'editMessageReplyMarkup', message_id: fake.sent[0]!.message_id, reply_markup: { inline_keyboard: [] } }]);
    expect(fake.sent[1]?.plain).toBe('ok: push:ok:1');
  });

  test('a press is acknowledged even when the router fails, and the failure is logged', async () => {
    const r = router();
    r.onAction = async () => {
      throw new Error('router exploded');
    };
    await started(r);
    fake.pushCallback({ chatId: 42, messageId: 1, data: 'x' });
    await fake.waitFor(() => fake.callbackAnswers.length === 1, 3000, 'the acknowledgement');
    await fake.waitFor(() => lines.some((l) => l.includes('router exploded')), 3000, 'the log line');
    expect(fake.sent).toHaveLength(0);
  });

  test('a long reply is split; a 429 on a reply is waited out; a router error does not stop polling', async () => {
    const r = router((m) => {
      if (m.text === 'boom') throw new Error('bug');
      return m.text === 'long' ? [{ text: 'palavra '.repeat(1000) }] : [{ text: 'curta' }];
    });
    await started(r);
    fake.pushMessage({ chatId: 42, text: 'boom' });
    fake.failNext('sendMessage', 1, TG_ERRORS.tooMany(0));
    fake.pushMessage({ chatId: 42, text: 'long' });
    await fake.waitFor(() => fake.sent.length === 2, 3000, 'both parts');
    expect(fake.sent.every((s) => s.plain.length <= 4096)).toBe(true);
    expect(fake.sent.map((s) => s.plain).join(' ').split('palavra').length - 1).toBe(1000);
    expect(lines.some((l) => l.includes('the command router failed'))).toBe(true);
  });

  test('getUpdates failures are retried; stop() ends polling promptly and confirms processed updates', async () => {
    fake.failNext('getUpdates', 1, TG_ERRORS.tooMany(0));
    const r = router();
    const b = await started(r);
    fake.pushMessage({ chatId: 42, text: 'oi' });
    await fake.waitFor(() => fake.sent.length === 1, 3000, 'the reply');
    await b.stop();
    bot = null;
    expect(fake.pendingUpdates()).toBe(0);
    const polls = fake.calls.filter((c) => c.method === 'getUpdates').length;
    fake.pushMessage({ chatId: 42, text: 'depois do stop' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls.filter((c) => c.method === 'getUpdates').length).toBe(polls);
    expect(r.messages).toHaveLength(1);
  });

  test('starting twice is refused', async () => {
    const b = await started(router());
    await expect(b.start({ mode: 'polling' })).rejects.toThrow('already started');
  });

  test('setCommands: English is the default menu, Portuguese under language_code pt', async () => {
    const b = createTelegramBot({ token: TOKEN, apiRoot: fake.apiRoot, logger: memoryLogger().logger, onMessage: async () => [], onAction: async () => [] });
    await b.setCommands({
      'pt-BR': [{ command: 'ultimas', description: 'Últimas notícias' }],
      en: [{ command: 'latest', description: 'Latest news' }],
    });
    expect(fake.commands.get('')).toEqual([{ command: 'latest', description: 'Latest news' }]);
    expect(fake.commands.get('pt')).toEqual([{ command: 'ultimas', description: 'Últimas notícias' }]);
    await expect(b.setCommands({ en: [{ command: 'Últimas', description: 'x' }] })).rejects.toThrow('lowercase');
  });
});

describe('Telegram bot wiring over a webhook', () => {
  let fake: FakeTelegram;
  let bot: TelegramBot;
  let server: http.Server;
  let r: Router;
  let base: string;

  beforeEach(async () => {
    fake = await startFakeTelegram({ limits: false });
    fake.addChat({ id: 42, type: 'private' });
    r = router();
    bot = createTelegramBot({ token: TOKEN, apiRoot: fake.apiRoot, logger: memoryLogger().logger, onMessage: r.onMessage, onAction: r.onAction });
    // The composition root's server: the webhook first, then its own routes (here: 404).
    server = http.createServer((req, res) => {
      void bot.webhookHandler(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await bot.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fake.close();
  });

  const update = (text: string) => ({ message: { message_id: 1, date: 0, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'A' }, text } });

  test('sets the webhook with the secret; the right secret is handled, a wrong or missing one refused', async () => {
    expect(await bot.webhookHandler({ url: '/tg/hook', method: 'POST', headers: {} } as http.IncomingMessage, {} as http.ServerResponse)).toBe(false);
    await bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'segredo_123' });
    expect(fake.webhook).toMatchObject({ url: `${base}/tg/hook`, secretToken: 'segredo_123', allowedUpdates: ['message', 'callback_query'] });

    expect((await fake.deliverWebhook(update('/start'))).status).toBe(200);
    // Handled after the answer: wait for the reply.
    await fake.waitFor(() => fake.sent.length === 1, 5_000, 'the reply');
    expect(r.messages.map((m) => m.text)).toEqual(['/start']);
    expect(fake.sent.map((s) => s.plain)).toEqual(['eco: /start']);

    expect((await fake.deliverWebhook(update('/intruso'), { secret: 'errado' })).status).toBe(401);
    expect((await fake.deliverWebhook(update('/intruso'), { secret: null })).status).toBe(401);
    expect(r.messages).toHaveLength(1);
  });

  test('other paths fall through to the host server; bad methods and bodies are refused', async () => {
    await bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'segredo_123' });
    const headers = { 'x-telegram-bot-api-secret-token': 'segredo_123', 'content-type': 'application/json' };
    expect((await fetch(`${base}/health`)).status).toBe(404);
    expect((await fetch(`${base}/tg/hook`)).status).toBe(405);
    expect((await fetch(`${base}/tg/hook`, { method: 'POST', headers, body: '{nope' })).status).toBe(400);
    expect((await fetch(`${base}/tg/hook`, { method: 'POST', headers, body: '{"no_update_id":1}' })).status).toBe(400);
    expect(r.messages).toHaveLength(0);
  });

  test('answers 200 before a slow handler finishes; the update is handled after the answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = false;
    const slow = router(async (m) => {
      await gate;
      handled = true;
      return [{ text: `eco: ${m.text}` }];
    });
    bot = createTelegramBot({ token: TOKEN, apiRoot: fake.apiRoot, logger: memoryLogger().logger, onMessage: slow.onMessage, onAction: slow.onAction });
    await bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'segredo_123' });
    const answer = await fake.deliverWebhook(update('/devagar'));
    // The HTTP answer arrived while the router is still held at the gate.
    expect(answer.status).toBe(200);
    await until(() => slow.messages.length === 1, 5_000, 'the update reaching the router');
    expect(handled).toBe(false);
    expect(fake.sent).toHaveLength(0);
    release();
    await fake.waitFor(() => fake.sent.length === 1, 5_000, 'the reply after the gate');
    expect(handled).toBe(true);
  });

  test('a redelivered update (same update_id) is answered 200 and handled once', async () => {
    await bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'segredo_123' });
    const first = { ...update('/start'), update_id: 500 };
    expect((await fake.deliverWebhook(first)).status).toBe(200);
    expect((await fake.deliverWebhook(first)).status).toBe(200);
    expect((await fake.deliverWebhook({ ...update('/outro'), update_id: 501 })).status).toBe(200);
    await fake.waitFor(() => fake.sent.length === 2, 5_000, 'two replies');
    await bot.stop(); // waits for anything still being handled
    expect(r.messages.map((m) => m.text)).toEqual(['/start', '/outro']);
    expect(fake.sent.map((s) => s.plain)).toEqual(['eco: /start', 'eco: /outro']);
  });

  test('a handler that throws is logged; the webhook goes on answering', async () => {
    const log = memoryLogger();
    let calls = 0;
    const failing = router((m) => {
      calls += 1;
      if (m.text === '/quebra') throw new Error('router broke');
      return [{ text: `eco: ${m.text}` }];
    });
    bot = createTelegramBot({ token: TOKEN, apiRoot: fake.apiRoot, logger: log.logger, onMessage: failing.onMessage, onAction: failing.onAction });
    await bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'segredo_123' });
    expect((await fake.deliverWebhook(update('/quebra'))).status).toBe(200);
    expect((await fake.deliverWebhook(update('/depois'))).status).toBe(200);
    await fake.waitFor(() => fake.sent.length === 1, 5_000, 'the reply to the second');
    expect(calls).toBe(2);
    expect(log.lines.join('\n')).toContain('router broke');
  });

  test('a body over 1 MB is refused with 413 and never handled', async () => {
    await bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'segredo_123' });
    const headers = { 'x-telegram-bot-api-secret-token': 'segredo_123', 'content-type': 'application/json' };
    const big = JSON.stringify({ ...update('/grande'), update_id: 9, padding: 'x'.repeat(1024 * 1024 + 10) });
    expect((await fetch(`${base}/tg/hook`, { method: 'POST', headers, body: big })).status).toBe(413);
    // Without a content-length (chunked), the limit is counted while reading.
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode('x'.repeat(64 * 1024)));
        c.close();
      },
    });
    const res = await fetch(`${base}/tg/hook`, { method: 'POST', headers, body: chunked, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect((await fake.deliverWebhook(update('/pequeno'))).status).toBe(200);
    await fake.waitFor(() => fake.sent.length === 1, 5_000, 'the small one handled');
    expect(r.messages.map((m) => m.text)).toEqual(['/pequeno']);
  });

  test('a secret Telegram would refuse is reported before anything is set', async () => {
    await expect(bot.start({ mode: 'webhook', url: `${base}/tg/hook`, secret: 'com espaço' })).rejects.toThrow('TELEGRAM_WEBHOOK_SECRET');
    expect(fake.calls.some((c) => c.method === 'setWebhook')).toBe(false);
  });
});
