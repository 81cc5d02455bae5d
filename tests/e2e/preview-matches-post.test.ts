import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runCli } from '../../src/cli.js';
import { startApp } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { loadRoutesFile } from '../../src/delivery/routes-file.js';
import { startFakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { tempDir } from './helpers.js';

/**
 * `manchete preview` promises to show what would be posted. Here one feed is both previewed through the
 * CLI and posted by the whole app to the fake Bot API, with a routes file that gives the feed a section
 * default and the destination options of its own (locale, UTM tags): the texts must be the same.
 */

const CHANNEL = -1001000000010;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function feed(origin: string): string {
  const now = Date.now();
  const item = (id: string, title: string, minutesAgo: number, category: string | null) => `<item>
  <title>${title}</title>
  <link>${origin}/noticia/${id}</link>
  <guid isPermaLink="false">${id}</guid>
  ${category ? `<category>${category}</category>` : ''}
  <pubDate>${new Date(now - minutesAgo * 60_000).toUTCString()}</pubDate>
  <description>Resumo da notícia ${id}, com detalhes suficientes para virar o lead da mensagem enviada aos leitores.</description>
</item>`;
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Folha Teste</title><link>${origin}/</link>
${item('p1', 'Prefeitura anuncia obras', 30, null)}
${item('p2', 'Time vence clássico', 20, 'Esportes')}
</channel></rss>`;
}

describe('preview shows what is posted', () => {
  it('the CLI preview of a feed equals what the fake Bot API receives for it (section default, destination locale and UTM)', async () => {
    const dir = tempDir();
    const site = await startFeedServer();
    site.route('/feed.xml', () => ({ body: feed(site.origin), contentType: 'application/rss+xml; charset=utf-8' }));
    const fake = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
    fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
    const feedUrl = site.urlFor('/feed.xml');
    const routesFile = join(dir, 'routes.yaml');
    writeFileSync(
      routesFile,
      `feeds:
  - url: ${feedUrl}
    section: Cidades
destinations:
  - platform: telegram
    chat: "@canal"
    locale: en
    utm:
      campaign: preview-check
`,
    );
    const env = {
      ROUTES_FILE: routesFile,
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      FEED_URLS: feedUrl,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_CHATS: '@canal',
      BACKFILL: '5',
      HTTP_PORT: '0',
      FETCH_PAGES: 'false',
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    };
    const config = loadConfig(env);
    const mem = memoryLogger();
    const routes = loadRoutesFile(routesFile);
    const app = await startApp({ config, logger: mem.logger, platforms: await createPlatformModules(config, mem.logger, routes), routes, print: () => undefined });
    cleanup.push(async () => {
      await app.stop();
      await fake.close();
      await site.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await app.pipeline.pollFeed(feedUrl);
    await fake.waitFor(() => fake.sentTo(CHANNEL).length >= 2, 10_000, 'both posts');
    const posted = fake.sentTo(CHANNEL).map((m) => m.text ?? m.caption ?? '');

    const out: string[] = [];
    const code = await runCli(['preview', '--json', '--platform', 'telegram', feedUrl], { out: (s) => out.push(s), err: () => undefined, env });
    expect(code).toBe(0);
    const previewed = out.map((l) => JSON.parse(l) as { article: { title: string; section: string | null }; telegram: { text: string }[] });
    // Feed order is newest first; the posts went out oldest first.
    const byTitle = new Map(previewed.map((p) => [p.article.title, p]));
    expect(byTitle.get('Prefeitura anuncia obras')?.article.section).toBe('Cidades');
    expect(byTitle.get('Time vence clássico')?.article.section).toBe('Esportes');
    const previewTexts = ['Prefeitura anuncia obras', 'Time vence clássico'].map((t) => byTitle.get(t)!.telegram.map((m) => m.text).join('\n'));
    expect(previewTexts).toEqual(posted);
    // The options really shaped the text: the destination's own campaign tag is on the link.
    expect(posted.every((t) => t.includes('utm_campaign=preview-check'))).toBe(true);
    expect(posted[0]).toContain('Cidades');
  }, 30_000);
});
