import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addSubscription,
  clearSubscriptions,
  deactivateSubscriber,
  getPauseState,
  getSubscriber,
  recentAudit,
  removeSubscription,
  setPaused,
  subscribersForTopics,
  subscriptionsOf,
  upsertSubscriber,
  writeAudit,
} from '../../src/commands/repo.js';
import { openStore, type Store } from '../../src/store/db.js';

const t0 = new Date('2025-03-10T12:00:00Z');
let store: Store;

beforeEach(async () => {
  store = await openStore('sqlite::memory:');
});
afterEach(async () => {
  await store.close();
});

describe('subscribers and subscriptions', () => {
  it('upsert creates, then refreshes locale and name and reactivates', async () => {
    const id = await upsertSubscriber(store.db, { platform: 'telegram', chatId: '10', locale: 'pt-BR', name: 'Ana' }, t0);
    expect(id).toBe('telegram:10');
    await deactivateSubscriber(store.db, id, t0);
    expect((await getSubscriber(store.db, id))?.active).toBe(false);
    await upsertSubscriber(store.db, { platform: 'telegram', chatId: '10', locale: 'en', name: 'Ana B' }, t0);
    expect(await getSubscriber(store.db, id)).toEqual({
      id,
      platform: 'telegram',
      chatId: '10',
      locale: 'en',
      active: true,
      name: 'Ana B',
    });
  });

  it('adds topics once, folded, and removes them', async () => {
    const id = await upsertSubscriber(store.db, { platform: 'telegram', chatId: '10', locale: 'pt-BR', name: null }, t0);
    expect(await addSubscription(store.db, id, 'Política', t0)).toBe(true);
    expect(await addSubscription(store.db, id, 'politica', t0)).toBe(false);
    expect(await addSubscription(store.db, id, 'Mundo', t0)).toBe(true);
    expect(await subscriptionsOf(store.db, id)).toEqual(['mundo', 'politica']);
    expect(await removeSubscription(store.db, id, 'POLÍTICA')).toBe(true);
    expect(await removeSubscription(store.db, id, 'politica')).toBe(false);
    expect(await clearSubscriptions(store.db, id, t0)).toBe(1);
    expect(await subscriptionsOf(store.db, id)).toEqual([]);
    expect((await getSubscriber(store.db, id))?.active).toBe(false);
  });

  it('deactivating an unknown subscriber says so', async () => {
    expect(await deactivateSubscriber(store.db, 'telegram:nobody')).toBe(false);
  });

  it('routes to active subscribers of the platform with any of the topics, each once', async () => {
    const a = await upsertSubscriber(store.db, { platform: 'telegram', chatId: '1', locale: 'pt-BR', name: null }, t0);
    const b = await upsertSubscriber(store.db, { platform: 'telegram', chatId: '2', locale: 'en', name: null }, t0);
    const c = await upsertSubscriber(store.db, { platform: 'telegram', chatId: '3', locale: 'pt-BR', name: null }, t0);
    const w = await upsertSubscriber(store.db, { platform: 'whatsapp', chatId: '55@s.whatsapp.net', locale: 'pt-BR', name: null }, t0);
    for (const id of [a, b, c, w]) await addSubscription(store.db, id, 'mundo', t0);
    await addSubscription(store.db, a, 'politica', t0);
    await addSubscription(store.db, b, 'esportes', t0);
    await deactivateSubscriber(store.db, c, t0);

    const got = await subscribersForTopics(store.db, 'telegram', ['Mundo', 'Política']);
    expect(got).toEqual([
      { id: 'telegram:1', platform: 'telegram', chatId: '1', locale: 'pt-BR' },
      { id: 'telegram:2', platform: 'telegram', chatId: '2', locale: 'en' },
    ]);
    expect((await subscribersForTopics(store.db, 'telegram', ['esportes'])).map((s) => s.id)).toEqual(['telegram:2']);
    expect((await subscribersForTopics(store.db, 'whatsapp', ['mundo'])).map((s) => s.id)).toEqual([w]);
    expect(await subscribersForTopics(store.db, 'telegram', [])).toEqual([]);
    expect(await subscribersForTopics(store.db, 'telegram', ['cultura'])).toEqual([]);
  });
});

describe('pause switch and audit', () => {
  it('is off until set, and remembers who and when', async () => {
    expect(await getPauseState(store.db)).toEqual({ paused: false, by: null, at: null });
    await setPaused(store.db, true, 'telegram:42', t0);
    expect(await getPauseState(store.db)).toEqual({ paused: true, by: 'telegram:42', at: t0 });
    const later = new Date(t0.getTime() + 60_000);
    await setPaused(store.db, false, 'whatsapp:5511999998888', later);
    expect(await getPauseState(store.db)).toEqual({ paused: false, by: 'whatsapp:5511999998888', at: later });
  });

  it('audit entries come back newest first', async () => {
    await writeAudit(store.db, { actor: 'telegram:42', action: 'pause', detail: null, outcome: 'ok' }, t0);
    await writeAudit(store.db, { actor: 'telegram:42', action: 'resume', detail: '{"x":1}', outcome: 'ok' }, t0);
    const rows = await recentAudit(store.db, 10);
    expect(rows.map((r) => r.action)).toEqual(['resume', 'pause']);
    expect(rows[0]).toMatchObject({ actor: 'telegram:42', detail: '{"x":1}', outcome: 'ok', at: t0 });
  });
});
