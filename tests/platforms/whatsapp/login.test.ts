import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/db.js';
import { isPaired, useDatabaseAuthState } from '../../../src/platforms/whatsapp/auth-store.js';
import { acquireLease } from '../../../src/platforms/whatsapp/lease.js';
import { runWhatsAppLogin, WhatsAppLoginError, type WhatsAppLoginOptions } from '../../../src/platforms/whatsapp/login.js';
import { captureLogger, fakeSocketFactory, flush, type FakeWhatsAppSocket } from '../../fakes/whatsapp-socket.js';

let store: Store;
// The login loads Baileys on its first call (the auth state needs it); load it once here, so the tests'
// few-turn flushes measure the login and not a cold import.
beforeAll(() => import('@whiskeysockets/baileys'), 30_000);
beforeEach(async () => {
  store = await openStore('sqlite::memory:');
});
afterEach(() => store.close());

function login(over: Partial<WhatsAppLoginOptions> = {}) {
  const fake = fakeSocketFactory();
  const printed: string[] = [];
  const promise = runWhatsAppLogin({
    db: store.db,
    session: 'default',
    logger: captureLogger().logger,
    print: (s) => printed.push(s),
    socketFactory: fake.factory,
    renderQr: async (qr) => `[QR ${qr}]`,
    timeoutMs: 5_000,
    ...over,
  });
  return { fake, printed, promise };
}

/** What Baileys does when the phone accepts: creds gain `me` and `account`, then a 515 restart. */
async function phoneAccepts(sock: FakeWhatsAppSocket) {
  sock.options.auth.creds.me = { id: '5511900000000:7@s.whatsapp.net', name: 'Redação' };
  sock.options.auth.creds.account = { details: new Uint8Array([1]) };
  sock.ev.emit('creds.update', { me: sock.options.auth.creds.me });
  sock.close(515, 'Stream Errored (restart required)');
  await flush();
}

describe('runWhatsAppLogin', () => {
  it('prints the QR code (and each new one), waits for the phone, stores the session', async () => {
    const { fake, printed, promise } = login();
    await flush();
    fake.last().emitConnection({ qr: 'ref-1' });
    await flush();
    fake.last().emitConnection({ qr: 'ref-2' });
    await flush();
    expect(printed[0]).toMatch(/^\[QR ref-1\]\nScan it in WhatsApp: Settings → Linked devices → Link a device\.$/);
    expect(printed[1]).toMatch(/^A new QR code .*\n\[QR ref-2\]/);
    await phoneAccepts(fake.last());
    expect(fake.sockets).toHaveLength(2);
    fake.last().open();
    await expect(promise).resolves.toEqual({ account: '5511900000000' });
    expect(printed.at(-1)).toMatch(/WhatsApp paired with \+5511900000000; session 'default' is stored/);
    expect(fake.last().endCalls).toBe(1);

    const stored = await useDatabaseAuthState(store.db, 'default');
    expect(isPaired(stored.state.creds)).toBe(true);
    expect(await store.db.selectFrom('leases').selectAll().execute()).toEqual([]);
  });

  it('with --phone prints a pairing code instead of a QR code', async () => {
    const { fake, printed, promise } = login({ phone: '5511900000000' });
    await flush();
    fake.last().emitConnection({ qr: 'ref-1' });
    await flush();
    expect(fake.last().pairingRequests).toEqual(['5511900000000']);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^Pairing code for \+5511900000000: ABCD-1234\n.*Link with phone number instead/);
    await phoneAccepts(fake.last());
    fake.last().open();
    await expect(promise).resolves.toEqual({ account: '5511900000000' });
  });

  it('an already paired session says so and does not connect', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net' };
    auth.state.creds.account = { details: new Uint8Array([1]) };
    await auth.saveCreds();
    const { fake, promise } = login();
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhatsAppLoginError);
    expect(err).toMatchObject({ reason: 'already_paired' });
    expect((err as Error).message).toMatch(/already paired with \+5511900000000.*--force/);
    expect(fake.sockets).toHaveLength(0);
  });

  it('--force wipes the old session and pairs again', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    auth.state.creds.me = { id: '5511888888888:1@s.whatsapp.net' };
    auth.state.creds.account = { details: new Uint8Array([1]) };
    await auth.saveCreds();
    const { fake, promise } = login({ force: true });
    await flush();
    expect(fake.last().options.auth.creds.me).toBeUndefined();
    await phoneAccepts(fake.last());
    fake.last().open();
    await expect(promise).resolves.toEqual({ account: '5511900000000' });
  });

  it('keys left over from a logged-out session are dropped before pairing', async () => {
    const auth = await useDatabaseAuthState(store.db, 'default');
    await auth.state.keys.set({ session: { 'old.0': new Uint8Array([1]) } });
    const { fake, promise } = login();
    await flush();
    expect(await store.db.selectFrom('wa_auth').selectAll().execute()).toEqual([]);
    await phoneAccepts(fake.last());
    fake.last().open();
    await promise;
  });

  it('401 during pairing: "pairing was refused; run the login again", nothing half-paired left', async () => {
    const { fake, promise } = login({ phone: '5511900000000' });
    await flush();
    fake.last().emitConnection({ qr: 'ref-1' });
    await flush();
    fake.last().close(401, 'Connection Failure');
    const err = await promise.catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'refused' });
    expect((err as Error).message).toMatch(/^pairing was refused by WhatsApp .*run the login again$/);
    expect(await store.db.selectFrom('wa_auth').selectAll().execute()).toEqual([]);
  });

  it('no pairing in time: a timeout error, and the unconfirmed pairing-code state is dropped', async () => {
    const { fake, promise } = login({ phone: '5511900000000', timeoutMs: 50 });
    await flush();
    fake.last().emitConnection({ qr: 'ref-1' });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'timeout' });
    expect((err as Error).message).toMatch(/no pairing within 50 ms \(waiting for the pairing code/);
    expect(await store.db.selectFrom('wa_auth').selectAll().execute()).toEqual([]);
  });

  it('a second process pairing the same session waits for the lease (and times out clearly)', async () => {
    await acquireLease(store.db, 'whatsapp:default', 'service:1', 60_000, Date.now);
    const { fake, promise } = login({ timeoutMs: 50, lease: { holder: 'cli:2' } });
    const err = await promise.catch((e: unknown) => e);
    expect(fake.sockets).toHaveLength(0);
    expect((err as Error).message).toMatch(/held by service:1 until .*; waiting/);
  });
});
