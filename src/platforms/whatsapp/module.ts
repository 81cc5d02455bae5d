import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { openStore } from '../../store/db.js';
import type { PlatformHost, PlatformModule } from '../types.js';
import { whatsappPolicy } from '../../delivery/pacer.js';
import { makeInstanceId } from '../../lib/instance.js';
import type { Db } from '../../store/db.js';
import { destinationId } from '../../delivery/destinations.js';
import type { RouteDestination } from '../../delivery/routes-file.js';
import { PlatformSendError, type Destination, type DestinationOptions, type PlatformSender } from '../../delivery/types.js';
import { parseWhatsAppChats } from './chats.js';
import { WhatsAppConnection } from './connection.js';
import { createWhatsAppSender } from './sender.js';
import { makeBaileysSocketFactory, probeWhatsApp, type SocketFactory } from './socket.js';
import { useDatabaseAuthState } from './auth-store.js';
import { wireCommands } from './incoming.js';
import { IMAGE_CACHE_ENTRIES, IMAGE_CACHE_TTL_MS, onceByUrl } from './image-cache.js';
import { fetchImage as fetchGuardedImage } from '../../sources/fetch.js';
import { SourceError } from '../../sources/types.js';

/**
 * Entry points the CLI loads lazily (so `manchete preview` never loads Baileys).
 */

/** `manchete whatsapp login [--phone …] [--force]`: opens the database, pairs, closes it. */
export async function whatsappLogin(
  config: Config,
  logger: Logger,
  opts: { phone?: string | undefined; print: (s: string) => void; force?: boolean },
): Promise<void> {
  const { runWhatsAppLogin } = await import('./login.js');
  const store = await openStore(config.databaseUrl);
  try {
    await runWhatsAppLogin({
      db: store.db,
      session: config.whatsapp.session,
      logger,
      print: opts.print,
      ...(opts.phone ? { phone: opts.phone } : {}),
      ...(opts.force ? { force: true } : {}),
      // The login is its own short process: its own instance id, marked as a login in the lease.
      lease: { holder: `${makeInstanceId().id} (login)` },
    });
  } finally {
    await store.close();
  }
}

/**
 * WhatsApp as the app sees it: the connection (lease, backoff, states), the sender and its pacing, the
 * configured destinations (checked each time the connection opens), and commands through the shared router.
 */
export async function createWhatsAppModule(
  config: Config,
  logger: Logger,
  routeDestinations: RouteDestination[],
  /** Process boundaries, replaceable in tests: the WhatsApp socket and image downloads. */
  io: { socketFactory?: SocketFactory; fetchImage?: (url: string) => Promise<Uint8Array> } = {},
): Promise<PlatformModule> {
  const log = logger.child({ platform: 'whatsapp' });
  const destinations: Destination[] = [];
  const add = (chat: string, options: DestinationOptions) => {
    for (const c of parseWhatsAppChats([chat])) {
      const d: Destination = { id: destinationId('whatsapp', c.chatId), platform: 'whatsapp', chatId: c.chatId, threadId: null, options };
      const i = destinations.findIndex((x) => x.id === d.id);
      if (i >= 0) destinations[i] = d;
      else destinations.push(d);
    }
  };
  for (const chat of config.whatsapp.chats) add(chat, {});
  for (const r of routeDestinations.filter((d) => d.platform === 'whatsapp')) add(r.chat, r.options);

  // Command replies and posts share the pacer's gaps; the hourly cap is split so that each keeps its share.
  const policy = whatsappPolicy({
    gapMs: config.whatsapp.gapMs,
    chatGapMs: config.whatsapp.chatGapMs,
    hourlyCap: config.whatsapp.hourlyCap,
    replyShare: config.whatsapp.replyShare,
  });
  let host: PlatformHost | null = null;
  let connection: WhatsAppConnection | null = null;
  let unwire: (() => void) | null = null;
  // Article images come from feed content: hostile URLs, through the guarded fetcher with its streaming
  // byte limit (PAGE_MAX_BYTES, counted after decompression, so a gzip bomb is stopped while it inflates).
  const download = io.fetchImage ?? (async (url: string): Promise<Uint8Array> => {
    try {
      return (await fetchGuardedImage(url, { ...config.fetch, maxBytes: config.fetch.pageMaxBytes, trusted: false })).bytes;
    } catch (err) {
      if (err instanceof SourceError && err.details.kind === 'blocked') log.warn({ event: 'fetch.blocked', url, reason: err.message }, err.message);
      throw err;
    }
  });
  const fetchImage = onceByUrl(download, { entries: IMAGE_CACHE_ENTRIES, ttlMs: IMAGE_CACHE_TTL_MS });

  // The sender needs the connection, which needs the database: both are made in start(); until then
  // the dispatcher sees a sender that is not ready and leaves WhatsApp deliveries waiting.
  let sender: ReturnType<typeof createWhatsAppSender> | null = null;
  const facade: PlatformSender = {
    platform: 'whatsapp',
    send: (dest, msg) => (sender ? sender.send(dest, msg) : Promise.reject(new PlatformSendError('transient', 'WhatsApp is not connected'))),
    edit: (dest, id, msg) => (sender ? sender.edit(dest, id, msg) : Promise.reject(new PlatformSendError('transient', 'WhatsApp is not connected'))),
    check: (dest) => (sender ? sender.check(dest) : Promise.resolve({ ok: false, message: 'WhatsApp is not connected yet' })),
    ready: () => sender?.ready() ?? false,
  };

  const checkDestinations = async () => {
    if (!host || !sender) return;
    for (const d of destinations) {
      const c = await sender.check(d);
      host.print(`${d.chatId}: ${c.message}`);
      if (c.resolvedChatId && c.resolvedChatId !== d.chatId) await host.destinations.migrate(d.id, c.resolvedChatId);
      if (c.title || c.kind) await host.destinations.describe(d.id, { title: c.title ?? null, kind: c.kind ?? null });
      if (c.gone) await host.destinations.markDead(d.id, c.message);
    }
  };

  return {
    platform: 'whatsapp',
    sender: facade,
    pacing: policy,
    destinations,
    state: () => connection?.state() ?? 'stopped',
    async start(h: PlatformHost) {
      host = h;
      // The connection keeps its own handle on the database (auth keys are written from socket events).
      const store = h.store;
      connection = new WhatsAppConnection({
        session: config.whatsapp.session,
        // Loaded with the first attempt that reaches WhatsApp: the session and Baileys stay out of memory
        // while the network is down.
        auth: () => useDatabaseAuthState(store.db, config.whatsapp.session),
        socketFactory: io.socketFactory ?? makeBaileysSocketFactory(),
        ...(io.socketFactory ? {} : { reachable: () => probeWhatsApp() }),
        logger: log,
        // With several instances (PostgreSQL) the session's lease is INSTANCE_LEASE, like every other claim.
        lease: { db: store.db, holder: h.instanceId, ...(store.dialect === 'postgres' ? { ttlMs: config.instanceLeaseMs } : {}) },
      });
      sender = createWhatsAppSender({ connection, logger: log, fetchImage });
      sender.onMessageUpdate((u) => {
        if (u.status !== 'error') return;
        void recordMessageError(store.db, u.messageId, u.chatId, u.error ?? 'error reported by WhatsApp').catch(() => undefined);
        log.warn({ event: 'whatsapp.message_error', message: u.messageId, chat: u.chatId, error: u.error }, `WhatsApp reported an error for a sent message in ${u.chatId}: ${u.error}`);
      });
      connection.onStateChange((ch) => {
        const line = `WhatsApp: ${ch.previous} → ${ch.state}${ch.reason ? ` (${ch.reason})` : ''}`;
        if (ch.state === 'logged_out' || ch.state === 'restricted') log.error({ event: 'whatsapp.state', ...ch }, line);
        else log.info({ event: 'whatsapp.state', ...ch }, line);
        if (ch.state === 'open') {
          void checkDestinations();
          h.wake();
        }
      });
      unwire = wireCommands(connection, (m) => h.router.handleMessage(m), {
        logger: log,
        // Answers are queued, not sent: the dispatcher paces them with the posts.
        deliver: (chatId, replies) => h.notifier.notify({ platform: 'whatsapp', chatId }, replies),
        groupReplyRate: config.whatsapp.groupReplyRate,
        // A command is answered only while the hour's reply reserve has room; with no reserve, the pacer's
        // shared cap is the only bound.
        accountReplyRate: policy.replyReserve ? { count: policy.replyReserve, perMs: policy.globalWindow?.windowMs ?? 3_600_000 } : null,
      });
      await connection.start();
    },
    async stop() {
      unwire?.();
      await connection?.stop();
    },
  };
}

/** A message WhatsApp refused after accepting it: note it on the delivery that sent it. */
async function recordMessageError(db: Db, messageId: string, chatId: string, error: string): Promise<void> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['id', 'message_ids', 'last_error'])
    .where('destination_id', '=', destinationId('whatsapp', chatId))
    .where('status', '=', 'sent')
    .orderBy('id', 'desc')
    .limit(50)
    .execute();
  const row = rows.find((r) => (r.message_ids ? (JSON.parse(r.message_ids) as string[]).includes(messageId) : false));
  if (!row) return;
  await db
    .updateTable('deliveries')
    .set({ last_error: `WhatsApp reported after sending: ${error}`, updated_at: new Date().toISOString() })
    .where('id', '=', row.id)
    .execute();
}
