import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { EMPTY_ROUTES, loadRoutesFile } from '../../src/delivery/routes-file.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { articlePage, rss, tempDir, until, type Story } from './helpers.js';

/**
 * The whole app in this process, over real HTTP: a fake news site (feed and pages) and the fake Bot API,
 * with the real telegraf client, a real SQLite file and the real scheduler.
 */

const CHANNEL = -1001000000010;
const GROUP = -1001000000020;
const EDITOR = 777;
const READER = 888;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(opts: { env?: Record<string, string>; routes?: (origin: string) => string; beforeStart?: (fake: FakeTelegram) => void; limits?: Parameters<typeof startFakeTelegram>[0] extends infer O ? O extends { limits?: infer L } ? L : never : never } = {}) {
  const dir = tempDir();
  let stories: Story[] = [
    { id: 'a1', title: 'Primeira notícia antiga', section: 'Mundo', minute: 1 },
    { id: 'a2', title: 'Segunda notícia antiga', section: 'Política', minute: 2 },
  ];
  const site: FeedServer = await startFeedServer({});
  site.route('/feed.xml', () => ({ body: rss(site.origin, stories), contentType: 'application/rss+xml; charset=utf-8' }));
  // A second feed, for routing tests.
  let others: Story[] = [{ id: 'o1', title: 'Do outro feed', section: 'Cultura', minute: 1 }];
  site.route('/outro.xml', () => ({ body: rss(site.origin, others), contentType: 'application/rss+xml; charset=utf-8' }));
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' }, ...(opts.limits !== undefined ? { limits: opts.limits } : {}) });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
  fake.addChat({ id: GROUP, type: 'supergroup', title: 'Redação', isForum: true, topics: [7], botIsAdmin: true });
  fake.addChat({ id: EDITOR, type: 'private', firstName: 'Editora', languageCode: 'pt-br' });
  fake.addChat({ id: READER, type: 'private', firstName: 'Leitor', languageCode: 'pt-br' });
  opts.beforeStart?.(fake);
  let routesFile: string | undefined;
  if (opts.routes) {
    routesFile = join(dir, 'routes.yaml');
    writeFileSync(routesFile, opts.routes(site.origin));
  }
  const config = loadConfig({
    ...(routesFile ? { ROUTES_FILE: routesFile } : {}),
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_CHATS: `@canal,${GROUP}:7`,
    EDITORS: `telegram:${EDITOR}`,
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  const mem = memoryLogger();
  const printed: string[] = [];
  const routes = config.routesFile ? loadRoutesFile(config.routesFile) : EMPTY_ROUTES;
  const platforms = await createPlatformModules(config, mem.logger, routes);
  const app: App = await startApp({ config, logger: mem.logger, platforms, routes, print: (l) => printed.push(l) });
  cleanup.push(async () => {
    await app.stop();
    await fake.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const feedUrl = site.urlFor('/feed.xml');
  await until(async () => (await app.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
  return {
    app,
    fake,
    site,
    mem,
    printed,
    feedUrl,
    setStories: (s: Story[]) => (stories = s),
    setOthers: (s: Story[]) => (others = s),
    stories: () => stories,
  };
}

describe('Telegram end to end', () => {
  it('checks destinations, records the backlog, then posts each new article to every chat in order', async () => {
    const t = await setup();
    expect(t.printed).toContain('@canal: ok, can post');
    expect(t.printed.some((l) => l.startsWith(`${GROUP}:7: ok`))).toBe(true);
    expect(t.fake.sent).toHaveLength(0); // the backlog is recorded, not posted

    t.setStories([
      ...t.stories(),
      { id: 'n1', title: 'Nova <script>alert(1)</script> & cia', section: 'Mundo', minute: 10 },
      { id: 'n2', title: 'Outra notícia nova', section: 'Economia', minute: 11 },
    ]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sent.length === 4, 15_000, 'four posts');
    for (const chat of ['@canal', GROUP]) {
      const got = t.fake.sentTo(chat === '@canal' ? CHANNEL : GROUP);
      expect(got.map((m) => m.plain.split('\n').find((l) => l.startsWith('Nova') || l.startsWith('Outra')))).toEqual([
        // Tags in a title are markup, not text: dropped, and what remains is escaped (the fake validates the HTML).
        'Nova & cia',
        'Outra notícia nova',
      ]);
    }
    expect(t.fake.sentTo(GROUP).every((m) => m.message_thread_id === 7)).toBe(true);
    // Polling again finds nothing new: nothing is sent twice.
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.app.dispatcher.idle();
    expect(t.fake.sent).toHaveLength(4);
  });

  it('a title that quotes <comércio> reaches the chat as text, escaped, with its short deck as the lead', async () => {
    const t = await setup();
    const title = 'Lula & Xi discutem <comércio> em reunião "bilateral"';
    t.setStories([...t.stories(), { id: 'c1', title, section: 'Mundo', lead: 'Supostos sons de tiros foram ouvidos', minute: 10 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sent.length === 2, 15_000, 'two posts');
    for (const m of t.fake.sentTo(CHANNEL)) {
      // What the Bot API received: HTML with the brackets escaped; what the reader sees: the words.
      expect(m.text ?? m.caption).toContain('<b>Lula &amp; Xi discutem &lt;comércio&gt; em reunião &quot;bilateral&quot;</b>');
      expect(m.plain).toContain(title);
      expect(m.plain).toContain('Supostos sons de tiros foram ouvidos');
    }
  });

  it('routes file: a destination takes only its sections, another only its feeds, with its own options', async () => {
    const t = await setup({
      env: { TELEGRAM_CHATS: '' },
      routes: (origin) => `feeds:
  - url: ${origin}/outro.xml
destinations:
  - platform: telegram
    chat: "@canal"
    sections: [Mundo]
    silent: true
  - platform: telegram
    chat: "${GROUP}:7"
    feeds: [${origin}/outro.xml]
    linkPreview: false
`,
    });
    // The scheduler's first poll records the other feed's backlog too.
    await until(async () => (await t.app.feeds.get(t.site.urlFor('/outro.xml')))?.primed_at != null, 10_000, 'the other feed primed');
    t.setStories([
      ...t.stories(),
      { id: 'm1', title: 'Notícia do Mundo', section: 'Mundo', minute: 70 },
      { id: 'e1', title: 'Notícia de Economia', section: 'Economia', minute: 71 },
    ]);
    t.setOthers([
      { id: 'o1', title: 'Do outro feed', section: 'Cultura', minute: 1 },
      { id: 'o2', title: 'Nova do outro feed', section: 'Mundo', minute: 2 },
    ]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.app.pipeline.pollFeed(t.site.urlFor('/outro.xml'));
    await t.app.dispatcher.idle();
    const channel = t.fake.sentTo(CHANNEL);
    expect(channel.map((m) => /Notícia do Mundo|Nova do outro feed|Notícia de Economia/.exec(m.plain)?.[0])).toEqual(['Notícia do Mundo', 'Nova do outro feed']);
    expect(channel.every((m) => m.disable_notification === true)).toBe(true);
    const group = t.fake.sentTo(GROUP);
    expect(group.map((m) => /Nova do outro feed|Notícia/.exec(m.plain)?.[0])).toEqual(['Nova do outro feed']);
    expect(group[0]!.link_preview_options).toMatchObject({ is_disabled: true });
  });

  it('edits the sent messages when the feed changes a title', async () => {
    const t = await setup();
    t.setStories([...t.stories(), { id: 'e1', title: 'Título original', section: 'Mundo', minute: 20 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sent.length === 2, 10_000);
    t.setStories(t.stories().map((s) => (s.id === 'e1' ? { ...s, title: 'Título corrigido' } : s)));
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.edits.length === 2, 10_000, 'two edits');
    const m = t.fake.sentTo(CHANNEL)[0]!;
    expect(t.fake.message(CHANNEL, m.message_id)!.plain).toContain('Título corrigido');
  });

  it('delivers everything exactly once through 5% injected 429s and 5xx', async () => {
    const t = await setup({
      // 40 new items in one poll: over the default MAX_NEW_PER_POLL, which this test is not about.
      env: { TELEGRAM_CHAT_GAP: '10ms', TELEGRAM_GROUP_PER_MINUTE: '1000', TELEGRAM_MAX_PER_SECOND: '200', MAX_NEW_PER_POLL: '100' },
      limits: { globalPerSecond: 1000, perChatPerSecond: 1000, perGroupPerMinute: 100_000 },
    });
    t.fake.setFaults({ rate429: 0.05, rate5xx: 0.05, seed: 7, retryAfter: 1 });
    const fresh: Story[] = Array.from({ length: 40 }, (_, i) => ({ id: `f${i}`, title: `Notícia em série ${i}`, section: 'Mundo', minute: 100 + i }));
    t.setStories([...t.stories(), ...fresh]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sent.length >= 80, 40_000, '80 deliveries');
    await t.app.dispatcher.idle();
    expect(t.fake.stats.injected429 + t.fake.stats.injected5xx).toBeGreaterThan(0);
    for (const chat of [CHANNEL, GROUP]) {
      const titles = t.fake.sentTo(chat).map((m) => /Notícia em série \d+/.exec(m.plain)?.[0]);
      expect(new Set(titles).size).toBe(40);
      expect(titles).toHaveLength(40);
      // In order per chat, despite retries.
      expect(titles).toEqual(fresh.map((s) => s.title));
    }
    expect(await t.app.outbox.counts()).toEqual({ sent: 80 });
  }, 60_000);

  it('subscribers: /start then /assinar mundo receive Mundo only; /sair stops them', async () => {
    const t = await setup();
    t.fake.pushMessage({ chatId: READER, text: '/start', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 1, 10_000, 'welcome');
    t.fake.pushMessage({ chatId: READER, text: '/assinar mundo', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 2, 10_000, 'subscription confirmed');
    expect(t.fake.sentTo(READER)[1]!.plain).toMatch(/Mundo/);

    t.setStories([
      ...t.stories(),
      { id: 's1', title: 'Notícia do mundo para assinante', section: 'Mundo', minute: 30 },
      { id: 's2', title: 'Notícia de esportes', section: 'Esportes', minute: 31 },
    ]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 3, 10_000, 'the Mundo article');
    await t.app.dispatcher.idle();
    expect(t.fake.sentTo(READER)[2]!.plain).toContain('Notícia do mundo para assinante');
    expect(t.fake.sentTo(READER).some((m) => m.plain.includes('esportes'))).toBe(false);

    t.fake.pushMessage({ chatId: READER, text: '/sair', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 4, 10_000, 'goodbye');
    t.setStories([...t.stories(), { id: 's3', title: 'Mais uma do mundo', section: 'Mundo', minute: 32 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.app.dispatcher.idle();
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 3, 10_000);
    expect(t.fake.sentTo(READER)).toHaveLength(4);
  });

  it('keyword alerts: a private subscriber with an alert and a topic gets each matching article once, and not the others', async () => {
    const t = await setup();
    t.fake.pushMessage({ chatId: READER, text: '/alerta Senado Federal', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 1, 10_000, 'alert confirmed');
    expect(t.fake.sentTo(READER)[0]!.plain).toContain('Senado Federal');
    t.fake.pushMessage({ chatId: READER, text: '/assinar mundo', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 2, 10_000, 'subscription confirmed');

    t.setStories([
      ...t.stories(),
      // The topic and the alert both match: one message.
      { id: 'k1', title: 'Delegação visita o senado federal', section: 'Mundo', minute: 50 },
      // The alert alone (accents and case aside).
      { id: 'k2', title: 'SENADO FEDERAL aprova reforma', section: 'Política', minute: 51 },
      // Neither: "Senado" without "Federal", and another section.
      { id: 'k3', title: 'Senado estadual adia votação', section: 'Política', minute: 52 },
      { id: 'k4', title: 'Rodada do campeonato', section: 'Esportes', minute: 53 },
    ]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sentTo(READER).length >= 4, 10_000, 'the two matching articles');
    await t.app.dispatcher.idle();
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 4, 10_000, 'the channel posts');
    const got = t.fake.sentTo(READER).slice(2).map((m) => m.plain);
    expect(got).toHaveLength(2);
    expect(got.filter((p) => p.includes('Delegação visita o senado federal'))).toHaveLength(1);
    expect(got.filter((p) => p.includes('SENADO FEDERAL aprova reforma'))).toHaveLength(1);
    expect(got.some((p) => p.includes('Senado estadual') || p.includes('campeonato'))).toBe(false);
  });

  it('a subscriber who blocks the bot is deactivated on the next article; the menu is set in both languages', async () => {
    const t = await setup();
    expect(t.fake.commands.get('')?.map((c) => c.command)).toContain('latest');
    expect(t.fake.commands.get('pt')?.map((c) => c.command)).toContain('ultimas');
    t.fake.pushMessage({ chatId: READER, text: '/assinar mundo', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 1, 10_000, 'subscription confirmed');
    t.fake.updateChat(READER, { blocked: true });
    t.setStories([...t.stories(), { id: 'b1', title: 'Mundo depois do bloqueio', section: 'Mundo', minute: 40 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await until(async () => (await t.app.store.db.selectFrom('subscribers').select('active').where('id', '=', `telegram:${READER}`).executeTakeFirst())?.active === 0, 10_000, 'deactivation');
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).length === 1, 10_000);
  });

  it('an editor push with confirmation reaches the channel ahead of 20 queued articles', async () => {
    const t = await setup({ env: { TELEGRAM_GROUP_PER_MINUTE: '20' } });
    t.site.route('/exclusivo', { body: articlePage(t.site.urlFor('/exclusivo'), { title: 'Exclusivo: furo da redação', lead: 'A redação apurou um fato importante e o publica agora, antes de todos.', section: 'Política' }), contentType: 'text/html; charset=utf-8' });
    const queued: Story[] = Array.from({ length: 20 }, (_, i) => ({ id: `q${i}`, title: `Fila ${i}`, section: 'Mundo', minute: 200 + i }));
    t.setStories([...t.stories(), ...queued]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    const before = t.fake.sentTo(CHANNEL).length;

    t.fake.pushMessage({ chatId: EDITOR, text: `/push ${t.site.urlFor('/exclusivo')}`, from: { id: EDITOR, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(EDITOR).some((m) => m.reply_markup), 10_000, 'the preview with buttons');
    const preview = t.fake.sentTo(EDITOR).find((m) => m.reply_markup)!;
    expect(preview.plain).toContain('Exclusivo: furo da redação');
    const buttons = (preview.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard.flat();
    const send = buttons.find((b) => b.callback_data.startsWith('push:ok:'))!;
    t.fake.pushCallback({ chatId: EDITOR, messageId: preview.message_id, data: send.callback_data, from: { id: EDITOR, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(CHANNEL).some((m) => m.plain.includes('Exclusivo')), 15_000, 'the push in the channel');
    const channel = t.fake.sentTo(CHANNEL);
    const pushAt = channel.findIndex((m) => m.plain.includes('Exclusivo'));
    // At most the one or two posts already under way went before it; the 20 queued did not.
    expect(pushAt - before).toBeLessThanOrEqual(2);
    await t.fake.waitFor(() => t.fake.sentTo(EDITOR).some((m) => /enviad[oa] para 2 de 2/i.test(m.plain)), 15_000, 'progress report');

    // The audit line carries the article id in its own column, and "pushed before, by whom" reads it.
    const audits = await t.app.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'push.enqueued').execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actor).toBe(`telegram:${EDITOR}`);
    expect(audits[0]!.article_id).toMatch(/\S/);
    expect(audits[0]!.detail).not.toContain(audits[0]!.article_id!);
    const confirm = await t.app.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'push.confirm').executeTakeFirstOrThrow();
    expect(confirm.article_id).toBe(audits[0]!.article_id);
    const previews = t.fake.sentTo(EDITOR).filter((m) => m.reply_markup).length;
    t.fake.pushMessage({ chatId: EDITOR, text: `/push ${t.site.urlFor('/exclusivo')}`, from: { id: EDITOR, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(EDITOR).filter((m) => m.reply_markup).length > previews, 10_000, 'the second preview');
    const again = t.fake.sentTo(EDITOR).filter((m) => m.reply_markup).at(-1)!;
    expect(again.plain).toContain(`telegram:${EDITOR}`);
  }, 30_000);

  it('a non-editor /push is refused and audited', async () => {
    const t = await setup();
    t.fake.pushMessage({ chatId: READER, text: '/push https://example.com/x', from: { id: READER, language_code: 'pt-br' } });
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 1, 10_000);
    expect(t.fake.sentTo(READER)[0]!.plain).toMatch(/editor|permiss/i);
    const audit = await t.app.store.db.selectFrom('audit_log').selectAll().execute();
    expect(audit.some((a) => a.actor === `telegram:${READER}` && a.action === 'push' && a.outcome === 'refused')).toBe(true);
  });

  const WEBHOOK_ENV = { TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram-hook', TELEGRAM_WEBHOOK_SECRET: 'segredo_de_teste_123', ADMIN_PORT: '0', ADMIN_PASSWORD: 'senha-de-teste-123' };
  const command = (updateId: number, chatId: number, text: string, extra: object = {}) => ({
    update_id: updateId,
    message: { message_id: updateId, date: 1, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'L', language_code: 'pt-br' }, text, entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }], ...extra },
  });
  const postTo = (base: string | null, update: object, secret = 'segredo_de_teste_123') =>
    fetch(`${base}/telegram-hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body: JSON.stringify(update) });

  it('webhook mode: the public listener carries the webhook only; health and metrics are on the admin listener on 127.0.0.1', async () => {
    const t = await setup({ env: WEBHOOK_ENV });
    expect(t.fake.webhook).toMatchObject({ url: 'https://bot.example.com/telegram-hook', secretToken: 'segredo_de_teste_123' });
    expect(t.app.httpUrl).not.toBeNull();
    expect(t.app.adminUrl).not.toBeNull();
    expect(new URL(t.app.adminUrl!).hostname).toBe('127.0.0.1');
    expect(t.app.adminUrl).not.toBe(t.app.httpUrl);
    const update = command(1, READER, '/ajuda');
    expect((await postTo(t.app.httpUrl, update, 'errado')).status).toBe(401);
    expect(t.fake.sentTo(READER)).toHaveLength(0);
    expect((await postTo(t.app.httpUrl, update)).status).toBe(200);
    await t.fake.waitFor(() => t.fake.sentTo(READER).length === 1, 5_000, 'the /ajuda reply');

    // Public: nothing about feeds or errors, whatever the path spelling.
    for (const path of ['/health', '/healthz', '/metrics', '/metrics?x=1']) {
      const res = await fetch(`${t.app.httpUrl}${path}`);
      expect(res.status, path).toBe(404);
      const body = await res.text();
      expect(body, path).not.toContain('feed');
      expect(body, path).not.toContain('/health');
    }
    // Admin: the full reports.
    const healthRes = await fetch(`${t.app.adminUrl}/health`);
    expect(healthRes.status).toBe(200);
    const health = (await healthRes.json()) as { ok: boolean; platforms: Record<string, string> };
    expect(health).toMatchObject({ ok: true, platforms: { telegram: 'webhook' } });
    const metricsRes = await fetch(`${t.app.adminUrl}/metrics`);
    expect(metricsRes.status).toBe(200);
    expect(await metricsRes.text()).toContain('manchete_platform_up{platform="telegram",state="webhook"} 1');
    // The web desk (on with ADMIN_PASSWORD) is on the admin listener only.
    expect((await fetch(`${t.app.httpUrl}/desk/login`)).status).toBe(404);
    expect((await fetch(`${t.app.adminUrl}/desk/login`)).status).toBe(200);
    // The admin listener does not take the webhook.
    expect((await postTo(t.app.adminUrl, command(2, READER, '/ajuda'))).status).toBe(404);
    expect(t.mem.lines.some((l) => l.includes('"event":"http.listening"') && l.includes('"listener":"admin"'))).toBe(true);
  });

  it('without a webhook there is one listener, serving health and metrics; without a password the desk is off and the log says how', async () => {
    const t = await setup();
    expect((await fetch(`${t.app.httpUrl}/desk/login`)).status).toBe(404);
    expect(t.mem.lines.some((l) => l.includes('"event":"desk.off"') && l.includes('ADMIN_PASSWORD'))).toBe(true);
    expect(t.app.adminUrl).toBe(t.app.httpUrl);
    expect((await fetch(`${t.app.httpUrl}/health`)).status).toBe(200);
    expect((await fetch(`${t.app.httpUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${t.app.httpUrl}/telegram-hook`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('webhook mode: a forwarded /push from an editor is not run; a redelivered update is handled once', async () => {
    const t = await setup({ env: WEBHOOK_ENV });
    const pushes = async () => (await t.app.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'push').execute()).length;
    const origin = { type: 'user', date: 1, sender_user: { id: READER, is_bot: false, first_name: 'Leitor' } };
    // The editor forwards a reader's /push (new and legacy forward fields): no reply, no push.
    expect((await postTo(t.app.httpUrl, command(10, EDITOR, '/push https://example.com/x', { forward_origin: origin }))).status).toBe(200);
    expect((await postTo(t.app.httpUrl, command(11, EDITOR, '/push https://example.com/y', { forward_from: origin.sender_user, forward_date: 1 }))).status).toBe(200);
    // An ordinary command after them, in the same chat: once it is answered, the forwards were handled before it.
    expect((await postTo(t.app.httpUrl, command(12, EDITOR, '/ajuda'))).status).toBe(200);
    await t.fake.waitFor(() => t.fake.sentTo(EDITOR).length >= 1, 5_000, 'the /ajuda reply');
    // Telegram redelivers update 12 (it thought the answer was late): answered, not handled again. Update
    // 13 comes after it in the same chat, so once 13 is answered the redelivery would have been too.
    expect((await postTo(t.app.httpUrl, command(12, EDITOR, '/ajuda'))).status).toBe(200);
    const helpText = t.fake.sentTo(EDITOR)[0]!.plain;
    expect((await postTo(t.app.httpUrl, command(13, EDITOR, '/start'))).status).toBe(200);
    await t.fake.waitFor(() => t.fake.sentTo(EDITOR).some((m) => m.plain !== helpText), 5_000, 'the reply to update 13 (/start)');
    await t.app.dispatcher.idle();
    expect(t.fake.sentTo(EDITOR)).toHaveLength(2);
    expect(t.fake.sentTo(EDITOR).every((m) => m.reply_markup === undefined)).toBe(true);
    expect(await pushes()).toBe(0);
    expect(t.fake.sentTo(CHANNEL).filter((m) => m.plain.includes('example.com'))).toHaveLength(0);
  });

  it('Telegram unreachable at start: sign-in is retried and the queued articles go out afterwards', async () => {
    const t = await setup({ beforeStart: (fake) => fake.failNext('getMe', 1, { reset: true }) });
    // The first retry is 5 s jittered into [2.5 s, 5 s] (lib/backoff.ts), printed in whole seconds.
    expect(t.printed.some((l) => l.startsWith('telegram: cannot sign in') && /trying again in [345] s/.test(l)), t.printed.join('\n')).toBe(true);
    expect(t.app.platforms[0]!.state()).toBe('unreachable');
    t.setStories([...t.stories(), { id: 'r1', title: 'Enquanto o Telegram estava fora', section: 'Mundo', minute: 60 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    expect((await t.app.outbox.counts()).pending).toBe(2);
    await t.fake.waitFor(() => t.fake.sent.length === 2, 15_000, 'the posts after sign-in');
    expect(t.printed).toContain('@canal: ok, can post');
    await t.app.dispatcher.idle();
    // Waiting for the sign-in spent no attempts: each delivery went out on its first.
    expect((await t.app.store.db.selectFrom('deliveries').select('attempts').execute()).every((r) => r.attempts === 1)).toBe(true);
  }, 25_000);

  it('never logs the bot token', async () => {
    const t = await setup();
    t.fake.failNext('sendMessage', 1, { error_code: 500, description: `Internal error for /bot${TOKEN}/sendMessage` });
    t.setStories([...t.stories(), { id: 'tk', title: 'Token test', section: 'Mundo', minute: 50 }]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sent.length >= 2, 15_000);
    expect(t.mem.lines.join('\n')).not.toContain(TOKEN);
    expect(t.mem.lines.join('\n')).not.toContain(TOKEN.split(':')[1]);
  });
});
