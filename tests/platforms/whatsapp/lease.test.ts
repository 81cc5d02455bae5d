import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/db.js';
import { acquireLease, describeHeldLease, releaseLease, renewLease } from '../../../src/platforms/whatsapp/lease.js';

let store: Store;
let now = Date.parse('2025-03-01T12:00:00Z');
const clock = () => now;

beforeEach(async () => {
  store = await openStore('sqlite::memory:');
  now = Date.parse('2025-03-01T12:00:00Z');
});
afterEach(() => store.close());

describe('session lease', () => {
  it('lets one holder in and tells the second who holds it and until when', async () => {
    const a = await acquireLease(store.db, 'whatsapp:default', 'host-a:1', 60_000, clock);
    expect(a).toEqual({ ok: true, holder: 'host-a:1', expiresAt: new Date('2025-03-01T12:01:00Z') });

    const b = await acquireLease(store.db, 'whatsapp:default', 'host-b:2', 60_000, clock);
    expect(b).toEqual({ ok: false, holder: 'host-a:1', expiresAt: new Date('2025-03-01T12:01:00Z') });
    expect(describeHeldLease('default', b)).toBe(
      "WhatsApp session 'default' is held by host-a:1 until 2025-03-01T12:01:00.000Z; waiting",
    );
  });

  it('re-acquiring by the holder extends it; other names are independent', async () => {
    await acquireLease(store.db, 'whatsapp:default', 'a', 60_000, clock);
    now += 30_000;
    const again = await acquireLease(store.db, 'whatsapp:default', 'a', 60_000, clock);
    expect(again.ok).toBe(true);
    expect(again.expiresAt.toISOString()).toBe('2025-03-01T12:01:30.000Z');
    expect((await acquireLease(store.db, 'whatsapp:other', 'b', 60_000, clock)).ok).toBe(true);
  });

  it('an expired lease can be taken over, and the old holder cannot renew it', async () => {
    await acquireLease(store.db, 'whatsapp:default', 'a', 60_000, clock);
    now += 60_001;
    const b = await acquireLease(store.db, 'whatsapp:default', 'b', 60_000, clock);
    expect(b.ok).toBe(true);
    const renewA = await renewLease(store.db, 'whatsapp:default', 'a', 60_000, clock);
    expect(renewA).toMatchObject({ ok: false, holder: 'b' });
    expect((await renewLease(store.db, 'whatsapp:default', 'b', 60_000, clock)).ok).toBe(true);
  });

  it('renew never takes a free lease, and release frees only your own', async () => {
    expect((await renewLease(store.db, 'whatsapp:default', 'a', 60_000, clock)).ok).toBe(false);
    await acquireLease(store.db, 'whatsapp:default', 'a', 60_000, clock);
    await releaseLease(store.db, 'whatsapp:default', 'b');
    expect((await acquireLease(store.db, 'whatsapp:default', 'b', 60_000, clock)).ok).toBe(false);
    await releaseLease(store.db, 'whatsapp:default', 'a');
    expect((await acquireLease(store.db, 'whatsapp:default', 'b', 60_000, clock)).ok).toBe(true);
  });

  it('two contenders racing: exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => acquireLease(store.db, 'whatsapp:default', `p${i}`, 60_000, clock)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const winner = results.find((r) => r.ok)!.holder;
    expect(results.every((r) => r.holder === winner)).toBe(true);
  });

  it('refuses a non-positive ttl', async () => {
    await expect(acquireLease(store.db, 'x', 'a', 0, clock)).rejects.toThrow(/ttl/);
  });
});
