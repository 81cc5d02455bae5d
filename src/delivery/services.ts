import type { Article } from '../articles/article.js';
import { foldTopic } from '../articles/fold.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/db.js';
import type { ArticleRepo } from '../store/articles.js';
import type { FeedRepo } from '../store/feeds.js';
import type { Renderer } from '../render/renderer.js';
import type { PlatformModule } from '../platforms/types.js';
import type { Outbox } from './outbox.js';
import type { DestinationRegistry } from './destinations.js';
import type { Dispatcher } from './dispatcher.js';
import type { RoutesFile } from './routes-file.js';
import type { Routing } from './routing.js';
import type { Digests } from './digests.js';
import { queuePush } from './push.js';
import { destinationLabel as label, feedsAndQueues, platformsNow } from './status.js';
import { PRIORITY, type DeliveryRow } from './outbox.js';
import { readArticlePage } from '../sources/page.js';
import { SourceError } from '../sources/types.js';
import { htmlToPlain } from '../render/telegram-html.js';
import {
  PushPrepareError,
  type CommandServices,
  type Notifier,
  type PushDestination,
  type PushProgress,
  type PushProgressListener,
  type StatusReport,
} from '../commands/services.js';

/**
 * The command router's services, implemented over the running app: page fetching and the outbox's
 * priority lane for pushes, the feeds and outbox tables for /status, the articles table for /latest.
 */

/** Delivery ids → the push they belong to, so the dispatcher's outcomes become progress reports. */
export class PushTracker {
  private readonly byDelivery = new Map<number, string>();
  private readonly pushes = new Map<string, { progress: PushProgress; listener: PushProgressListener }>();

  track(ids: number[], listener: PushProgressListener): PushProgress {
    const ticketId = `push-${ids[0] ?? 'empty'}`;
    const progress: PushProgress = { ticketId, total: ids.length, sent: 0, failed: 0, done: ids.length === 0 };
    for (const id of ids) this.byDelivery.set(id, ticketId);
    this.pushes.set(ticketId, { progress, listener });
    if (progress.done) listener({ ...progress });
    return progress;
  }

  /** The dispatcher's onSettled hook. */
  settled(row: DeliveryRow, status: 'sent' | 'failed' | 'dead'): void {
    const ticketId = this.byDelivery.get(row.id);
    if (!ticketId) return;
    this.byDelivery.delete(row.id);
    const p = this.pushes.get(ticketId);
    if (!p) return;
    if (status === 'sent') p.progress.sent++;
    else p.progress.failed++;
    p.progress.done = p.progress.sent + p.progress.failed >= p.progress.total;
    // One report when the push has finished everywhere, so the editor gets one message, not one per chat.
    if (!p.progress.done) return;
    this.pushes.delete(ticketId);
    try {
      p.listener({ ...p.progress });
    } catch {
      // A listener never breaks delivery bookkeeping.
    }
  }
}

/** What the services read and write: the stores and stages, never the app object itself. */
export interface AppServicesDeps {
  config: Pick<Config, 'fetch' | 'summaryMaxChars'>;
  logger: Logger;
  store: Store;
  renderer: Renderer;
  outbox: Outbox;
  destinations: DestinationRegistry;
  articles: ArticleRepo;
  feeds: FeedRepo;
  /** Where an article goes (delivery/routing.ts): the `/push` preview lists it, the push queues through it. */
  routing: Pick<Routing, 'destinationsFor' | 'route'>;
  dispatcher: Pick<Dispatcher, 'wake' | 'breakers'>;
  routes: RoutesFile;
  platforms: readonly Pick<PlatformModule, 'platform' | 'destinations' | 'state'>[];
  /** Digests (delivery/digests.ts): `/resumo` previews and sends through them. */
  digests: Pick<Digests, 'targets' | 'build' | 'next' | 'sendNow'>;
}

export function createAppServices(app: AppServicesDeps, tracker: PushTracker, notifier: Notifier): CommandServices {
  const destinationsList = async (): Promise<PushDestination[]> =>
    (await app.destinations.list())
      .filter((d) => d.status === 'active' && app.platforms.some((p) => p.destinations.some((x) => x.id === d.id)))
      .map((d) => ({ id: d.id, label: label(d) }));

  /** Article id → URL of pages prepared for a push (not yet recorded), for the "already pushed" check. */
  const preparedUrls = new Map<string, string>();
  const digestDestinations = async (): Promise<PushDestination[]> => {
    const out: PushDestination[] = [];
    for (const id of app.digests.targets) {
      const d = await app.destinations.get(id);
      if (d && d.status === 'active') out.push({ id: d.id, label: label(d) });
    }
    return out;
  };
  return {
    notifier,
    digest: {
      destinations: digestDestinations,
      async preview(destinationId) {
        const built = await app.digests.build(destinationId);
        if (!built) throw new Error(`${destinationId} has no digests`);
        const text = built.payload.map((m) => (built.destination.platform === 'telegram' ? htmlToPlain(m.text) : m.text)).join('\n\n');
        return {
          destination: { id: built.destination.id, label: label(built.destination) },
          articles: built.articles.length,
          waiting: built.waiting,
          text,
          cutoff: built.cutoff,
          nextAt: await app.digests.next(destinationId),
        };
      },
      send: (destinationId, cutoff, actor) => app.digests.sendNow(destinationId, cutoff, actor),
    },
    push: {
      async prepare(url, { platform, locale }) {
        let article: Article | null;
        try {
          // An editor's /push URL is chat input: hostile (trusted stays false).
          article = await readArticlePage(url, { fetch: { ...app.config.fetch, trusted: false }, summaryMaxChars: app.config.summaryMaxChars });
        } catch (err) {
          if (err instanceof SourceError && err.details.kind === 'blocked')
            app.logger.warn({ event: 'fetch.blocked', url, reason: err.message }, err.message);
          throw new PushPrepareError(url, (err as Error).message);
        }
        if (!article) throw new PushPrepareError(url, locale === 'pt-BR' ? 'a página não tem título de matéria' : 'the page has no article title');
        preparedUrls.set(article.id, article.url);
        if (preparedUrls.size > 200) preparedUrls.delete(preparedUrls.keys().next().value!);
        const rendered = app.renderer.render(article, platform, { locale });
        const text = rendered.map((m) => (platform === 'telegram' ? htmlToPlain(m.text) : m.text)).join('\n\n');
        const dests = await app.routing.destinationsFor(article);
        const configured = new Set((await destinationsList()).map((d) => d.id));
        return {
          articleId: article.id,
          url: article.url,
          title: article.title,
          text,
          destinations: dests.filter((d) => configured.has(d.id)).map((d) => ({ id: d.id, label: label(d) })),
          article,
        };
      },
      async enqueue(preview, destinationIds, requester, onProgress) {
        const ids = await queuePush({ db: app.store.db, articles: app.articles, routing: app.routing }, preview.article, destinationIds, requester.actor);
        const progress = tracker.track(ids, onProgress);
        app.dispatcher.wake();
        return { id: progress.ticketId, total: ids.length };
      },
      async lastPushed(articleId) {
        // A page's id is `url:…` while the same story from the feed is `guid:…`: match on the URL too.
        const url = preparedUrls.get(articleId) ?? (await app.articles.get(articleId))?.url;
        const ids = url ? (await app.store.db.selectFrom('articles').select('id').where('url', '=', url).execute()).map((r) => r.id) : [];
        const row = await app.store.db
          .selectFrom('deliveries')
          .select(['sent_at', 'priority', 'created_at', 'article_id'])
          .where('article_id', 'in', [articleId, ...ids])
          .where('kind', '=', 'article')
          .where('status', 'in', ['sent', 'pending', 'sending'])
          .orderBy('created_at', 'desc')
          .executeTakeFirst();
        if (!row) return null;
        let by = 'auto';
        if (row.priority >= PRIORITY.push) {
          const audit = await app.store.db
            .selectFrom('audit_log')
            .select('actor')
            .where('action', '=', 'push.enqueued')
            .where('article_id', '=', row.article_id)
            .orderBy('id', 'desc')
            .executeTakeFirst();
          by = audit?.actor ?? 'editor';
        }
        return { at: new Date(row.sent_at ?? row.created_at), by };
      },
      destinations: destinationsList,
    },
    status: {
      async status(): Promise<StatusReport> {
        // Feeds and queues as /health and /metrics see them (delivery/status.ts).
        const { feeds, queues } = await feedsAndQueues(app);
        const dests = await app.destinations.list();
        const recent = await app.store.db
          .selectFrom('deliveries')
          .leftJoin('articles', 'articles.id', 'deliveries.article_id')
          .select(['deliveries.sent_at', 'deliveries.destination_id', 'articles.title'])
          .where('deliveries.status', '=', 'sent')
          .orderBy('deliveries.sent_at', 'desc')
          .limit(5)
          .execute();
        const byId = new Map(dests.map((d) => [d.id, d]));
        return {
          feeds,
          queues,
          lastSends: recent.map((r) => ({
            at: new Date(r.sent_at ?? 0),
            destinationId: r.destination_id,
            label: byId.get(r.destination_id) ? label(byId.get(r.destination_id)!) : r.destination_id,
            title: r.title ?? null,
          })),
          // The same platform lines as /health and /metrics (delivery/status.ts).
          platforms: platformsNow(app).platforms.map(({ platform, state, degraded: b }) => ({
            platform,
            state,
            degraded: b ? { since: b.since === null ? null : new Date(b.since), probes: b.probes, reason: b.reason } : null,
          })),
        };
      },
    },
    topics: {
      async topics() {
        const names = [...app.routes.topics, ...app.routes.destinations.flatMap((d) => d.options.sections ?? []), ...(await app.articles.sections())];
        const seen = new Map<string, string>();
        for (const n of names) {
          const key = foldTopic(n);
          if (key && !seen.has(key)) seen.set(key, n);
        }
        return [...seen].map(([key, label]) => ({ key, label }));
      },
    },
    latest: {
      latest: (topicKey, n) =>
        app.articles.latest(n, topicKey ? (a) => [a.section, ...a.tags].some((t) => t && foldTopic(t) === topicKey) : undefined),
    },
  };
}
