import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ArticleRepo } from '../../src/store/articles.js';
import { DigestRaceError, DigestRepo } from '../../src/store/digests.js';
import { Outbox, PRIORITY, type QueueEntry } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { Routing, type RouteTarget } from '../../src/delivery/routing.js';
import { Digests, hasDigests } from '../../src/delivery/digests.js';
import { HourlyCaps } from '../../src/delivery/caps.js';
import { loadRoutesFile, parseRoutes } from '../../src/delivery/routes-file.js';
import { rendererFor } from '../../src/render/renderer.js';
import { measureTelegramHtml } from '../../src/render/telegram-html.js';
import type { Destination, DestinationOptions } from '../../src/delivery/types.js';
import type { Article } from '../../src/articles/article.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';
import { tempDir } from '../e2e/helpers.js';
import { postgresUnavailable, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

/** Digests and hourly caps over a real SQLite file and the real renderer and templates. */

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const TZ = 'America/Sao_Paulo';
/** 07:00 in São Paulo on 2 Dec 2026. */
const SLOT = new Date('2026-12-02T10:00:00Z');

function article(n: number, over: Partial<Article> = {}): Article {
  return {
    id: `guid:${n}`,
    url: `https://site.example/noticia/${n}`,
    title: `Notícia ${n}`,
    lead: 'Um lead com palavras suficientes para a mensagem.',
    body: '',
    section: n % 2 ? 'Política' : 'Economia',
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: new Date(SLOT.getTime() - 10 * 3_600_000 + n * 60_000),
    updatedAt: null,
    feedUrl: 'https://site.example/feed',
    ...over,
  };
}

const dest = (chat: string, options: DestinationOptions): Destination => ({ id: `telegram:${chat}`, platform: 'telegram', chatId: chat, threadId: null, options });

async function world(dests: Destination[], opts: { capWindowMs?: number; databaseUrl?: string } = {}) {
  const dir = tempDir('manchete-digests-');
  const store: Store = await openStore(opts.databaseUrl ?? `sqlite:${join(dir, 'db.sqlite')}`);
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let now = new Date(SLOT.getTime() - 3_600_000);
  const clock = () => now;
  const destinations = new DestinationRegistry(store.db, clock);
  const targets: RouteTarget[] = [];
  for (const d of dests) {
    await destinations.upsert(d);
    targets.push({ destinationId: d.id, feeds: null });
  }
  const outbox = new Outbox(store.db, clock);
  const articles = new ArticleRepo(store.db, clock);
  const mem = memoryLogger();
  const caps = new HourlyCaps({ db: store.db, logger: mem.logger, clock: () => now.getTime(), ...(opts.capWindowMs ? { windowMs: opts.capWindowMs } : {}) });
  const renderer = rendererFor(loadConfig({ TZ }));
  const makeDigests = () =>
    new Digests({ repo: new DigestRepo(store.db), outbox, destinations, articles, renderer, logger: mem.logger, timeZone: TZ, targets: dests.filter(hasDigests).map((d) => d.id), clock });
  const digests = makeDigests();
  const routing = new Routing({ destinations, outbox, renderer, logger: mem.logger, targets, timeZone: TZ, editWindowMs: 86_400_000, digests, caps, clock });
  const post = async (a: Article) => {
    await articles.put(a);
    return routing.route(a, { priority: PRIORITY.article });
  };
  const rows = async (destinationId: string) =>
    store.db.selectFrom('deliveries').selectAll().where('destination_id', '=', destinationId).orderBy('id').execute();
  return { store, outbox, articles, digests, makeDigests, routing, caps, post, rows, mem, at: (d: Date) => (now = d), now: () => now };
}

describe('routes file: mode, digest, maxPerHour', () => {
  const parse = (yaml: string) => parseRoutes(`destinations:\n  - platform: telegram\n    chat: "@canal"\n${yaml}`);

  it('reads them, with defaults (max 10, times normalised and sorted)', () => {
    const r = parse(`    mode: both\n    digest: { at: ["18:30", "7:00"], title: "Resumo da manhã", sections: [Política] }\n    maxPerHour: 3\n`);
    expect(r.destinations[0]!.options).toMatchObject({ mode: 'both', maxPerHour: 3, digest: { at: ['07:00', '18:30'], max: 10, title: 'Resumo da manhã', sections: ['Política'] } });
    expect(parse('    maxPerHour: 5\n').destinations[0]!.options).toEqual({ maxPerHour: 5 });
    expect(parse('    mode: live\n').destinations[0]!.options.mode).toBeUndefined();
  });

  it('examples/routes.yaml shows each of them in use', () => {
    const r = loadRoutesFile(new URL('../../examples/routes.yaml', import.meta.url).pathname);
    const o = r.destinations.map((d) => d.options);
    expect(o.some((x) => x.mode === 'both' && x.maxPerHour && x.digest?.at.length === 2)).toBe(true);
    expect(o.some((x) => x.mode === 'digest' && x.digest?.sections?.length && x.digest.title)).toBe(true);
  });

  it('refuses what makes no sense, naming the entry and what to write', () => {
    expect(() => parse('    mode: digest\n')).toThrow(/destinations\.0 \(telegram @canal\): mode: digest needs digest: \{ at: \["07:00"\] \}/);
    expect(() => parse('    digest: { at: ["07:00"] }\n')).toThrow(/digest: is set but mode is live.*mode: digest.*mode: both/);
    expect(() => parse('    mode: digest\n    digest: { at: ["25:00"] }\n')).toThrow(/destinations\.0\.digest\.at\.0: "25:00" is not a time of day; write it as "HH:MM"/);
    expect(() => parse('    mode: digest\n    digest: { at: [700] }\n')).toThrow(/700 is not a time of day/);
    expect(() => parse('    mode: digest\n    digest: { at: [] }\n')).toThrow(/digest.at needs at least one time/);
    expect(() => parse('    mode: digest\n    digest: { at: ["07:00"], max: 0 }\n')).toThrow(/digest.max must be at least 1/);
    expect(() => parse('    mode: digest\n    digest: { at: ["07:00"], max: 2.5 }\n')).toThrow(/digest.max must be a whole number/);
    expect(() => parse('    mode: digest\n    digest: { at: ["07:00"], maxi: 5 }\n')).toThrow(/maxi/);
    expect(() => parse('    mode: weekly\n')).toThrow(/mode is live, digest or both/);
    expect(() => parse('    maxPerHour: 0\n')).toThrow(/maxPerHour must be at least 1/);
    expect(() => parse('    maxPerHour: "três"\n')).toThrow(/maxPerHour must be a whole number/);
  });
});

describe('digests', () => {
  const digestOnly = dest('@resumo', { mode: 'digest', digest: { at: ['07:00', '18:30'], max: 3, title: 'Resumo da manhã' } });
  const both = dest('@ambos', { mode: 'both', digest: { at: ['07:00'], max: 10, sections: ['politica'] } });
  const live = dest('@aovivo', {});

  it('collects by mode: digest is not posted live, both is posted and collected (its sections only), live is only posted', async () => {
    const w = await world([digestOnly, both, live]);
    for (let n = 1; n <= 4; n++) await w.post(article(n));
    expect(await w.rows(digestOnly.id)).toHaveLength(0);
    expect(await w.rows(both.id)).toHaveLength(4);
    expect(await w.rows(live.id)).toHaveLength(4);
    const waiting = async (id: string) => (await w.store.db.selectFrom('digest_items').select('article_id').where('destination_id', '=', id).orderBy('article_id').execute()).map((r) => r.article_id);
    expect(await waiting(digestOnly.id)).toEqual(['guid:1', 'guid:2', 'guid:3', 'guid:4']);
    expect(await waiting(both.id)).toEqual(['guid:1', 'guid:3']); // Política only
    expect(await waiting(live.id)).toEqual([]);
    // Routed again (a resume after a crash): nothing collected or queued twice.
    await w.routing.route(article(1), { priority: PRIORITY.article });
    expect(await waiting(digestOnly.id)).toHaveLength(4);
    // An editor's push to a digest-only destination goes out live.
    await w.routing.route(article(9), { priority: PRIORITY.push, only: [digestOnly.id] });
    expect(await w.rows(digestOnly.id)).toHaveLength(1);
  });

  it('builds newest first, at most max, one link each, with the title; nothing waiting builds nothing', async () => {
    const w = await world([digestOnly]);
    expect((await w.digests.build(digestOnly.id))!.payload).toEqual([]);
    // Published out of order; one undated (counts at its collection time, the latest).
    await w.post(article(2));
    await w.post(article(5));
    await w.post(article(1));
    await w.post(article(4, { publishedAt: null }));
    await w.post(article(3));
    const d = (await w.digests.build(digestOnly.id))!;
    expect(d.waiting).toBe(5);
    expect(d.articles.map((a) => a.id)).toEqual(['guid:4', 'guid:5', 'guid:3']);
    expect(d.payload).toHaveLength(1);
    const text = d.payload[0]!.text;
    expect(text.startsWith('<b>Resumo da manhã</b>')).toBe(true);
    const links = [...text.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[1]!.replace(/\?.*/, ''), m[2]]);
    expect(links).toEqual([
      ['https://site.example/noticia/4', 'Notícia 4'],
      ['https://site.example/noticia/5', 'Notícia 5'],
      ['https://site.example/noticia/3', 'Notícia 3'],
    ]);
    expect(text).toContain('utm_source=telegram');
  });

  it('splits a long digest to fit the platform', async () => {
    const big = dest('@grande', { mode: 'digest', digest: { at: ['07:00'], max: 60 } });
    const w = await world([big]);
    for (let n = 1; n <= 60; n++) await w.post(article(n, { title: `Notícia ${n} ${'com um título bem comprido para encher a mensagem '.repeat(2)}` }));
    const d = (await w.digests.build(big.id))!;
    expect(d.articles).toHaveLength(60);
    expect(d.payload.length).toBeGreaterThan(1);
    for (const m of d.payload) expect(measureTelegramHtml(m.text).length).toBeLessThanOrEqual(4096);
    expect(d.payload.map((m) => (m.text.match(/<a href=/g) ?? []).length).reduce((a, b) => a + b)).toBe(60);
  });

  it('a slot sends one digest of what was routed since the previous one; never twice, not even from a fresh process', async () => {
    const w = await world([digestOnly]);
    for (let n = 1; n <= 2; n++) await w.post(article(n));
    w.at(new Date(SLOT.getTime() - 60_000));
    expect(await w.digests.tick()).toBe(0); // 06:59: not yet
    w.at(SLOT);
    expect(await w.digests.tick()).toBe(1);
    expect(await w.digests.tick()).toBe(0);
    // A restart: a new service with an empty cache reads the slot from the database.
    w.at(new Date(SLOT.getTime() + 5 * 60_000));
    expect(await w.makeDigests().tick()).toBe(0);
    const rows = await w.rows(digestOnly.id);
    expect(rows.map((r) => [r.kind, r.priority, r.next_attempt_at])).toEqual([['digest', PRIORITY.article, SLOT.toISOString()]]);
    // Later articles go in the next slot (18:30); none of the first ones again.
    await w.post(article(3));
    const evening = new Date('2026-12-02T21:30:00Z');
    w.at(evening);
    expect(await w.digests.tick()).toBe(1);
    const [, second] = await w.rows(digestOnly.id);
    expect(second!.payload).toContain('Notícia 3');
    expect(second!.payload).not.toContain('Notícia 1<');
    // Nothing routed since: the next slot sends nothing, and is recorded as handled.
    w.at(new Date('2026-12-03T10:00:00Z'));
    expect(await w.digests.tick()).toBe(0);
    expect(await w.rows(digestOnly.id)).toHaveLength(2);
    const slots = await w.store.db.selectFrom('digest_slots').selectAll().orderBy('slot').execute();
    expect(slots.map((s) => [s.slot, s.articles, s.delivery_id !== null])).toEqual([
      ['2026-12-01T21:30:00.000Z', 0, false], // the evening before, seen at 06:59: too old to send, recorded as missed
      [SLOT.toISOString(), 2, true],
      [evening.toISOString(), 1, true],
      ['2026-12-03T10:00:00.000Z', 0, false],
    ]);
  });

  it('a slot due less than an hour ago is sent at start; older ones are not sent late, their articles wait', async () => {
    const w = await world([digestOnly]);
    await w.post(article(1));
    w.at(new Date(SLOT.getTime() + 59 * 60_000));
    expect(await w.makeDigests().tick()).toBe(1);

    const w2 = await world([digestOnly]);
    await w2.post(article(1));
    w2.at(new Date(SLOT.getTime() + 61 * 60_000));
    expect(await w2.makeDigests().tick()).toBe(0);
    expect(w2.mem.lines.some((l) => l.includes('"event":"digest.missed"'))).toBe(true);
    expect(await w2.rows(digestOnly.id)).toHaveLength(0);
    w2.at(new Date('2026-12-02T21:30:00Z'));
    expect(await w2.digests.tick()).toBe(1);
    expect((await w2.rows(digestOnly.id))[0]!.payload).toContain('Notícia 1');
  });

  it('a crash between queueing and recording cannot happen: the slot row and the delivery commit together', async () => {
    const w = await world([digestOnly]);
    await w.post(article(1));
    w.at(SLOT);
    // The slot was recorded (by a process that then died, say): the unique key refuses a second one.
    await w.outbox.enqueue([], (trx) =>
      new DigestRepo(w.store.db).record(trx, { destinationId: digestOnly.id, slot: SLOT.toISOString(), kind: 'scheduled', deliveryId: null, shown: [], cutoff: new Date(0), actor: null, at: SLOT }),
    );
    expect(await w.makeDigests().tick()).toBe(0);
    expect(await w.rows(digestOnly.id)).toHaveLength(0);
    // A record that fails rolls the delivery back with it.
    await expect(
      w.outbox.enqueue([{ articleId: null, destinationId: digestOnly.id, kind: 'digest', priority: 0, payload: [{ kind: 'text', text: 'x' }] }], (trx) =>
        new DigestRepo(w.store.db).record(trx, { destinationId: digestOnly.id, slot: SLOT.toISOString(), kind: 'scheduled', deliveryId: 1, shown: [], cutoff: SLOT, actor: null, at: SLOT }),
      ),
    ).rejects.toThrow();
    expect(await w.rows(digestOnly.id)).toHaveLength(0);
    // Articles another digest took are refused too (DigestRaceError), so none is listed twice.
    await expect(
      w.outbox.enqueue([], async (trx) => {
        const repo = new DigestRepo(w.store.db);
        await repo.record(trx, { destinationId: digestOnly.id, slot: 'manual:a', kind: 'manual', deliveryId: null, shown: ['guid:1'], cutoff: SLOT, actor: 'x', at: SLOT });
        await repo.record(trx, { destinationId: digestOnly.id, slot: 'manual:b', kind: 'manual', deliveryId: null, shown: ['guid:1'], cutoff: SLOT, actor: 'x', at: SLOT });
      }),
    ).rejects.toBeInstanceOf(DigestRaceError);
  });

  it('quiet hours hold a scheduled digest; an editor sends one now, past them, and its articles are not repeated', async () => {
    const quiet = dest('@quieto', { mode: 'digest', digest: { at: ['07:00'], max: 10 }, quietHours: '06:00-08:00' });
    const w = await world([quiet]);
    await w.post(article(1));
    w.at(SLOT);
    expect(await w.digests.tick()).toBe(1);
    expect((await w.rows(quiet.id))[0]!.next_attempt_at).toBe('2026-12-02T11:00:00.000Z'); // 08:00 local
    await w.post(article(2));
    const sent = await w.digests.sendNow(quiet.id, w.now(), 'telegram:42');
    expect(sent).toEqual({ deliveryId: expect.any(Number), articles: 1 });
    const manual = (await w.rows(quiet.id))[1]!;
    expect([manual.priority, manual.next_attempt_at]).toEqual([PRIORITY.push, SLOT.toISOString()]);
    expect(manual.payload).toContain('Notícia 2');
    expect(manual.payload).not.toContain('Notícia 1<');
    expect(await w.digests.sendNow(quiet.id, w.now(), 'telegram:42')).toBeNull(); // nothing left
  });
});

describe('hourly caps', () => {
  const row = (over: Partial<QueueEntry> = {}): QueueEntry => ({ id: 1, destination_id: 'telegram:@c', kind: 'article', priority: PRIORITY.article, next_attempt_at: '', ...over });

  it('holds an automatic post once N were sent in the rolling window, until the oldest leaves it; pushes, edits and digests never', async () => {
    const w = await world([]);
    const d = { ...dest('@c', { maxPerHour: 3 }), status: 'active' as const, statusReason: null, title: null, kind: null };
    const t0 = 1_000_000;
    for (const t of [t0, t0 + 10 * 60_000, t0 + 20 * 60_000]) {
      expect(w.caps.holdFor(row(), d, t)).toBe(0);
      w.caps.sent({ destination_id: d.id, kind: 'article', priority: 0 }, t);
    }
    expect(w.caps.holdFor(row(), d, t0 + 30 * 60_000)).toBe(30 * 60_000);
    expect(w.caps.holdFor(row({ kind: 'edit', priority: PRIORITY.edit }), d, t0 + 30 * 60_000)).toBe(0);
    expect(w.caps.holdFor(row({ priority: PRIORITY.push }), d, t0 + 30 * 60_000)).toBe(0);
    expect(w.caps.holdFor(row({ kind: 'digest' }), d, t0 + 30 * 60_000)).toBe(0);
    // A push sent meanwhile does not count.
    w.caps.sent({ destination_id: d.id, kind: 'article', priority: PRIORITY.push }, t0 + 40 * 60_000);
    expect(w.caps.holdFor(row(), d, t0 + 60 * 60_000)).toBe(0);
    w.caps.sent({ destination_id: d.id, kind: 'article', priority: 0 }, t0 + 60 * 60_000);
    expect(w.caps.holdFor(row(), d, t0 + 61 * 60_000)).toBe(9 * 60_000);
    // Uncapped destinations never wait.
    expect(w.caps.holdFor(row(), { ...d, options: {} }, t0)).toBe(0);
    expect(w.mem.lines.filter((l) => l.includes('"event":"delivery.capped"'))).toHaveLength(2);
  });

  it('a restart keeps the window: sends of the last hour are read back from the outbox', async () => {
    const w = await world([dest('@c', { maxPerHour: 2 })]);
    for (let n = 1; n <= 3; n++) await w.post(article(n));
    const ids = (await w.rows('telegram:@c')).map((r) => r.id);
    await w.outbox.markSent(ids[0]!, ['1']);
    await w.outbox.markSent(ids[1]!, ['2']);
    const d = { ...dest('@c', { maxPerHour: 2 }), status: 'active' as const, statusReason: null, title: null, kind: null };
    await w.caps.load();
    expect(w.caps.holdFor(row({ destination_id: d.id }), d, w.now().getTime())).toBe(3_600_000);
  });

  it('a capped destination with digests gets N live posts per window; the rest only in its digest', async () => {
    const capped = dest('@capado', { mode: 'both', digest: { at: ['07:00'], max: 10 }, maxPerHour: 3 });
    const w = await world([capped], { capWindowMs: 3_600_000 });
    for (let n = 1; n <= 5; n++) await w.post(article(n));
    const live = await w.rows(capped.id);
    expect(live.map((r) => r.article_id)).toEqual(['guid:1', 'guid:2', 'guid:3']);
    expect(w.mem.lines.filter((l) => l.includes('"to":"digest"'))).toHaveLength(2);
    // Two sent, one still queued, more than an hour later: the sent ones left the window, the queued one counts.
    await w.outbox.markSent(live[0]!.id, ['1']);
    await w.outbox.markSent(live[1]!.id, ['2']);
    w.at(new Date(w.now().getTime() + 61 * 60_000));
    await w.post(article(6));
    await w.post(article(7));
    await w.post(article(8));
    expect((await w.rows(capped.id)).map((r) => r.article_id)).toEqual(['guid:1', 'guid:2', 'guid:3', 'guid:6', 'guid:7']);
    // The digest lists every article routed there, the ones that did not fit included.
    w.at(new Date('2026-12-03T10:00:00Z'));
    expect(await w.digests.tick()).toBe(1);
    const digest = (await w.rows(capped.id)).find((r) => r.kind === 'digest')!;
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) expect(digest.payload).toContain(`Notícia ${n}<`);
  });
});

describe.skipIf(postgresUnavailable !== null)(`digests and caps on PostgreSQL${postgresUnavailable ? ` (skipped: ${postgresUnavailable})` : ''}`, () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('the same queries: newest first, one digest per slot across restarts, a slot taken twice refused, caps counted', async () => {
    const d = dest('@pg', { mode: 'both', digest: { at: ['07:00'], max: 2 }, maxPerHour: 1 });
    const w = await world([d], { databaseUrl: await cluster.createDatabase('digests') });
    await w.post(article(1));
    await w.post(article(3, { publishedAt: null }));
    await w.post(article(2));
    expect((await w.rows(d.id)).map((r) => r.article_id)).toEqual(['guid:1']); // the cap: one live, the rest in the digest
    expect((await w.digests.build(d.id))!.articles.map((a) => a.id)).toEqual(['guid:3', 'guid:2']);
    w.at(SLOT);
    expect(await w.digests.tick()).toBe(1);
    expect(await w.makeDigests().tick()).toBe(0);
    await expect(
      w.outbox.enqueue([], (trx) =>
        new DigestRepo(w.store.db).record(trx, { destinationId: d.id, slot: SLOT.toISOString(), kind: 'scheduled', deliveryId: null, shown: [], cutoff: SLOT, actor: null, at: SLOT }),
      ),
    ).rejects.toThrow();
    expect(await new DigestRepo(w.store.db).lastScheduled(d.id)).toBe(SLOT.getTime());
    expect((await w.rows(d.id)).filter((r) => r.kind === 'digest')).toHaveLength(1);
  }, 60_000);
});
