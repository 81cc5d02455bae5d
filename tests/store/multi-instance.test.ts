import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { FeedClaims, reclaimExpiredDeliveries, renewDeliveryClaims } from '../../src/store/claims.js';
import { ChatLeases } from '../../src/store/chat-leases.js';
import { PostgresBudget } from '../../src/store/rate-budget.js';
import { UpdateDedupe } from '../../src/store/update-dedupe.js';
import { DbReplyRateLimiter } from '../../src/store/reply-rate.js';
import { InstanceRegistry, listInstances } from '../../src/store/instances.js';
import { acquireLease } from '../../src/platforms/whatsapp/lease.js';
import { Outbox } from '../../src/delivery/outbox.js';
import { DestinationRegistry } from '../../src/delivery/destinations.js';
import { postgresUnavailable, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

/** The claims and leases several instances share, on a real PostgreSQL 15, each with two or three "instances". */

let cluster: PostgresCluster;
let store: Store;
beforeAll(async () => {
  if (postgresUnavailable) return;
  cluster = await startPostgres();
  store = await openStore(await cluster.createDatabase('multi_store'));
}, 60_000);
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

describe.skipIf(postgresUnavailable)('multi-instance store parts (PostgreSQL)', () => {
  it('a due feed is claimed by exactly one of three instances claiming at once; a poll just done is not due again; a dead claim expires', async () => {
    const urls = ['https://a.example/feed', 'https://b.example/feed', 'https://c.example/feed'];
    for (const url of urls) await store.db.insertInto('feeds').values({ url, failures: 0, created_at: new Date().toISOString() } as never).execute();
    const claims = ['i1', 'i2', 'i3'].map((id) => new FeedClaims(store.db, id, 200));
    const got = await Promise.all(claims.map((c) => c.claim(urls)));
    expect(got.flat().sort()).toEqual([...urls].sort());
    // Polled: next poll in the future, claim released; a stale reader sees it as due but cannot take it.
    const later = new Date(Date.now() + 60_000).toISOString();
    await store.db.updateTable('feeds').set({ next_poll_at: later }).where('url', '=', urls[0]!).execute();
    const owner = claims[got.findIndex((g) => g.includes(urls[0]!))]!;
    await owner.release(urls[0]!);
    expect(await claims[0]!.claim([urls[0]!])).toEqual([]);
    // urls[1]'s holder dies: its claim expires after the lease and another takes it.
    const dead = got.findIndex((g) => g.includes(urls[1]!));
    const other = claims[(dead + 1) % 3]!;
    expect(await other.claim([urls[1]!])).toEqual([]);
    await new Promise((r) => setTimeout(r, 250));
    expect(await other.claim([urls[1]!])).toEqual([urls[1]!]);
  });

  it('delivery claims: renewed by their holder, only expired ones are taken back', async () => {
    const destinations = new DestinationRegistry(store.db);
    await destinations.upsert({ id: 'telegram:-100', platform: 'telegram', chatId: '-100', threadId: null, options: {} });
    const outbox = new Outbox(store.db);
    const [a, b] = await outbox.enqueue([0, 1].map(() => ({ articleId: null, destinationId: 'telegram:-100', kind: 'reply' as const, priority: 20, payload: [] })));
    expect(await outbox.claim(a!, 'alive', 300)).toBe(true);
    expect(await outbox.claim(b!, 'dead', 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    await renewDeliveryClaims(store.db, 'alive', 300);
    await new Promise((r) => setTimeout(r, 200));
    expect(await reclaimExpiredDeliveries(store.db)).toBe(1);
    expect((await outbox.get(a!))!.status).toBe('sending');
    expect((await outbox.get(b!))!.status).toBe('pending');
  });

  it('chat leases: one owner at a time; taking a dead owner\'s chat puts its rows in flight back and seeds its recent sends', async () => {
    const destinations = new DestinationRegistry(store.db);
    await destinations.upsert({ id: 'telegram:-200', platform: 'telegram', chatId: '-200', threadId: null, options: {} });
    const outbox = new Outbox(store.db);
    const [sent, inFlight] = await outbox.enqueue([0, 1].map(() => ({ articleId: null, destinationId: 'telegram:-200', kind: 'reply' as const, priority: 20, payload: [] })));
    await outbox.markSent(sent!, ['1']);
    const chat = { platform: 'telegram', chatId: '-200' };
    const seeded: number[][] = [];
    const one = new ChatLeases({ db: store.db, holder: 'one', leaseMs: 300 });
    const two = new ChatLeases({ db: store.db, holder: 'two', leaseMs: 300, onTaken: (_c, t) => seeded.push(t) });
    expect(await one.hold(chat)).toBe(true);
    expect(await outbox.claim(inFlight!, 'one', 10_000)).toBe(true);
    expect(await two.hold(chat)).toBe(false);
    await new Promise((r) => setTimeout(r, 350)); // "one" dies: no renewal
    expect(await two.hold(chat)).toBe(false); // its row in flight came back first: read the queue again
    expect((await outbox.get(inFlight!))!.status).toBe('pending');
    expect(await two.hold(chat)).toBe(true);
    // The one sent row, and the row put back (it may have reached the chat before "one" died).
    expect(seeded[0]).toHaveLength(2);
    await two.releaseAll();
    expect(await one.hold(chat)).toBe(true);
  });

  it('the shared budget hands out one sequence of slots a gap apart, whoever asks', async () => {
    const budgets = [new PostgresBudget(store.db, 'bench'), new PostgresBudget(store.db, 'bench'), new PostgresBudget(store.db, 'bench')];
    // One lone statement each first: the offset estimate comes from the quickest round trip seen.
    for (const b of budgets) await b.take(1);
    const t0 = Date.now();
    const slots = await Promise.all(Array.from({ length: 30 }, (_, i) => budgets[i % 3]!.take(20)));
    const sorted = [...slots].sort((a, b) => a - b);
    // 30 slots 20 ms apart on this host's clock, whichever instance took them: the gaps are the gap (the
    // statements were queued at once, so no slot waited for a later "now"), give or take the offset
    // estimates of the three budgets (each within half a quick round trip).
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThan(20 - 4);
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThanOrEqual(29 * 20 - 4);
    expect(sorted.at(-1)! - sorted[0]!).toBeLessThanOrEqual(29 * 20 + 4);
    expect(sorted[0]!).toBeGreaterThanOrEqual(t0 - 4);
  });

  it('a slot comes back on this host\'s clock even when the database\'s clock is far off or its answer slow', async () => {
    // This host's clock 5 s behind the database's: the slot still lands now-ish on this clock.
    let skew = -5000;
    const budget = new PostgresBudget(store.db, 'skew', () => Date.now() + skew);
    const first = await budget.take(50);
    expect(Math.abs(first - (Date.now() + skew))).toBeLessThan(50);
    skew = 3000;
    const again = new PostgresBudget(store.db, 'skew', () => Date.now() + skew);
    const second = await again.take(50);
    // The next slot of the same row, one gap after the first, on the other clock.
    expect(Math.abs(second - 8000 - first - 50)).toBeLessThan(50);
  });

  it('update ids: handled once across instances; old ones pruned', async () => {
    const a = new UpdateDedupe(store.db);
    const b = new UpdateDedupe(store.db, 0);
    expect(await a.first(101)).toBe(true);
    expect(await b.first(101)).toBe(false);
    expect(await b.first(102)).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(await b.prune()).toBeGreaterThanOrEqual(1);
    expect(await a.first(101)).toBe(true);
  });

  it('REPLY_RATE per user is one budget for every instance', async () => {
    const a = new DbReplyRateLimiter(store.db, 3, 60_000);
    const b = new DbReplyRateLimiter(store.db, 3, 60_000);
    const now = new Date();
    const results = [await a.take('telegram:1', now), await b.take('telegram:1', now), await a.take('telegram:1', now), await b.take('telegram:1', now)];
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.firstDrop).toBe(true);
    expect((await a.take('telegram:2', now)).allowed).toBe(true);
  });

  it('instances: heartbeat rows and what each holds, for manchete status; a WhatsApp lease held by one waits for the other', async () => {
    const r1 = new InstanceRegistry({ db: store.db, instance: { id: 'h:1:a', host: 'h', pid: 1 }, leaseMs: 300 });
    const r2 = new InstanceRegistry({ db: store.db, instance: { id: 'h:2:b', host: 'h', pid: 2 }, leaseMs: 300 });
    await r1.start();
    await r2.start();
    expect((await acquireLease(store.db, 'whatsapp:default', 'h:1:a', 300, Date.now)).ok).toBe(true);
    expect((await acquireLease(store.db, 'whatsapp:default', 'h:2:b', 300, Date.now)).ok).toBe(false);
    await acquireLease(store.db, 'telegram:updates', 'h:2:b', 300, Date.now);
    let list = await listInstances(store.db);
    expect(list.filter((r) => r.alive).map((r) => r.id).sort()).toEqual(['h:1:a', 'h:2:b']);
    expect(list.find((r) => r.id === 'h:1:a')!.holds.whatsapp).toEqual(['default']);
    expect(list.find((r) => r.id === 'h:2:b')!.holds.updates).toBe(true);
    await r2.stop();
    await new Promise((r) => setTimeout(r, 350));
    // r1 stops heartbeating too (killed): its row and its WhatsApp lease expire; the other takes the session.
    await r1.stop();
    list = await listInstances(store.db);
    expect(list.filter((r) => r.alive)).toHaveLength(0);
    expect((await acquireLease(store.db, 'whatsapp:default', 'h:2:b', 300, Date.now)).ok).toBe(true);
  });
});
