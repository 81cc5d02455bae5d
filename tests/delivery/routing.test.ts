import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { Outbox, PRIORITY } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Routing, type RouteTarget } from '../../src/delivery/routing.js';
import { alertsForPlatform, alertsVersion, subscribersForTopics } from '../../src/store/subscribers.js';
import { addAlert } from '../../src/commands/repo.js';
import { AlertIndex, foldAlert } from '../../src/delivery/alerts.js';
import { addSubscription, upsertSubscriber } from '../../src/commands/repo.js';
import { rendererFor } from '../../src/render/renderer.js';
import type { Destination } from '../../src/delivery/types.js';
import type { Article } from '../../src/articles/article.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { tempDir } from '../e2e/helpers.js';

/** Routing over a real SQLite file: which destinations an article goes to, and the deliveries queued. */

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const FEED_A = 'https://a.example.com/feed';
const FEED_B = 'https://b.example.com/feed';

function article(over: Partial<Article> = {}): Article {
  return {
    id: 'guid:1',
    url: 'https://a.example.com/materia',
    title: 'Eleição no Congresso',
    lead: 'Um lead com palavras suficientes para a mensagem.',
    body: '',
    section: 'Política',
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: new Date('2026-12-01T10:00:00Z'),
    updatedAt: null,
    feedUrl: FEED_A,
    ...over,
  };
}

const NOW = new Date('2026-12-01T12:00:00Z');

async function world(dests: (Destination & { feeds?: string[] })[], opts: { privatePlatforms?: ('telegram' | 'whatsapp')[] } = {}) {
  const dir = tempDir('manchete-routing-');
  const store: Store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const destinations = new DestinationRegistry(store.db);
  const targets: RouteTarget[] = [];
  for (const d of dests) {
    await destinations.upsert(d);
    targets.push({ destinationId: d.id, feeds: d.options.feeds ?? null });
  }
  const outbox = new Outbox(store.db);
  let woken = 0;
  let alertLoads = 0;
  const routing = new Routing({
    destinations,
    outbox,
    renderer: rendererFor(loadConfig({})),
    logger: memoryLogger().logger,
    targets,
    subscribers: (platform, topics) => subscribersForTopics(store.db, platform, topics),
    alerts: (platform) => {
      alertLoads++;
      return alertsForPlatform(store.db, platform);
    },
    alertsVersion: () => alertsVersion(store.db),
    privatePlatforms: opts.privatePlatforms ?? ['telegram'],
    timeZone: 'UTC',
    editWindowMs: 48 * 3600_000,
    onQueued: () => woken++,
    clock: () => NOW,
  });
  return { store, destinations, outbox, routing, woken: () => woken, alertLoads: () => alertLoads };
}

const chat = (chatId: string, options: Destination['options'] = {}): Destination => ({ id: `telegram:${chatId}`, platform: 'telegram', chatId, threadId: null, options });
const ids = (list: { id: string }[]) => list.map((d) => d.id);

describe('Routing.destinationsFor', () => {
  it('sends an article only to destinations that take its feed', async () => {
    const w = await world([chat('@a', { feeds: [FEED_A] }), chat('@b', { feeds: [FEED_B] }), chat('@all')]);
    expect(ids(await w.routing.destinationsFor(article()))).toEqual(['telegram:@a', 'telegram:@all']);
    expect(ids(await w.routing.destinationsFor(article({ feedUrl: FEED_B })))).toEqual(['telegram:@b', 'telegram:@all']);
  });

  it('compares sections folded (no case, no accents)', async () => {
    const w = await world([chat('@pol', { sections: ['POLITICA'] }), chat('@esp', { sections: ['Esportes'] })]);
    expect(ids(await w.routing.destinationsFor(article({ section: 'política' })))).toEqual(['telegram:@pol']);
    expect(ids(await w.routing.destinationsFor(article({ section: null })))).toEqual([]);
  });

  it('applies include/exclude filters (delivery/filters.ts)', async () => {
    const w = await world([chat('@inc', { include: { keywords: ['congresso'] } }), chat('@exc', { exclude: { tags: ['Eleição'] } })]);
    expect(ids(await w.routing.destinationsFor(article({ tags: ['eleicao'] })))).toEqual(['telegram:@inc']);
    expect(ids(await w.routing.destinationsFor(article({ title: 'Chuva forte em SP', tags: [] })))).toEqual(['telegram:@exc']);
  });

  it('skips dead destinations, even when a push names them', async () => {
    const w = await world([chat('@a'), chat('@dead')]);
    await w.destinations.markDead('telegram:@dead', 'bot was kicked');
    expect(ids(await w.routing.destinationsFor(article()))).toEqual(['telegram:@a']);
    expect(ids(await w.routing.destinationsFor(article(), ['telegram:@dead']))).toEqual([]);
  });

  it('a private subscriber of two matching topics receives the article once, in their locale; inactive platforms get none', async () => {
    const w = await world([], { privatePlatforms: ['telegram'] });
    const sub = await upsertSubscriber(w.store.db, { platform: 'telegram', chatId: '42', locale: 'en', name: 'Ana' }, NOW);
    await addSubscription(w.store.db, sub, 'Política', NOW);
    await addSubscription(w.store.db, sub, 'Eleição', NOW);
    const wa = await upsertSubscriber(w.store.db, { platform: 'whatsapp', chatId: '5511@s.whatsapp.net', locale: 'pt-BR', name: null }, NOW);
    await addSubscription(w.store.db, wa, 'política', NOW);
    const got = await w.routing.destinationsFor(article({ tags: ['eleicao'] }));
    expect(ids(got)).toEqual(['telegram:42']);
    expect(got[0]!.options.locale).toBe('en');
    const queued = await w.routing.route(article({ tags: ['eleicao'] }), { priority: PRIORITY.article });
    expect(queued).toHaveLength(1);
  });

  it('`only` (a push) bypasses feeds, sections, filters and private subscribers', async () => {
    const w = await world([chat('@b', { feeds: [FEED_B], sections: ['Esportes'], exclude: { keywords: ['congresso'] } }), chat('@a')]);
    const sub = await upsertSubscriber(w.store.db, { platform: 'telegram', chatId: '42', locale: 'pt-BR', name: null }, NOW);
    await addSubscription(w.store.db, sub, 'Política', NOW);
    expect(ids(await w.routing.destinationsFor(article()))).toEqual(['telegram:@a', 'telegram:42']);
    expect(ids(await w.routing.destinationsFor(article(), ['telegram:@b']))).toEqual(['telegram:@b']);
  });
});

describe('Routing.route', () => {
  it('quiet hours give a notBefore at the end of the window; a push ignores them; a second route queues nothing', async () => {
    const w = await world([chat('@quiet', { quietHours: '11:00-14:30' }), chat('@open')]);
    const queued = await w.routing.route(article(), { priority: PRIORITY.article });
    expect(queued).toHaveLength(2);
    expect(w.woken()).toBe(1);
    const rows = await w.store.db.selectFrom('deliveries').selectAll().orderBy('destination_id').execute();
    const byDest = Object.fromEntries(rows.map((r) => [r.destination_id, r]));
    // The outbox stores notBefore as the row's first attempt time; without it that is the outbox's now.
    expect(byDest['telegram:@quiet']!.next_attempt_at).toBe('2026-12-01T14:30:00.000Z');
    expect(Date.parse(byDest['telegram:@open']!.next_attempt_at)).toBeLessThanOrEqual(Date.now());
    expect(await w.routing.route(article(), { priority: PRIORITY.article })).toEqual([]);
    expect(w.woken()).toBe(1);

    const pushed = await w.routing.route(article({ id: 'url:x' }), { priority: PRIORITY.push, only: ['telegram:@quiet'], ignoreQuietHours: true });
    const row = await w.store.db.selectFrom('deliveries').selectAll().where('id', '=', pushed[0]!).executeTakeFirstOrThrow();
    expect(Date.parse(row.next_attempt_at)).toBeLessThanOrEqual(Date.now());
    expect(row.priority).toBe(PRIORITY.push);
  });
});

describe('keyword alerts of private subscribers', () => {
  it('match whole words in title, lead and tags, without accents or case, phrases in order', () => {
    const sub = (id: string, phrase: string) => ({ id, platform: 'telegram' as const, chatId: id, locale: 'pt-BR' as const, folded: foldAlert(phrase) });
    const index = new AlertIndex([sub('a', 'Câmara dos Deputados'), sub('b', 'stf'), sub('c', 'eleicao'), sub('d', 'deputados dos')]);
    const who = (over: Partial<Article>) => index.match(article(over)).map((s) => s.id);
    expect(who({ title: 'A CAMARA DOS DEPUTADOS vota hoje', lead: '' })).toEqual(['a']);
    expect(who({ title: 'Ministro do STF fala', lead: '' })).toEqual(['b']);
    expect(who({ title: 'Nada aqui', lead: 'O stfx não é o tribunal', tags: [] })).toEqual([]);
    expect(who({ title: 'Nada', lead: '', tags: ['Eleição'] })).toEqual(['c']);
    // A phrase does not span two fields.
    expect(who({ title: 'Câmara dos', lead: 'Deputados', tags: [] })).toEqual([]);
  });

  it('a subscriber whose topic and two alerts all match gets the article once; others get nothing; alerts load once per batch', async () => {
    const w = await world([]);
    const fan = await upsertSubscriber(w.store.db, { platform: 'telegram', chatId: '501', locale: 'pt-BR', name: null }, NOW);
    await addSubscription(w.store.db, fan, 'Política', NOW);
    await addAlert(w.store.db, fan, 'Congresso', foldAlert('Congresso'), NOW);
    await addAlert(w.store.db, fan, 'eleição', foldAlert('eleição'), NOW);
    const other = await upsertSubscriber(w.store.db, { platform: 'telegram', chatId: '502', locale: 'en', name: null }, NOW);
    await addAlert(w.store.db, other, 'Senado', foldAlert('Senado'), NOW);
    const alertOnly = await upsertSubscriber(w.store.db, { platform: 'telegram', chatId: '503', locale: 'pt-BR', name: null }, NOW);
    await addAlert(w.store.db, alertOnly, 'congresso', foldAlert('congresso'), NOW);

    expect(ids(await w.routing.destinationsFor(article()))).toEqual(['telegram:501', 'telegram:503']);
    expect(ids(await w.routing.destinationsFor(article({ id: 'guid:2', title: 'Senado aprova', section: 'Economia' })))).toEqual(['telegram:502']);
    expect(ids(await w.routing.destinationsFor(article({ id: 'guid:3', title: 'Chuva no sul', section: 'Clima' })))).toEqual([]);
    expect(w.alertLoads()).toBe(1);
    // A new alert is seen by the next article (the version changed), then the index is reused again.
    await addAlert(w.store.db, other, 'chuva', foldAlert('chuva'), NOW);
    expect(ids(await w.routing.destinationsFor(article({ id: 'guid:4', title: 'Chuva no sul', section: 'Clima' })))).toEqual(['telegram:502']);
    expect(ids(await w.routing.destinationsFor(article({ id: 'guid:5', title: 'Chuva no norte', section: 'Clima' })))).toEqual(['telegram:502']);
    expect(w.alertLoads()).toBe(2);

    const queued = await w.routing.route(article(), { priority: PRIORITY.article });
    expect(queued).toHaveLength(2);
    const rows = await w.store.db.selectFrom('deliveries').select('destination_id').execute();
    expect(rows.map((r) => r.destination_id).sort()).toEqual(['telegram:501', 'telegram:503']);
  });
});
