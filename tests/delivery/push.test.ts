import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ArticleRepo } from '../../src/store/articles.js';
import { FeedRepo } from '../../src/store/feeds.js';
import { Outbox, PRIORITY } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Pipeline } from '../../src/delivery/ingest.js';
import { queuePush } from '../../src/delivery/push.js';
import { rendererFor } from '../../src/render/renderer.js';
import type { Article } from '../../src/articles/article.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { tempDir } from '../e2e/helpers.js';

/** The one push path, over a real SQLite file: what it records, queues and audits. */

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const article: Article = {
  id: 'url:https://example.com/urgente',
  url: 'https://example.com/urgente',
  title: 'Notícia urgente',
  lead: 'Um lead com palavras suficientes para a mensagem.',
  body: '',
  section: 'Mundo',
  tags: [],
  imageUrl: null,
  imageCaption: null,
  imageCredit: null,
  author: null,
  publishedAt: new Date('2026-12-01T10:00:00Z'),
  updatedAt: null,
  feedUrl: null,
};

async function world(): Promise<{ store: Store; pipeline: Pipeline; articles: ArticleRepo; outbox: Outbox }> {
  const dir = tempDir('manchete-push-');
  const store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = loadConfig({});
  const destinations = new DestinationRegistry(store.db);
  // Quiet hours all day: a push must go out anyway.
  for (const chatId of ['@a', '@b']) await destinations.upsert({ id: `telegram:${chatId}`, platform: 'telegram', chatId, threadId: null, options: { quietHours: '00:00-23:59' } });
  const articles = new ArticleRepo(store.db);
  const outbox = new Outbox(store.db);
  const pipeline = new Pipeline({
    feeds: new FeedRepo(store.db),
    articles,
    outbox,
    destinations,
    renderer: rendererFor(config),
    logger: memoryLogger().logger,
    targets: [{ destinationId: 'telegram:@a', feeds: null }, { destinationId: 'telegram:@b', feeds: null }],
    feedSettings: new Map(),
    pollIntervalMs: config.pollIntervalMs,
    backfill: 0,
    summaryMaxChars: 300,
    editWindowMs: config.editWindowMs,
    timeZone: 'UTC',
    fetch: config.fetch,
  });
  return { store, pipeline, articles, outbox };
}

describe('queuePush', () => {
  it('records the article, queues the named destinations only, ahead of the queue and past quiet hours, and audits who', async () => {
    const { store, pipeline, articles } = await world();
    const ids = await queuePush({ db: store.db, articles, routing: pipeline.routing }, article, ['telegram:@b'], 'cli');
    expect(ids).toHaveLength(1);
    expect((await articles.get(article.id))?.title).toBe('Notícia urgente');
    const rows = await store.db.selectFrom('deliveries').selectAll().execute();
    expect(rows.map((r) => [r.destination_id, r.priority])).toEqual([['telegram:@b', PRIORITY.push]]);
    // Due now, not at the end of the destination's quiet hours.
    expect(Date.parse(rows[0]!.next_attempt_at)).toBeLessThanOrEqual(Date.now());
    const audit = await store.db.selectFrom('audit_log').selectAll().execute();
    expect(audit.map((a) => [a.actor, a.action, a.article_id, a.detail, a.outcome])).toEqual([
      ['cli', 'push.enqueued', article.id, `${article.url} → telegram:@b`, '1 deliveries'],
    ]);
  });
});
