import { connect as tcpConnect } from 'node:net';
import type {
  AuthenticationState,
  BaileysEventEmitter,
  GroupMetadata,
  proto,
  SignalRepositoryWithLIDStore,
  WAMessageKey,
  WASocket,
} from '@whiskeysockets/baileys';
import type { Logger } from '../../log.js';

/**
 * The part of a Baileys socket Manchete uses. Every member is picked from Baileys' own `WASocket` type, so
 * an upgrade that changes one of these signatures breaks the type-check here and in the test fake
 * (`tests/fakes/whatsapp-socket.ts`) instead of failing at run time. `ev` is narrowed to the event emitter
 * interface (on/off/emit) and `signalRepository` to the one lookup used: LID → phone number.
 */
export type SocketLike = Pick<
  WASocket,
  | 'sendMessage'
  | 'groupMetadata'
  | 'groupFetchAllParticipating'
  | 'newsletterMetadata'
  | 'requestPairingCode'
  | 'end'
  | 'user'
  | 'sendPresenceUpdate'
  | 'onWhatsApp'
  | 'fetchAccountReachoutTimelock'
> & {
  ev: BaileysEventEmitter;
  signalRepository: { lidMapping: Pick<SignalRepositoryWithLIDStore['lidMapping'], 'getPNForLID'> };
};

/** What the connection manager hands a socket factory for each new socket. */
export interface SocketFactoryOptions {
  auth: AuthenticationState;
  /** Baileys' own logger: a child of Manchete's at warn level (Baileys is chatty at info). */
  logger: Logger;
  /** Serves Manchete's own recent outbound messages, so a recipient's retry request can be answered. */
  getMessage: (key: WAMessageKey) => Promise<proto.IMessage | undefined>;
  /** Group metadata from Manchete's cache (refreshed on group events), saving a query per group send. */
  cachedGroupMetadata: (jid: string) => Promise<GroupMetadata | undefined>;
}

/** Creates one socket (one connection attempt), at once or once Baileys is loaded. Injected so tests use a fake. */
export type SocketFactory = (opts: SocketFactoryOptions) => SocketLike | Promise<SocketLike>;

/** Options for the real factory; all optional. */
export interface BaileysSocketOptions {
  /**
   * WhatsApp's WebSocket URL. Tests point it at a closed loopback port to check that Manchete sits in backoff
   * without network; operators never need it.
   */
  waWebSocketUrl?: string;
  /** Fails a connection attempt that has not opened within this time. Baileys' default is 20 s. */
  connectTimeoutMs?: number;
  /** How the linked device shows in the phone's "Linked devices" list. */
  browser?: [string, string, string];
}

/**
 * The production socket factory: `makeWASocket` with the settings that matter for a news account:
 * - `markOnlineOnConnect: false`: the phone keeps getting notifications, and the account does not look
 *   like a bot sitting online all day;
 * - `syncFullHistory: false`: Manchete needs no chat history;
 * - `cachedGroupMetadata` and `getMessage` from the connection manager;
 * - signal keys behind Baileys' in-memory cache, over the database store.
 * Baileys is imported with the first socket (about 50 MB resident), not when the module loads.
 */
export function makeBaileysSocketFactory(options: BaileysSocketOptions = {}): SocketFactory {
  return async (opts) => {
    const { Browsers, makeCacheableSignalKeyStore, makeWASocket } = await import('@whiskeysockets/baileys');
    return makeWASocket({
      auth: { creds: opts.auth.creds, keys: makeCacheableSignalKeyStore(opts.auth.keys, opts.logger) },
      logger: opts.logger,
      browser: options.browser ?? Browsers.ubuntu('Chrome'),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      getMessage: opts.getMessage,
      cachedGroupMetadata: opts.cachedGroupMetadata,
      ...(options.waWebSocketUrl ? { waWebSocketUrl: options.waWebSocketUrl } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
  };
}

/** WhatsApp's WebSocket endpoint (Baileys' default `waWebSocketUrl`). */
export const WHATSAPP_WEB_SOCKET_URL = 'wss://web.whatsapp.com/ws/chat';

/**
 * Checks that WhatsApp's server accepts a TCP connection before an attempt loads Baileys and the session:
 * on a machine without network (or with WhatsApp blocked) the process then waits out its backoff at the
 * memory of a process without WhatsApp, instead of holding Baileys (about 50 MB) for nothing. Rejects
 * with an error carrying status 408, the code Baileys gives the same failure, so the connection manager
 * treats both alike. The probe is closed at once; Baileys opens its own connection.
 */
export function probeWhatsApp(url = WHATSAPP_WEB_SOCKET_URL, timeoutMs = 20_000): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port) || (u.protocol === 'wss:' || u.protocol === 'https:' ? 443 : 80);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    const fail = (err: Error) => {
      socket.destroy();
      reject(Object.assign(new Error(err.message), { output: { statusCode: 408 } }));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`connect ETIMEDOUT ${host}:${port} (no answer in ${timeoutMs / 1000} s)`)));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
  });
}

/**
 * The status code of a Baileys error: a close reason (`lastDisconnect.error`, a Boom with
 * `output.statusCode`) or a query error (a Boom whose `data` is the server's numeric code, e.g. 403 for
 * "not-authorized", 404 for "item-not-found"). Null when the error carries none.
 */
export function errorStatusCode(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { data?: unknown; output?: { statusCode?: unknown }; isBoom?: unknown; statusCode?: unknown };
  if (typeof e.data === 'number' && Number.isFinite(e.data) && e.data > 0) return e.data;
  const status = e.output?.statusCode;
  if (typeof status === 'number') return status;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return null;
}

/** The error's message, whatever was thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
