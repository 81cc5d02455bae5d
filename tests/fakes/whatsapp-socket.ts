import { EventEmitter } from 'node:events';
import type {
  BaileysEventEmitter,
  BaileysEventMap,
  ConnectionState,
  Contact,
  GroupMetadata,
  NewsletterMetadata,
  ReachoutTimelockState,
  WAMessage,
} from '@whiskeysockets/baileys';
import { createLogger, type Logger } from '../../src/log.js';
import type { SocketFactory, SocketFactoryOptions, SocketLike } from '../../src/platforms/whatsapp/socket.js';

/**
 * A stand-in for a Baileys socket, typed against the same `Pick<WASocket, …>` the connection manager
 * uses: when Baileys changes one of those signatures, this file stops type-checking. `ev` is a real
 * EventEmitter behind Baileys' own BaileysEventEmitter interface, so tests replay the exact event payloads
 * Baileys emits (`connection.update`, `messages.upsert`, …).
 */
export class FakeEventEmitter implements BaileysEventEmitter {
  private readonly ee = new EventEmitter();

  on<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void {
    this.ee.on(event, listener);
  }

  off<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void {
    this.ee.off(event, listener);
  }

  removeAllListeners<T extends keyof BaileysEventMap>(event: T): void {
    this.ee.removeAllListeners(event);
  }

  emit<T extends keyof BaileysEventMap>(event: T, arg: BaileysEventMap[T]): boolean {
    return this.ee.emit(event, arg);
  }

  /** Listeners still attached, over all events (0 once the manager let go of this socket). */
  totalListeners(): number {
    return this.ee.eventNames().reduce((n, e) => n + this.ee.listenerCount(e), 0);
  }
}

/** An error shaped like the @hapi/boom errors Baileys throws: `output.statusCode`, optional numeric `data`. */
export function boom(statusCode: number, message = `boom ${statusCode}`, data?: unknown): Error {
  return Object.assign(new Error(message), {
    isBoom: true,
    output: { statusCode, payload: { statusCode, message }, headers: {} },
    ...(data === undefined ? {} : { data }),
  });
}

/** A query error as Baileys builds it from an `<error code=… text=…>` node: statusCode 500, `data` the code. */
export function iqError(code: number, text: string): Error {
  return boom(500, text, code);
}

export interface SentRecord {
  jid: string;
  content: Parameters<SocketLike['sendMessage']>[1];
  options: Parameters<SocketLike['sendMessage']>[2];
  id: string;
}

export class FakeWhatsAppSocket implements SocketLike {
  readonly ev = new FakeEventEmitter();
  user: Contact | undefined = { id: '5511900000000:7@s.whatsapp.net', lid: '88800000000:7@lid', name: 'Manchete' };
  readonly signalRepository = {
    lidMapping: {
      getPNForLID: async (lid: string): Promise<string | null> => this.lids.get(lid) ?? null,
    },
  };

  readonly sent: SentRecord[] = [];
  readonly presence: { type: string; jid: string | undefined }[] = [];
  readonly pairingRequests: string[] = [];
  readonly groups = new Map<string, GroupMetadata>();
  /** Channel metadata as WhatsApp answers it, by `jid:<id>` or `invite:<code>` (raw fields included). */
  readonly newsletters = new Map<string, NewsletterMetadata & Record<string, unknown>>();
  readonly lids = new Map<string, string>();
  timelock: ReachoutTimelockState = { isActive: false };
  endCalls = 0;
  private readonly sendFailures: Error[] = [];
  private counter = 0;

  constructor(readonly options: SocketFactoryOptions) {}

  /** The next sendMessage throws this error (queued: one error per call). */
  failNextSend(err: Error): void {
    this.sendFailures.push(err);
  }

  sendMessage: SocketLike['sendMessage'] = async (jid, content, options) => {
    const failure = this.sendFailures.shift();
    if (failure) throw failure;
    const id = `3EB0FAKE${String(++this.counter).padStart(6, '0')}`;
    this.sent.push({ jid, content, options, id });
    const message: WAMessage['message'] =
      'text' in content
        ? { extendedTextMessage: { text: content.text } }
        : 'image' in content
          ? { imageMessage: { caption: content.caption ?? null } }
          : { conversation: '(other)' };
    return { key: { remoteJid: jid, fromMe: true, id }, message, messageTimestamp: 1_700_000_000, status: 1 };
  };

  groupMetadata: SocketLike['groupMetadata'] = async (jid) => {
    const meta = this.groups.get(jid);
    if (!meta) throw iqError(404, 'item-not-found');
    return meta;
  };

  groupFetchAllParticipating: SocketLike['groupFetchAllParticipating'] = async () => Object.fromEntries(this.groups);

  newsletterMetadata: SocketLike['newsletterMetadata'] = async (type, key) => this.newsletters.get(`${type}:${key}`) ?? null;

  requestPairingCode: SocketLike['requestPairingCode'] = async (phoneNumber) => {
    this.pairingRequests.push(phoneNumber);
    return 'ABCD1234';
  };

  end: SocketLike['end'] = async (error) => {
    this.endCalls += 1;
    // Like Baileys: ending emits a close (the manager must have detached already, and ignore it).
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error: error ?? boom(428, 'Connection Closed'), date: new Date() } });
  };

  sendPresenceUpdate: SocketLike['sendPresenceUpdate'] = async (type, jid) => {
    this.presence.push({ type, jid });
  };

  onWhatsApp: SocketLike['onWhatsApp'] = async (...numbers) => numbers.map((n) => ({ jid: `${n}@s.whatsapp.net`, exists: true }));

  fetchAccountReachoutTimelock: SocketLike['fetchAccountReachoutTimelock'] = async () => this.timelock;

  // ---- scripting --------------------------------------------------------------------------------------

  emitConnection(update: Partial<ConnectionState>): void {
    this.ev.emit('connection.update', update);
  }

  open(): void {
    this.emitConnection({ connection: 'open' });
  }

  close(code: number, message = `closed ${code}`): void {
    this.emitConnection({ connection: 'close', lastDisconnect: { error: boom(code, message), date: new Date() } });
  }
}

/** A socket factory handing out fake sockets; `setup` runs on each (add groups, channels, LID mappings). */
export function fakeSocketFactory(setup?: (s: FakeWhatsAppSocket) => void): {
  factory: SocketFactory;
  sockets: FakeWhatsAppSocket[];
  last(): FakeWhatsAppSocket;
} {
  const sockets: FakeWhatsAppSocket[] = [];
  return {
    factory: (opts) => {
      const s = new FakeWhatsAppSocket(opts);
      setup?.(s);
      sockets.push(s);
      return s;
    },
    sockets,
    last() {
      const s = sockets[sockets.length - 1];
      if (!s) throw new Error('no socket was created yet');
      return s;
    },
  };
}

/** Group metadata with sensible defaults; `participants` as [jid, admin?] pairs. */
export function groupMeta(id: string, fields: Partial<GroupMetadata> & { members?: [string, ('admin' | 'superadmin' | null)?][] } = {}): GroupMetadata {
  const { members, ...rest } = fields;
  return {
    id,
    subject: `Group ${id.slice(0, 6)}`,
    owner: undefined,
    participants: (members ?? []).map(([jid, admin]) => ({ id: jid, admin: admin ?? null })),
    ...rest,
  };
}

/** A logger whose JSON lines are kept for assertions (`lines()` parses them). */
export function captureLogger(level = 'debug'): { logger: Logger; lines: () => { msg: string; level: number; [k: string]: unknown }[] } {
  const out: string[] = [];
  const logger = createLogger({ level }, { write: (s: string) => void out.push(s) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as { msg: string; level: number }) };
}

/** Lets every pending promise chain run (timers stay frozen under vi fake timers that leave setImmediate real). */
export async function flush(times = 3): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => setImmediate(r));
}
