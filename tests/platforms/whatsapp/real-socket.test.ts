import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/db.js';
import { useDatabaseAuthState } from '../../../src/platforms/whatsapp/auth-store.js';
import { WhatsAppConnection, type WhatsAppStateChange } from '../../../src/platforms/whatsapp/connection.js';
import { errorStatusCode, makeBaileysSocketFactory, probeWhatsApp } from '../../../src/platforms/whatsapp/socket.js';
import { createWhatsAppSender } from '../../../src/platforms/whatsapp/sender.js';
import { captureLogger } from '../../fakes/whatsapp-socket.js';

/** A loopback port nobody listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let store: Store;
beforeEach(async () => {
  store = await openStore('sqlite::memory:');
});
afterEach(() => store.close());

describe('a real Baileys socket without network', () => {
  it('pointed at a closed loopback port, sits in backoff and keeps retrying without crashing the process', async () => {
    const port = await closedPort();
    const crashes: unknown[] = [];
    const onCrash = (e: unknown) => crashes.push(e);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);

    const log = captureLogger('warn');
    const connection = new WhatsAppConnection({
      session: 'default',
      auth: await useDatabaseAuthState(store.db, 'default'),
      socketFactory: makeBaileysSocketFactory({ waWebSocketUrl: `ws://127.0.0.1:${port}/ws/chat`, connectTimeoutMs: 2_000 }),
      logger: log.logger,
      onQr: () => undefined,
      backoff: { initialMs: 20, maxMs: 80 },
    });
    const sender = createWhatsAppSender({ connection, logger: log.logger });
    const changes: WhatsAppStateChange[] = [];
    const twoFailures = new Promise<void>((resolve) => {
      connection.onStateChange((c) => {
        changes.push(c);
        if (changes.filter((x) => x.state === 'reconnecting').length >= 2) resolve();
      });
    });

    try {
      await connection.start();
      await twoFailures;
      expect(['reconnecting', 'connecting']).toContain(connection.state());
      const failed = changes.find((c) => c.state === 'reconnecting')!;
      expect(failed.code).toBe(408); // ECONNREFUSED, mapped by Baileys to "connection lost"
      expect(failed.reason).toMatch(/^closed with 408 .*ECONNREFUSED.*; retrying in/);
      expect(sender.ready()).toBe(false);
      await expect(sender.send({ id: 'w', platform: 'whatsapp', chatId: '120363025246125486@g.us', threadId: null, options: {} }, { kind: 'text', text: 'x' })).rejects.toMatchObject({
        kind: 'transient',
      });
    } finally {
      await connection.stop();
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    }
    expect(connection.state()).toBe('stopped');
    expect(crashes).toEqual([]);
  });
});

describe('probeWhatsApp', () => {
  it('rejects with 408 and the socket error when nothing listens; resolves when the port accepts', async () => {
    const port = await closedPort();
    const err = await probeWhatsApp(`ws://127.0.0.1:${port}/ws/chat`, 2_000).then(
      () => null,
      (e: unknown) => e,
    );
    expect(errorStatusCode(err)).toBe(408);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);

    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await expect(probeWhatsApp(`ws://127.0.0.1:${(server.address() as { port: number }).port}/ws/chat`, 2_000)).resolves.toBeUndefined();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
