import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { proto } from '@whiskeysockets/baileys';
import { openStore, type Store } from '../../../src/store/db.js';
import { isPaired, useDatabaseAuthState } from '../../../src/platforms/whatsapp/auth-store.js';

let dir: string;
let store: Store;
const url = () => `sqlite:${join(dir, 'wa.db')}`;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'manchete-wa-'));
  store = await openStore(url());
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('useDatabaseAuthState', () => {
  it('starts with fresh, unpaired creds and writes nothing until saved', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    expect(auth.state.creds.registered).toBe(false);
    expect(isPaired(auth.state.creds)).toBe(false);
    const rows = await store.db.selectFrom('wa_auth').selectAll().execute();
    expect(rows).toHaveLength(0);
  });

  it('round-trips creds and every key type through a reopened database file (BufferJSON)', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Redação' };
    auth.state.creds.account = { details: new Uint8Array([1, 2, 3]) };
    const noisePublic = Buffer.from(auth.state.creds.noiseKey.public);
    await auth.saveCreds();

    const preKey = { public: new Uint8Array([9, 8, 7]), private: Buffer.from([6, 5, 4]) };
    const appKey = proto.Message.AppStateSyncKeyData.fromObject({
      keyData: Buffer.from('secret-key-bytes'),
      fingerprint: { rawId: 7, currentIndex: 2, deviceIndexes: [0, 1] },
      timestamp: 1_700_000_000,
    });
    await auth.state.keys.set({
      'pre-key': { '1': preKey },
      session: { '5511:1': new Uint8Array([42, 43]) },
      'app-state-sync-key': { AAAA: appKey },
      'lid-mapping': { '5511900000000': '88800000000', '88800000000_reverse': '5511900000000' },
      'device-list': { '5511900000000': ['0', '7'] },
      tctoken: { '5511988887777@s.whatsapp.net': { token: Buffer.from('tok'), timestamp: '1700000000' } },
      'identity-key': { '5511988887777.0': new Uint8Array([1, 1, 2, 3, 5]) },
      'sender-key-memory': { 'group@g.us': { '5511:1': true } },
    });

    await store.close();
    store = await openStore(url());
    const again = await useDatabaseAuthState(store.db, 'default');

    expect(again.state.creds.me?.id).toBe('5511900000000:7@s.whatsapp.net');
    expect(Buffer.from(again.state.creds.noiseKey.public).equals(noisePublic)).toBe(true);
    expect(Buffer.isBuffer(again.state.creds.noiseKey.public)).toBe(true);
    expect(isPaired(again.state.creds)).toBe(true);

    const keys = again.state.keys;
    const pk = await keys.get('pre-key', ['1', 'missing']);
    expect(Buffer.from(pk['1']!.public)).toEqual(Buffer.from([9, 8, 7]));
    expect(pk).not.toHaveProperty('missing');
    expect(Buffer.from((await keys.get('session', ['5511:1']))['5511:1']!)).toEqual(Buffer.from([42, 43]));

    const app = (await keys.get('app-state-sync-key', ['AAAA']))['AAAA']!;
    expect(app).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(app.keyData!).toString()).toBe('secret-key-bytes');
    expect(app.fingerprint?.deviceIndexes).toEqual([0, 1]);

    expect(await keys.get('lid-mapping', ['5511900000000', '88800000000_reverse'])).toEqual({
      '5511900000000': '88800000000',
      '88800000000_reverse': '5511900000000',
    });
    expect(await keys.get('device-list', ['5511900000000'])).toEqual({ '5511900000000': ['0', '7'] });
    const tc = (await keys.get('tctoken', ['5511988887777@s.whatsapp.net']))['5511988887777@s.whatsapp.net']!;
    expect(tc.token.toString()).toBe('tok');
    expect(Buffer.from((await keys.get('identity-key', ['5511988887777.0']))['5511988887777.0']!)).toEqual(Buffer.from([1, 1, 2, 3, 5]));
    expect(await keys.get('sender-key-memory', ['group@g.us'])).toEqual({ 'group@g.us': { '5511:1': true } });
  });

  it('deletes keys set to null, and overwrites keys set again', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    await auth.state.keys.set({ 'lid-mapping': { a: '1', b: '2' } });
    await auth.state.keys.set({ 'lid-mapping': { a: null, b: '3' } });
    expect(await auth.state.keys.get('lid-mapping', ['a', 'b'])).toEqual({ b: '3' });
  });

  it('writes one set in one transaction, and writes nothing when an entry cannot be stored', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    const spy = vi.spyOn(store.db, 'transaction');
    const many: Record<string, string> = {};
    for (let i = 0; i < 250; i++) many[`pn${i}`] = `lid${i}`;
    await auth.state.keys.set({ 'lid-mapping': many, 'device-list': { x: ['0'] }, session: { gone: null } });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(Object.keys(await auth.state.keys.get('lid-mapping', Object.keys(many)))).toHaveLength(250);

    // JSON cannot hold a BigInt: the whole set fails and none of its other entries lands.
    const bad = { 'lid-mapping': { fine: 'x' }, 'device-list': { broken: [10n] as unknown as string[] } };
    await expect(auth.state.keys.set(bad)).rejects.toThrow();
    expect(await auth.state.keys.get('lid-mapping', ['fine'])).toEqual({});
    spy.mockRestore();
  });

  it('rolls back the whole set when a write fails inside the transaction', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    await auth.state.keys.set({ 'lid-mapping': { keep: 'old', victim: 'v' } });
    // Make the delete fail after the upserts ran: a trigger that refuses deletes.
    const { sql } = await import('kysely');
    await sql`CREATE TRIGGER no_delete BEFORE DELETE ON wa_auth BEGIN SELECT RAISE(ABORT, 'refused'); END`.execute(store.db);
    await expect(auth.state.keys.set({ 'lid-mapping': { keep: 'new', extra: 'e', victim: null } })).rejects.toThrow(/refused/);
    expect(await auth.state.keys.get('lid-mapping', ['keep', 'extra', 'victim'])).toEqual({ keep: 'old', victim: 'v' });
  });

  it('keeps sessions apart, and clear() wipes one session only and resets its creds', async () => {
    const a = await useDatabaseAuthState(store.db, 'a');
    const b = await useDatabaseAuthState(store.db, 'b');
    a.state.creds.me = { id: '1@s.whatsapp.net' };
    await a.saveCreds();
    await b.saveCreds();
    await a.state.keys.set({ 'pre-key': { '1': { public: new Uint8Array([1]), private: new Uint8Array([2]) } } });
    await b.state.keys.set({ 'pre-key': { '1': { public: new Uint8Array([3]), private: new Uint8Array([4]) } } });

    await a.clear();
    expect(a.state.creds.me).toBeUndefined();
    expect(await a.state.keys.get('pre-key', ['1'])).toEqual({});
    expect(Buffer.from((await b.state.keys.get('pre-key', ['1']))['1']!.public)).toEqual(Buffer.from([3]));
    const rows = await store.db.selectFrom('wa_auth').select(['session']).execute();
    expect(new Set(rows.map((r) => r.session))).toEqual(new Set(['b']));
  });

  it('reads large id lists in chunks', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    const ids = Array.from({ length: 1200 }, (_, i) => `id${i}`);
    await auth.state.keys.set({ 'lid-mapping': Object.fromEntries(ids.map((id) => [id, id.toUpperCase()])) });
    const got = await auth.state.keys.get('lid-mapping', ids);
    expect(Object.keys(got)).toHaveLength(1200);
    expect(got['id1199']).toBe('ID1199');
  });
});
