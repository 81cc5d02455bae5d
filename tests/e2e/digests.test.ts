import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { wallClock } from '../../src/delivery/digest-schedule.js';
import { loadRoutesFile } from '../../src/delivery/routes-file.js';
import { startApp, type App, type AppDeps } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { startFakeTelegram, type FakeSentMessage, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { rss, sleep, tempDir, until, type Story } from './helpers.js';

/**
 * Digests and hourly caps through the whole app: a real feed over HTTP, the routes file, real telegraf
 * against the fake Bot API, a real SQLite file, and the real digest clock (node-cron, every minute in TZ):
 * the digest time is set at the next minute, so this test waits for it.
 */

const TZ = 'America/Sao_Paulo';
const RESUMO = -1001000000210;
const CAPADO = -1001000000220;
const PERDIDO = -1001000000230;
const LIMITADO = -1001000000240;
const MANHA = -1001000000250;
const EDITOR = 777;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const OLD: Story[] = [{ id: 'velha', title: 'Notícia antiga', section: 'Mundo', minute: 1 }];
const fresh = (from: number, to: number): Story[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: `n${from + i}`, title: `Manchete número ${from + i}`, section: 'Política', minute: 10 + from + i }));

/** A site, a fake Bot API with channels, and an app over one database that can be stopped and started again. */
async function world(channels: { id: number; username: string }[], routes: string, deps: Pick<AppDeps, 'digests'> = {}, editor: number | null = null) {
  const dir = tempDir('manchete-digest-e2e-');
  let stories: Story[] = OLD;
  const site: FeedServer = await startFeedServer({});
  site.route('/feed.xml', () => ({ body: rss(site.origin, stories), contentType: 'application/rss+xml; charset=utf-8' }));
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
  for (const c of channels) fake.addChat({ id: c.id, type: 'channel', username: c.username, title: c.username, botIsAdmin: true, canPost: true });
  if (editor !== null) fake.addChat({ id: editor, type: 'private', firstName: 'Editora', languageCode: 'pt-br' });
  const routesFile = join(dir, 'routes.yaml');
  writeFileSync(routesFile, routes);
  const config = loadConfig({
    ROUTES_FILE: routesFile,
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TZ,
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    LOG_LEVEL: 'debug',
    ...(editor !== null ? { EDITORS: `telegram:${editor}` } : {}),
  });
  const feedUrl = site.urlFor('/feed.xml');
  let app: App | null = null;
  const logs: string[] = [];
  const start = async () => {
    const mem = memoryLogger();
    const routesNow = loadRoutesFile(routesFile);
    app = await startApp({ config, logger: mem.logger, platforms: await createPlatformModules(config, mem.logger, routesNow), routes: routesNow, print: () => {}, ...deps });
    const a = app;
    // Each run's log lines, kept across restarts.
    const pushLines = () => logs.push(...mem.lines.splice(0));
    cleanupLogs.push(pushLines);
    await until(async () => (await a.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
    return a;
  };
  const cleanupLogs: (() => void)[] = [];
  const stop = async () => {
    await app?.stop();
    app = null;
    for (const f of cleanupLogs) f();
  };
  cleanup.push(async () => {
    await stop();
    await fake.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    fake,
    feedUrl,
    start,
    stop,
    app: () => app!,
    logs: () => {
      for (const f of cleanupLogs) f();
      return logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    setStories: (s: Story[]) => (stories = s),
  };
}

/** The next whole minute at least 25 s away (time to post and stop before it), as an instant and as HH:MM in TZ. */
function nextMinute(): { at: number; hhmm: string } {
  let at = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
  if (at - Date.now() < 25_000) at += 60_000;
  const wall = new Date(wallClock(at, TZ));
  const hhmm = `${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}`;
  return { at, hhmm };
}

const titles = (m: FakeSentMessage) => [...m.plain.matchAll(/Manchete número (\d+)/g)].map((x) => Number(x[1]));
const links = (m: FakeSentMessage) => m.entities.filter((e) => e.type === 'text_link').map((e) => new URL(e.url!).pathname);

describe('digests and hourly caps end to end', () => {
  it('a digest at a time set a minute ahead arrives once with the right articles; a capped channel posts 3 and the rest arrive in its digest; restarts neither resend nor skip one', async () => {
    const { at, hhmm } = nextMinute();
    const a = await world(
      [
        { id: RESUMO, username: 'resumo' },
        { id: CAPADO, username: 'capado' },
      ],
      `destinations:
  - platform: telegram
    chat: "@resumo"
    mode: digest
    digest: { at: ["${hhmm}"], max: 4, title: "Resumo da manhã" }
  - platform: telegram
    chat: "@capado"
    mode: both
    digest: { at: ["${hhmm}"] }
    maxPerHour: 3
`,
    );
    // A second newsroom whose process is down when its digest falls due.
    const b = await world(
      [{ id: PERDIDO, username: 'perdido' }],
      `destinations:
  - platform: telegram
    chat: "@perdido"
    mode: digest
    digest: { at: ["${hhmm}"] }
`,
    );
    await a.start();
    await b.start();
    a.setStories([...OLD, ...fresh(1, 5)]);
    b.setStories([...OLD, ...fresh(1, 2)]);
    await a.app().pipeline.pollFeed(a.feedUrl);
    await b.app().pipeline.pollFeed(b.feedUrl);
    await a.fake.waitFor(() => a.fake.sentTo(CAPADO).length === 3, 15_000, 'three live posts to the capped channel');
    await a.app().dispatcher.idle();
    // Live: the capped channel got the three oldest; the digest-only channel nothing yet.
    expect(a.fake.sentTo(CAPADO).map((m) => titles(m)[0])).toEqual([1, 2, 3]);
    expect(a.fake.sentTo(RESUMO)).toHaveLength(0);
    expect(a.logs().filter((l) => l.event === 'delivery.capped' && l.to === 'digest')).toHaveLength(2);
    await b.stop();
    expect(Date.now()).toBeLessThan(at); // b really was down at its digest time
    expect(b.fake.sent).toHaveLength(0);

    // The digest clock fires at the minute.
    await a.fake.waitFor(() => a.fake.sentTo(RESUMO).length >= 1 && a.fake.sentTo(CAPADO).length >= 4, at - Date.now() + 30_000, 'the digests');
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    await a.app().dispatcher.idle();
    const [resumo] = a.fake.sentTo(RESUMO);
    expect(a.fake.sentTo(RESUMO)).toHaveLength(1);
    expect(resumo!.plain.split('\n')[0]).toBe('Resumo da manhã');
    expect(titles(resumo!)).toEqual([5, 4, 3, 2]); // newest first, at most max
    expect(links(resumo!)).toEqual(['/noticia/n5', '/noticia/n4', '/noticia/n3', '/noticia/n2']);
    const capado = a.fake.sentTo(CAPADO);
    expect(capado).toHaveLength(4);
    expect(titles(capado[3]!)).toEqual([5, 4, 3, 2, 1]); // the two that did not fit live are in it
    expect(capado[3]!.plain.split('\n')[0]).toBe('Últimas notícias');

    // Restart: the slot is in the database, so nothing is sent again.
    await a.stop();
    await a.start();
    await sleep(2_500);
    await a.app().dispatcher.idle();
    expect(a.fake.sentTo(RESUMO)).toHaveLength(1);
    expect(a.fake.sentTo(CAPADO)).toHaveLength(4);

    // The newsroom that was down: its digest, due less than an hour ago, goes out once at start.
    await b.start();
    await b.fake.waitFor(() => b.fake.sentTo(PERDIDO).length === 1, 10_000, 'the missed digest');
    expect(titles(b.fake.sentTo(PERDIDO)[0]!)).toEqual([2, 1]);
    await b.stop();
    await b.start();
    await sleep(2_500);
    await b.app().dispatcher.idle();
    expect(b.fake.sentTo(PERDIDO)).toHaveLength(1);
    expect(b.logs().filter((l) => l.event === 'digest.queued')).toHaveLength(1);
  }, 150_000);

  it('a capped channel without digests posts 3 per window and the rest later, in order, none lost', async () => {
    const w = await world(
      [{ id: LIMITADO, username: 'limitado' }],
      `destinations:
  - platform: telegram
    chat: "@limitado"
    maxPerHour: 3
`,
      { digests: { capWindowMs: 5_000 } },
    );
    await w.start();
    w.setStories([...OLD, ...fresh(1, 7)]);
    await w.app().pipeline.pollFeed(w.feedUrl);
    await w.fake.waitFor(() => w.fake.sentTo(LIMITADO).length === 7, 30_000, 'all seven posts');
    await w.app().dispatcher.idle();
    const sent = w.fake.sentTo(LIMITADO);
    expect(sent.map((m) => titles(m)[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Never more than 3 in any window: each post is at least a window after the one three before it.
    for (let i = 3; i < sent.length; i++) expect(sent[i]!.time - sent[i - 3]!.time).toBeGreaterThanOrEqual(5_000);
    // The first three went at the channel's normal pace (1 s apart), well within one window: without the cap, the fourth would follow 1 s later.
    expect(sent[2]!.time - sent[0]!.time).toBeLessThan(5_000);
    expect(w.logs().some((l) => l.event === 'delivery.capped' && l.to === 'later')).toBe(true);
  }, 60_000);

  it('/resumo previews the next digest in the editor’s chat and sends it after "Enviar"; the scheduled one does not repeat it', async () => {
    // A digest time hours away: only the editor's /resumo sends anything here.
    const later = new Date(wallClock(Date.now() + 6 * 3_600_000, TZ));
    const hhmm = `${String(later.getUTCHours()).padStart(2, '0')}:00`;
    const w = await world(
      [{ id: MANHA, username: 'manha' }],
      `destinations:
  - platform: telegram
    chat: "@manha"
    mode: digest
    digest: { at: ["${hhmm}"], title: "Resumo da manhã" }
    quietHours: "00:00-23:59"
`,
      {},
      EDITOR,
    );
    await w.start();
    w.setStories([...OLD, ...fresh(1, 3)]);
    await w.app().pipeline.pollFeed(w.feedUrl);
    w.fake.pushMessage({ chatId: EDITOR, text: '/resumo manha', from: { id: EDITOR, language_code: 'pt-br' } });
    await w.fake.waitFor(() => w.fake.sentTo(EDITOR).some((m) => m.reply_markup), 10_000, 'the preview with buttons');
    const preview = w.fake.sentTo(EDITOR).find((m) => m.reply_markup)!;
    expect(preview.plain).toContain('Próximo resumo de manha (@manha) (3 de 3 matérias reunidas)');
    // The digest as the channel will read it, links spelled out: newest first.
    expect(preview.plain).toMatch(/Resumo da manhã\n\n• Manchete número 3 \(http:[^)]*\/noticia\/n3\?utm_source=telegram[^)]*\) \(Política\)\n• Manchete número 2 /);
    expect(w.fake.sentTo(MANHA)).toHaveLength(0);
    const send = (preview.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard.flat().find((b) => b.text === 'Enviar')!;
    w.fake.pushCallback({ chatId: EDITOR, messageId: preview.message_id, data: send.callback_data, from: { id: EDITOR, language_code: 'pt-br' } });
    // Sent now, past the channel's quiet hours (an editor chose to).
    await w.fake.waitFor(() => w.fake.sentTo(MANHA).length === 1, 10_000, 'the digest in the channel');
    expect(titles(w.fake.sentTo(MANHA)[0]!)).toEqual([3, 2, 1]);
    await w.fake.waitFor(() => w.fake.sentTo(EDITOR).some((m) => m.plain.startsWith('Resumo na frente da fila para manha (@manha): 3 matéria(s).')), 10_000, 'the confirmation');
    // Nothing is left for the scheduled digest.
    expect((await w.app().digests.build(`telegram:@manha`))!.waiting).toBe(0);
    const audit = await w.app().store.db.selectFrom('audit_log').select(['action', 'outcome']).where('action', 'like', 'digest%').orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'digest', outcome: 'awaiting_confirmation' },
      { action: 'digest.confirm', outcome: 'ok' },
    ]);
  }, 60_000);
});
