import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../../src/store/db.js';
import { useDatabaseAuthState, type DatabaseAuthState } from '../../../src/platforms/whatsapp/auth-store.js';
import {
  backoffDelay,
  phoneOfJid,
  WhatsAppConnection,
  type WhatsAppConnectionOptions,
  type WhatsAppStateChange,
} from '../../../src/platforms/whatsapp/connection.js';
import { acquireLease } from '../../../src/platforms/whatsapp/lease.js';
import { boom, captureLogger, fakeSocketFactory, flush, groupMeta } from '../../fakes/whatsapp-socket.js';

let store: Store;
let auth: DatabaseAuthState;
const T0 = Date.parse('2025-03-01T12:00:00Z');

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(T0);
  store = await openStore('sqlite::memory:');
  auth = await useDatabaseAuthState(store.db, 'default');
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

function setup(over: Partial<WhatsAppConnectionOptions> = {}, socketSetup?: Parameters<typeof fakeSocketFactory>[0]) {
  const fake = fakeSocketFactory(socketSetup);
  const log = captureLogger();
  const changes: WhatsAppStateChange[] = [];
  const conn = new WhatsAppConnection({
    session: 'default',
    auth,
    socketFactory: fake.factory,
    logger: log.logger,
    onQr: () => undefined,
    random: () => 1,
    ...over,
  });
  conn.onStateChange((c) => changes.push(c));
  return { conn, fake, log, changes, states: () => changes.map((c) => c.state) };
}

describe('backoffDelay', () => {
  it('doubles from the initial delay, is jittered within [base/2, base], and is capped', () => {
    const o = { initialMs: 2_000, maxMs: 300_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, o, () => 1))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(backoffDelay(1, o, () => 0)).toBe(1_000);
    expect(backoffDelay(3, o, () => 0.5)).toBe(6_000);
    expect(backoffDelay(20, o, () => 1)).toBe(300_000);
    expect(backoffDelay(500, o, () => 0)).toBe(150_000);
  });
});

describe('phoneOfJid', () => {
  it('keeps the digits of phone JIDs only', () => {
    expect(phoneOfJid('5511999998888:12@s.whatsapp.net')).toBe('5511999998888');
    expect(phoneOfJid('5511999998888@s.whatsapp.net')).toBe('5511999998888');
    expect(phoneOfJid('1234@lid')).toBeNull();
    expect(phoneOfJid('1203@g.us')).toBeNull();
    expect(phoneOfJid(undefined)).toBeNull();
  });
});

describe('WhatsAppConnection: connection.update sequences', () => {
  it('qr → pairing (QR handed to onQr) → open', async () => {
    const qrs: string[] = [];
    const { conn, fake, states } = setup({ onQr: (q) => qrs.push(q) });
    await conn.start();
    expect(conn.state()).toBe('connecting');
    fake.last().emitConnection({ connection: 'connecting' });
    fake.last().emitConnection({ qr: '2@abc,def' });
    await flush();
    expect(conn.state()).toBe('pairing');
    fake.last().emitConnection({ qr: '2@second' });
    await flush();
    expect(qrs).toEqual(['2@abc,def', '2@second']);
    fake.last().open();
    await flush();
    expect(conn.state()).toBe('open');
    expect(conn.status().account).toBe('5511900000000');
    expect(states()).toEqual(['connecting', 'pairing', 'open']);
    expect(conn.socket()).toBe(fake.last());
  });

  it('with a phone number: asks for a pairing code once, on the first qr, and hands it over', async () => {
    const codes: string[] = [];
    const qrs: string[] = [];
    const { conn, fake } = setup({ phone: '+55 11 90000-0000', onPairingCode: (c) => codes.push(c), onQr: (q) => qrs.push(q) });
    await conn.start();
    fake.last().emitConnection({ qr: 'q1' });
    fake.last().emitConnection({ qr: 'q2' });
    await flush();
    expect(fake.last().pairingRequests).toEqual(['5511900000000']);
    expect(codes).toEqual(['ABCD1234']);
    expect(qrs).toEqual([]);
    expect(conn.state()).toBe('pairing');
  });

  it('an unpaired session without a QR handler stops in logged_out and says to run the login', async () => {
    const { conn, fake, log } = setup({ onQr: undefined });
    await conn.start();
    fake.last().emitConnection({ qr: 'q1' });
    await flush();
    expect(conn.state()).toBe('logged_out');
    expect(conn.status().reason).toMatch(/manchete whatsapp login/);
    expect(log.lines().some((l) => /not paired/.test(l.msg))).toBe(true);
    expect(fake.last().endCalls).toBe(1);
  });

  it('515: reconnects at once with a new socket; the old socket has no listeners left', async () => {
    const { conn, fake } = setup();
    await conn.start();
    const first = fake.last();
    first.open();
    await flush();
    first.close(515, 'Stream Errored (restart required)');
    await flush();
    expect(fake.sockets).toHaveLength(2);
    expect(conn.state()).toBe('connecting');
    expect(first.ev.totalListeners()).toBe(0);
    fake.last().open();
    await flush();
    expect(conn.state()).toBe('open');
  });

  it('515 over and over without opening falls back to backoff', async () => {
    const { conn, fake } = setup();
    await conn.start();
    for (let i = 0; i < 4; i++) {
      fake.last().close(515);
      await flush();
    }
    expect(fake.sockets).toHaveLength(4);
    expect(conn.state()).toBe('reconnecting');
  });

  it('401: wipes the stored session, alerts, ends in logged_out and never reconnects', async () => {
    auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net' };
    await auth.saveCreds();
    await auth.state.keys.set({ 'pre-key': { '1': { public: new Uint8Array([1]), private: new Uint8Array([2]) } } });
    const { conn, fake, log } = setup();
    await conn.start();
    fake.last().open();
    await flush();
    fake.last().close(401, 'Connection Failure');
    await flush();
    expect(conn.state()).toBe('logged_out');
    expect(await store.db.selectFrom('wa_auth').selectAll().execute()).toEqual([]);
    expect(auth.state.creds.me).toBeUndefined();
    const alert = log.lines().find((l) => l.event === 'whatsapp.logged_out');
    expect(alert?.level).toBe(50);
    expect(alert?.msg).toMatch(/manchete whatsapp login/);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fake.sockets).toHaveLength(1);
    expect(conn.socket()).toBeNull();
  });

  it('440: backs off, and gives up after repeated replacements', async () => {
    const { conn, fake, changes } = setup({ maxReplaced: 3 });
    await conn.start();
    for (let i = 1; i <= 3; i++) {
      fake.last().open();
      await flush();
      fake.last().close(440, 'Stream Errored (conflict)');
      await flush();
      expect(conn.state()).toBe('reconnecting');
      const delay = changes.at(-1)!.retryAt!.getTime() - Date.now();
      expect(delay).toBe(backoffDelay(i, { initialMs: 2_000, maxMs: 300_000 }, () => 1));
      await vi.advanceTimersByTimeAsync(delay);
      expect(fake.sockets).toHaveLength(i + 1);
    }
    fake.last().close(440);
    await flush();
    expect(conn.state()).toBe('stopped');
    expect(conn.status().reason).toMatch(/replaced by another client 4 times/);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fake.sockets).toHaveLength(4);
  });

  it('440 after a long stable connection starts the count again', async () => {
    const { conn, fake } = setup({ maxReplaced: 1, stableMs: 60_000 });
    await conn.start();
    fake.last().open();
    await flush();
    fake.last().close(440);
    await flush();
    await vi.advanceTimersByTimeAsync(2_000);
    fake.last().open();
    await flush();
    await vi.advanceTimersByTimeAsync(120_000);
    fake.last().close(440);
    await flush();
    expect(conn.state()).toBe('reconnecting');
  });

  it.each([408, 428, 500, 503, 411, null])('%s: exponential backoff with jitter, capped, reset once open', async (code) => {
    const { conn, fake, changes } = setup({ backoff: { initialMs: 2_000, maxMs: 20_000 }, random: () => 0.5 });
    await conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      if (code === null) fake.last().emitConnection({ connection: 'close', lastDisconnect: { error: undefined, date: new Date() } });
      else fake.last().close(code);
      await flush();
      expect(conn.state()).toBe('reconnecting');
      expect(changes.at(-1)!.code).toBe(code);
      const delay = changes.at(-1)!.retryAt!.getTime() - Date.now();
      delays.push(delay);
      const before = fake.sockets.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(fake.sockets).toHaveLength(before); // not before the delay
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.sockets).toHaveLength(before + 1);
    }
    // base 2, 4, 8, 16, 20, 20 s; random 0.5 → three quarters of it
    expect(delays).toEqual([1_500, 3_000, 6_000, 12_000, 15_000, 15_000]);
    expect(conn.status().failures).toBe(6);
    fake.last().open();
    await flush();
    expect(conn.status().failures).toBe(0);
    fake.last().close(503);
    await flush();
    expect(changes.at(-1)!.retryAt!.getTime() - Date.now()).toBe(1_500);
  });

  it('the reason says what happened and when the next attempt is', async () => {
    const { conn, fake } = setup();
    await conn.start();
    fake.last().close(428, 'Connection Closed');
    await flush();
    expect(conn.status().reason).toBe('closed with 428 (connection closed): Connection Closed; retrying in 2 s');
    expect(conn.status().retryAt?.toISOString()).toBe('2025-03-01T12:00:02.000Z');
  });

  it('at most one connect in flight: a second start, a duplicate close and a late event change nothing', async () => {
    const { conn, fake } = setup();
    await conn.start();
    await conn.start();
    expect(fake.sockets).toHaveLength(1);
    const first = fake.last();
    first.close(515);
    first.close(515); // ignored: the socket was already let go
    await flush();
    expect(fake.sockets).toHaveLength(2);
    first.open(); // a late event from the replaced socket
    await flush();
    expect(conn.state()).toBe('connecting');
    expect(first.ev.totalListeners()).toBe(0);
  });

  it('stop(): ends the socket, removes its listeners, cancels the retry timer', async () => {
    const { conn, fake } = setup();
    await conn.start();
    fake.last().close(503);
    await flush();
    await conn.stop();
    expect(conn.state()).toBe('stopped');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fake.sockets).toHaveLength(1);

    await conn.start();
    const sock = fake.last();
    sock.open();
    await flush();
    await conn.stop();
    expect(sock.endCalls).toBe(1);
    expect(sock.ev.totalListeners()).toBe(0);
    expect(conn.state()).toBe('stopped');
  });

  it('a socket factory that throws is retried with backoff', async () => {
    let calls = 0;
    const good = fakeSocketFactory();
    const { conn, changes } = setup({
      socketFactory: (o) => {
        calls += 1;
        if (calls === 1) throw new Error('bad url');
        return good.factory(o);
      },
    });
    await conn.start();
    expect(conn.state()).toBe('reconnecting');
    expect(changes.at(-1)!.reason).toMatch(/bad url/);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(good.sockets).toHaveLength(1);
  });

  it('saves creds on creds.update', async () => {
    const { conn, fake } = setup();
    await conn.start();
    auth.state.creds.me = { id: '5511900000000:7@s.whatsapp.net' };
    fake.last().ev.emit('creds.update', { me: auth.state.creds.me });
    await flush();
    const again = await useDatabaseAuthState(store.db, 'default');
    expect(again.state.creds.me?.id).toBe('5511900000000:7@s.whatsapp.net');
  });
});

describe('WhatsAppConnection: restriction', () => {
  it('a reachout timelock pauses (restricted) and resumes by itself when it ends', async () => {
    const { conn, fake } = setup();
    await conn.start();
    fake.last().open();
    await flush();
    const ends = new Date(T0 + 10 * 60_000);
    fake.last().timelock = { isActive: true, timeEnforcementEnds: ends };
    fake.last().emitConnection({ reachoutTimeLock: { isActive: true, timeEnforcementEnds: ends } });
    await flush();
    expect(conn.state()).toBe('restricted');
    expect(conn.status().restrictedUntil).toEqual(ends);
    fake.last().timelock = { isActive: false };
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    await flush();
    expect(conn.state()).toBe('open');
  });

  it('a 463 in messages.update restricts for the default period, checked again after it', async () => {
    const { conn, fake } = setup({ restrictedRetryMs: 60_000 });
    await conn.start();
    fake.last().open();
    await flush();
    fake.last().ev.emit('messages.update', [
      { key: { remoteJid: '1203@g.us', id: 'X1', fromMe: true }, update: { status: 0, messageStubParameters: ['463', 'Your account has been restricted'] } },
    ]);
    await flush();
    expect(conn.state()).toBe('restricted');
    // still locked at the first check: WhatsApp says so, with a new end
    fake.last().timelock = { isActive: true, timeEnforcementEnds: new Date(T0 + 5 * 60_000) };
    await vi.advanceTimersByTimeAsync(60_000);
    await flush();
    expect(conn.state()).toBe('restricted');
    fake.last().timelock = { isActive: false };
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    await flush();
    expect(conn.state()).toBe('open');
  });

  it('a reconnect during a restriction comes back restricted', async () => {
    const { conn, fake } = setup();
    await conn.start();
    fake.last().open();
    await flush();
    conn.markRestricted('test', new Date(T0 + 3_600_000));
    fake.last().close(428);
    await flush();
    await vi.advanceTimersByTimeAsync(2_000);
    fake.last().open();
    await flush();
    expect(conn.state()).toBe('restricted');
  });
});

describe('WhatsAppConnection: lease', () => {
  it('the second process waits, says why, and connects once the first lets go', async () => {
    await acquireLease(store.db, 'whatsapp:default', 'other-host:99', 60_000, Date.now);
    const { conn, fake, log } = setup({ lease: { db: store.db, holder: 'me:1', ttlMs: 60_000 } });
    await conn.start();
    expect(fake.sockets).toHaveLength(0);
    expect(conn.state()).toBe('connecting');
    expect(conn.status().reason).toBe("WhatsApp session 'default' is held by other-host:99 until 2025-03-01T12:01:00.000Z; waiting");
    expect(log.lines().some((l) => l.event === 'whatsapp.lease_held' && /held by other-host:99/.test(l.msg))).toBe(true);
    await vi.advanceTimersByTimeAsync(61_000);
    await flush();
    expect(fake.sockets).toHaveLength(1);
    const row = await store.db.selectFrom('leases').selectAll().executeTakeFirst();
    expect(row?.holder).toBe('me:1');
  });

  it('renews while connected, and releases on stop', async () => {
    const { conn, fake } = setup({ lease: { db: store.db, holder: 'me:1', ttlMs: 30_000 } });
    await conn.start();
    fake.last().open();
    await flush();
    await vi.advanceTimersByTimeAsync(25_000);
    await flush();
    let row = await store.db.selectFrom('leases').selectAll().executeTakeFirst();
    expect(Date.parse(row!.expires_at)).toBeGreaterThan(T0 + 30_000);
    await conn.stop();
    row = await store.db.selectFrom('leases').selectAll().executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('losing the lease disconnects at once', async () => {
    const { conn, fake, log } = setup({ lease: { db: store.db, holder: 'me:1', ttlMs: 30_000 } });
    await conn.start();
    fake.last().open();
    await flush();
    await store.db.updateTable('leases').set({ holder: 'thief:2' }).execute();
    await vi.advanceTimersByTimeAsync(10_000);
    await flush();
    expect(conn.socket()).toBeNull();
    expect(fake.last().endCalls).toBe(1);
    expect(conn.state()).toBe('connecting');
    expect(log.lines().some((l) => l.event === 'whatsapp.lease_lost')).toBe(true);
    await conn.stop();
  });
});

describe('WhatsAppConnection: what the socket gets', () => {
  it('getMessage serves recently sent messages only', async () => {
    const { conn, fake } = setup();
    await conn.start();
    const sent = await fake.last().sendMessage('1203@g.us', { text: 'oi' });
    conn.rememberSent(sent);
    const opts = fake.last().options;
    expect(await opts.getMessage({ id: sent!.key.id, remoteJid: '1203@g.us' })).toEqual({ extendedTextMessage: { text: 'oi' } });
    expect(await opts.getMessage({ id: 'unknown' })).toBeUndefined();
  });

  it('cachedGroupMetadata fetches once, merges groups.update and refetches on participant changes', async () => {
    const { conn, fake } = setup({}, (s) => s.groups.set('1203@g.us', groupMeta('1203@g.us', { subject: 'Redação' })));
    await conn.start();
    const sock = fake.last();
    sock.open();
    await flush();
    const spy = vi.spyOn(sock, 'groupMetadata');
    expect((await sock.options.cachedGroupMetadata('1203@g.us'))?.subject).toBe('Redação');
    expect((await sock.options.cachedGroupMetadata('1203@g.us'))?.subject).toBe('Redação');
    expect(spy).toHaveBeenCalledTimes(1);
    sock.ev.emit('groups.update', [{ id: '1203@g.us', subject: 'Redação 2', announce: true }]);
    expect((await sock.options.cachedGroupMetadata('1203@g.us'))?.announce).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    sock.ev.emit('group-participants.update', { id: '1203@g.us', author: 'x', participants: [], action: 'promote' });
    await flush();
    expect(spy).toHaveBeenCalledTimes(2);
    expect(await sock.options.cachedGroupMetadata('nope@g.us')).toBeUndefined();
  });

  it('on() listeners follow the connection across sockets', async () => {
    const { conn, fake } = setup();
    const seen: string[] = [];
    const off = conn.on('messages.upsert', (e) => seen.push(e.messages[0]!.key.id!));
    await conn.start();
    fake.last().ev.emit('messages.upsert', { type: 'notify', messages: [{ key: { id: 'A', remoteJid: 'x' } }] });
    fake.last().close(515);
    await flush();
    fake.last().ev.emit('messages.upsert', { type: 'notify', messages: [{ key: { id: 'B', remoteJid: 'x' } }] });
    off();
    fake.last().ev.emit('messages.upsert', { type: 'notify', messages: [{ key: { id: 'C', remoteJid: 'x' } }] });
    expect(seen).toEqual(['A', 'B']);
  });

  it('lidToPhone asks the socket and survives its errors', async () => {
    const { conn, fake } = setup({}, (s) => s.lids.set('777@lid', '5511911112222@s.whatsapp.net'));
    expect(await conn.lidToPhone('777@lid')).toBeNull(); // not started
    await conn.start();
    expect(await conn.lidToPhone('777@lid')).toBe('5511911112222@s.whatsapp.net');
    expect(await conn.lidToPhone('000@lid')).toBeNull();
    fake.last().signalRepository.lidMapping.getPNForLID = async () => {
      throw boom(500, 'db down');
    };
    expect(await conn.lidToPhone('777@lid')).toBeNull();
  });

  it('waitForState resolves on the state and rejects on timeout with the current reason', async () => {
    const { conn, fake } = setup();
    await conn.start();
    const opened = conn.waitForState((s) => s === 'open', 5_000);
    fake.last().open();
    await flush();
    await expect(opened).resolves.toBe('open');
    const never = conn.waitForState((s) => s === 'logged_out', 1_000);
    const check = expect(never).rejects.toThrow(/within 1 s \(now open/);
    await vi.advanceTimersByTimeAsync(1_000);
    await check;
  });
});

describe('WhatsAppConnection: unreachable WhatsApp', () => {
  it('a failed probe is a failed attempt (408, backoff) that loads neither the session nor a socket; the next one that gets through loads the session once', async () => {
    let up = false;
    let loads = 0;
    const probes: boolean[] = [];
    const { conn, fake, changes } = setup({
      auth: async () => {
        loads += 1;
        return auth;
      },
      reachable: async () => {
        probes.push(up);
        if (!up) throw Object.assign(new Error('connect ENETUNREACH 157.240.0.1:443'), { output: { statusCode: 408 } });
      },
      backoff: { initialMs: 1_000, maxMs: 1_000 },
    });
    await conn.start();
    await flush();
    expect(conn.state()).toBe('reconnecting');
    const failed = changes.find((c) => c.state === 'reconnecting')!;
    expect(failed.code).toBe(408);
    expect(failed.reason).toMatch(/^closed with 408 \(connection lost or timed out\): connect ENETUNREACH .*; retrying in 1 s$/);
    expect(fake.sockets).toHaveLength(0);
    expect(loads).toBe(0);

    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(fake.sockets).toHaveLength(0);
    expect(conn.status().failures).toBe(2);

    up = true;
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(fake.sockets).toHaveLength(1);
    expect(loads).toBe(1);
    fake.last().emitConnection({ connection: 'open' });
    await flush();
    expect(conn.state()).toBe('open');
    expect(probes).toEqual([false, false, true]);
    await conn.stop();
  });

  it('stopping while an attempt is being prepared makes no socket', async () => {
    let release!: () => void;
    const { conn, fake } = setup({ reachable: () => new Promise<void>((r) => (release = r)) });
    await conn.start();
    await flush();
    expect(conn.state()).toBe('connecting');
    await conn.stop();
    release();
    await flush();
    expect(fake.sockets).toHaveLength(0);
    expect(conn.state()).toBe('stopped');
  });
});
