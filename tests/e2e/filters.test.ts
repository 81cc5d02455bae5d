import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalUrl } from '../../src/articles/canonical.js';
import { loadConfig } from '../../src/config.js';
import { loadRoutesFile } from '../../src/delivery/routes-file.js';
import { startApp, type App } from '../../src/main.js';
import { createPlatformModules } from '../../src/platforms/index.js';
import { startFakeTelegram, type FakeSentMessage, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { memoryLogger, TOKEN } from '../platforms/telegram/helpers.js';
import { tempDir, until } from './helpers.js';

/**
 * Filters per destination and UTM tags, through the whole app: a real feed over HTTP, the real routes
 * file, real telegraf against the fake Bot API, a real SQLite file.
 */

const CHANNEL = -1001000000110;
const GROUP = -1001000000120;

interface Item {
  id: string;
  title: string;
  section: string;
  lead?: string;
  tags?: string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** No guid: the dedup key is the canonical link (its utm_source=rss and fragment dropped), so a tag leaking into it would show. */
function feed(origin: string, items: Item[]): string {
  const body = items
    .map(
      (s, i) => `<item><title>${esc(s.title)}</title>
<link>${origin}/noticia/${s.id}?utm_source=rss&amp;id=${s.id}#inicio</link>
<category>${esc(s.section)}</category>${(s.tags ?? []).map((t) => `<category>${esc(t)}</category>`).join('')}
<pubDate>${new Date(Date.now() - 3_600_000 + (items.length - i) * 60_000).toUTCString()}</pubDate>
<description>${esc(s.lead ?? `Resumo de ${s.id} com detalhes suficientes para ser o lead.`)}</description></item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title><link>${origin}/</link><description>f</description>${body}</channel></rss>`;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup() {
  const dir = tempDir();
  let items: Item[] = [{ id: 'velha', title: 'Notícia antiga', section: 'Mundo' }];
  const site: FeedServer = await startFeedServer({});
  site.route('/feed.xml', () => ({ body: feed(site.origin, items), contentType: 'application/rss+xml; charset=utf-8' }));
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, bot: { username: 'manchete_bot' } });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'tudo', title: 'Tudo', botIsAdmin: true, canPost: true });
  fake.addChat({ id: GROUP, type: 'supergroup', title: 'Política', isForum: true, topics: [42], botIsAdmin: true });
  const routesFile = join(dir, 'routes.yaml');
  writeFileSync(
    routesFile,
    `destinations:
  - platform: telegram
    chat: "@tudo"
  - platform: telegram
    chat: "${GROUP}:42"
    include: { keywords: [Senado, "Câmara dos Deputados"], tags: [eleições], match: "(?i)\\\\bSTF\\\\b" }
    exclude: { keywords: [horóscopo], sections: [Esportes] }
    utm: { source: topico-politica, content: t42 }
`,
  );
  const config = loadConfig({
    ROUTES_FILE: routesFile,
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    LOG_LEVEL: 'debug',
  });
  const mem = memoryLogger();
  const routes = loadRoutesFile(routesFile);
  const platforms = await createPlatformModules(config, mem.logger, routes);
  const app: App = await startApp({ config, logger: mem.logger, platforms, routes, print: () => {} });
  cleanup.push(async () => {
    await app.stop();
    await fake.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const feedUrl = site.urlFor('/feed.xml');
  await until(async () => (await app.feeds.get(feedUrl))?.primed_at != null, 10_000, 'the first poll');
  return { app, fake, site, mem, feedUrl, setItems: (s: Item[]) => (items = s) };
}

/** Every URL a message carries to the fake: text links (entities) and the link preview. */
function linksOf(m: FakeSentMessage): string[] {
  const out = m.entities.filter((e) => e.type === 'text_link' || e.type === 'url').map((e) => e.url ?? m.plain.slice(e.offset, e.offset + e.length));
  const preview = m.link_preview_options as { url?: string } | undefined;
  if (preview?.url) out.push(preview.url);
  return out;
}

describe('filters and UTM tags end to end', () => {
  it('a filtered forum topic receives only its articles, the unfiltered channel all; every link is tagged; dedup keys are not', async () => {
    const t = await setup();
    const fresh: Item[] = [
      { id: 'senado', title: 'O Senado aprova a reforma', section: 'Política' },
      { id: 'camara', title: 'Votação na camara dos deputados', section: 'Política' },
      { id: 'stf', title: 'Decisão do stf sobre o caso', section: 'Justiça' },
      { id: 'tag', title: 'Pesquisa nova', section: 'Política', tags: ['Eleições'] },
      { id: 'esporte', title: 'Senado aprova lei do esporte', section: 'Esportes' },
      { id: 'horoscopo', title: 'O Senado e o Horóscopo', section: 'Variedades' },
      { id: 'stfx', title: 'A STFX lança produto', section: 'Economia' },
      { id: 'camara-so', title: 'Câmara municipal decide', section: 'Cidades' },
    ];
    t.setItems([{ id: 'velha', title: 'Notícia antiga', section: 'Mundo' }, ...fresh]);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.fake.waitFor(() => t.fake.sent.length === 12, 20_000, '8 posts to the channel and 4 to the topic');
    await t.app.dispatcher.idle();

    const titleOf = (m: FakeSentMessage) => fresh.find((s) => m.plain.includes(s.title))?.id;
    const channel = t.fake.sentTo(CHANNEL);
    expect(new Set(channel.map(titleOf))).toEqual(new Set(fresh.map((s) => s.id)));
    expect(channel).toHaveLength(8);
    const topic = t.fake.sentTo(GROUP);
    expect(topic.every((m) => m.message_thread_id === 42)).toBe(true);
    expect(topic.map(titleOf).sort()).toEqual(['camara', 'senado', 'stf', 'tag']);

    // Every link that reached the fake carries the tags of its destination, and only once.
    for (const m of channel) {
      const links = linksOf(m);
      expect(links.length).toBeGreaterThanOrEqual(2); // the "Leia mais" link and the preview
      for (const l of links) {
        const u = new URL(l);
        expect([...u.searchParams.entries()]).toEqual([
          ['id', u.pathname.split('/').pop()],
          ['utm_source', 'telegram'],
          ['utm_medium', 'social'],
          ['utm_campaign', 'manchete'],
        ]);
      }
    }
    for (const m of topic) {
      for (const l of linksOf(m)) {
        const u = new URL(l);
        expect(u.searchParams.getAll('utm_source')).toEqual(['topico-politica']);
        expect(u.searchParams.get('utm_medium')).toBe('social');
        expect(u.searchParams.get('utm_campaign')).toBe('manchete');
        expect(u.searchParams.get('utm_content')).toBe('t42');
      }
    }

    // The stored article and its dedup key never carry the tags; polling again sends nothing twice.
    const stored = await t.app.articles.byUrl(canonicalUrl(`${t.site.origin}/noticia/senado?id=senado`));
    expect(stored?.id).toBe(`url:${canonicalUrl(`${t.site.origin}/noticia/senado?id=senado`)}`);
    expect(stored?.url).not.toMatch(/utm_/);
    await t.app.pipeline.pollFeed(t.feedUrl);
    await t.app.dispatcher.idle();
    expect(t.fake.sent).toHaveLength(12);

    // Each decision is logged at debug level with its reason.
    const decisions = t.mem.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'route.decision' && l.destination === `telegram:${GROUP}:42`);
    const reasons = new Map(decisions.map((d) => [String(d.article).replace(/.*\/noticia\/([^?]+).*/, '$1'), d.reason]));
    expect(reasons.get('esporte')).toBe('excluded by section "Esportes"');
    expect(reasons.get('horoscopo')).toBe('excluded by keyword "horóscopo" in title');
    expect(reasons.get('stfx')).toBe('matches no include rule');
    expect(reasons.get('stf')).toBe('included by pattern (?i)\\bSTF\\b');
  }, 40_000);
});
