import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { openStore, type Db } from '../store/db.js';
import type { Article } from '../articles/article.js';
import { ArticleRepo } from '../store/articles.js';
import { Outbox, PRIORITY } from './outbox.js';
import { DestinationRegistry } from './destinations.js';
import { EMPTY_ROUTES, loadRoutesFile } from './routes-file.js';
import { rendererFor } from '../render/renderer.js';
import { readArticlePage } from '../sources/page.js';
import { Routing } from './routing.js';
import { createPlatformModules } from '../platforms/index.js';

/**
 * The one push path, for an editor in a chat and the operator's command line alike: record the article,
 * queue one delivery per named destination ahead of the regular queue (quiet hours do not apply: someone
 * chose to send it now), and write one audit line saying who (`cli` for the command line). Returns the
 * delivery ids.
 */
export async function queuePush(
  deps: { db: Db; articles: ArticleRepo; routing: Pick<Routing, 'route'> },
  article: Article,
  destinationIds: string[],
  actor: string,
): Promise<number[]> {
  const version = await deps.articles.put(article);
  const ids = await deps.routing.route(article, { priority: PRIORITY.push, only: destinationIds, version, ignoreQuietHours: true });
  // `lastPushed` finds who pushed an article by its `article_id`.
  await deps.db
    .insertInto('audit_log')
    .values({ actor, action: 'push.enqueued', article_id: article.id, detail: `${article.url} → ${destinationIds.join(', ')}`, outcome: `${ids.length} deliveries`, created_at: new Date().toISOString() })
    .execute();
  return ids;
}

/**
 * `manchete push <url> [destination…]`: the operator's push from a shell. It reads the page, records the
 * article and queues one delivery per destination ahead of the regular queue; the running instance's
 * dispatcher sends them (within a second). Destinations are named by id (`telegram:@canal`) or chat
 * (`@canal`); none means every configured destination that takes the article.
 */
export async function pushFromCli(config: Config, url: string, names: string[], logger: Logger): Promise<string> {
  const routes = config.routesFile ? loadRoutesFile(config.routesFile) : EMPTY_ROUTES;
  const modules = await createPlatformModules(config, logger, routes);
  const configured = modules.flatMap((m) => m.destinations);
  if (configured.length === 0) throw new Error('no destination is configured: set TELEGRAM_CHATS or WHATSAPP_CHATS (see .env.example)');
  const only = names.map((n) => {
    const d = configured.find((x) => x.id === n || x.chatId === n || `${x.chatId}:${x.threadId}` === n);
    if (!d) throw new Error(`"${n}" is not a configured destination; configured: ${configured.map((x) => x.id).join(', ')}`);
    return d.id;
  });
  // `manchete push <url>` is the operator's command line: trusted like FEED_URLS (redirects are not).
  const article = await readArticlePage(url, { fetch: { ...config.fetch, trusted: true }, summaryMaxChars: config.summaryMaxChars });
  if (!article) throw new Error(`${url} has no article title (og:title or <title>); nothing to push`);
  const store = await openStore(config.databaseUrl);
  try {
    const destinations = new DestinationRegistry(store.db);
    for (const d of configured) await destinations.upsert(d, false);
    const articles = new ArticleRepo(store.db);
    const routing = new Routing({
      destinations,
      outbox: new Outbox(store.db),
      renderer: rendererFor(config),
      logger,
      targets: configured.map((d) => ({ destinationId: d.id, feeds: null })),
      timeZone: config.timeZone,
      editWindowMs: config.editWindowMs,
    });
    const targets = only.length ? only : (await routing.destinationsFor(article)).map((d) => d.id);
    const ids = await queuePush({ db: store.db, articles, routing }, article, targets, 'cli');
    return `queued "${article.title}" for ${ids.length} destination(s): ${targets.join(', ')}; the running Manchete sends it next`;
  } finally {
    await store.close();
  }
}
