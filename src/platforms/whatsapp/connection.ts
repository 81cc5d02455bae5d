import type { BaileysEventMap, ConnectionState, GroupMetadata, proto, WAMessage, WAMessageKey } from '@whiskeysockets/baileys';
import { backoffMs } from '../../lib/backoff.js';
import type { Logger } from '../../log.js';
import type { Db } from '../../store/db.js';
import type { DatabaseAuthState } from './auth-store.js';
import { GroupMetadataCache } from './group-cache.js';
import { acquireLease, describeHeldLease, releaseLease, renewLease } from './lease.js';
import { Lru } from './lru.js';
import { errorMessage, errorStatusCode, type SocketFactory, type SocketLike } from './socket.js';

/**
 * The WhatsApp connection manager: one Baileys socket at a time, replaced on every reconnect, driven by the
 * close codes WhatsApp sends. It owns the session lease, the group metadata cache and the memory of recent
 * outbound messages; it knows nothing about articles or commands.
 *
 * States (shown in /status, /health and the log; docs/whatsapp.md says what to do about each):
 * - `stopped`: not running (never started, stopped at shutdown, or gave up after repeated replacements);
 * - `connecting`: a socket is opening (or the process waits for the session lease);
 * - `pairing`: WhatsApp asked for pairing: a QR code or a pairing code is waiting for the phone;
 * - `open`: connected; sends go out;
 * - `reconnecting`: the connection dropped; waiting out a backoff before the next attempt;
 * - `logged_out`: WhatsApp ended the session (401): the stored session was wiped; pair again;
 * - `restricted`: connected, but WhatsApp restricts the account (463 / reachoutTimeLock): sends pause and
 *   resume by themselves when the restriction ends.
 *
 * Close codes: 515 reconnect now; 401 wipe the session and stop; 440 (another client took the session)
 * back off and give up after `maxReplaced` in a row; 408/428/500/503 and anything else exponential backoff
 * with jitter, capped.
 */
export type WhatsAppState = 'stopped' | 'connecting' | 'pairing' | 'open' | 'reconnecting' | 'logged_out' | 'restricted';

/** One state transition, as listeners see it. */
export interface WhatsAppStateChange {
  state: WhatsAppState;
  previous: WhatsAppState;
  /** Why, in words for the operator: `closed with 428 (Connection Terminated); retrying in 4s`. */
  reason: string;
  /** When the next attempt (reconnecting, waiting for the lease) or restriction check happens. */
  retryAt: Date | null;
  /** The close code that caused it, when there is one. */
  code: number | null;
  at: Date;
}

/** A snapshot for /status and /health. */
export interface WhatsAppStatus {
  session: string;
  state: WhatsAppState;
  since: Date;
  reason: string;
  retryAt: Date | null;
  /** Connection attempts that failed in a row (reset when a connection opens). */
  failures: number;
  /** The paired account's phone number (digits), once connected. */
  account: string | null;
  restrictedUntil: Date | null;
}

export interface WhatsAppConnectionOptions {
  /** The session name (WHATSAPP_SESSION): the lease name is `whatsapp:<session>`. */
  session: string;
  /**
   * The session's keys, or a loader run before the first attempt that gets past `reachable` (loading the
   * auth state loads Baileys, which a process that cannot reach WhatsApp should not hold).
   */
  auth: DatabaseAuthState | (() => Promise<DatabaseAuthState>);
  socketFactory: SocketFactory;
  /**
   * Run before each attempt; a rejection is a failed attempt (backoff as for a close; its `output.statusCode`
   * is the close code). Production checks that WhatsApp's server answers (`probeWhatsApp`).
   */
  reachable?: () => Promise<void>;
  logger: Logger;
  /** Pair with a pairing code for this phone number (digits, country code first) instead of a QR code. */
  phone?: string;
  /**
   * Called with each QR code while pairing (they rotate about every 20 s). Without `onQr` and `phone`, an
   * unpaired session is not paired here: the manager stops in `logged_out` and says to run the login command.
   */
  onQr?: (qr: string) => void;
  /** Called with the 8-character pairing code when `phone` is set. */
  onPairingCode?: (code: string) => void;
  /** Backoff between failed attempts: starts at `initialMs` (2 s), doubles, capped at `maxMs` (5 min), jittered. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** 440 (replaced) closes in a row before giving up (default 3). */
  maxReplaced?: number;
  /** A connection open this long resets the replacement count (default 5 min). */
  stableMs?: number;
  /** How long sends pause after a 463 when WhatsApp gives no end time (default 30 min). */
  restrictedRetryMs?: number;
  /** Hold the session lease in this database while connected (recommended; required with several instances). */
  lease?: { db: Db; holder: string; ttlMs?: number };
  /** How many recent outbound messages `getMessage` can serve (default 500). */
  recentMessages?: number;
  groupCache?: GroupMetadataCache;
  random?: () => number;
  clock?: () => number;
}

type Listener<T> = (arg: T) => void;

const DEFAULT_LEASE_TTL = 60_000;
/** 515 asks for an immediate restart; more than this many in a row without opening falls back to backoff. */
const MAX_IMMEDIATE_RESTARTS = 3;
const CODES: Record<number, string> = {
  401: 'logged out',
  403: 'forbidden',
  408: 'connection lost or timed out',
  411: 'multi-device mismatch',
  428: 'connection closed',
  440: 'replaced by another session',
  463: 'account restricted',
  500: 'bad session or server error',
  503: 'service unavailable',
  515: 'restart required',
};

/**
 * Exponential backoff with jitter: attempt 1 waits about `initialMs`, each further attempt doubles it, never
 * beyond `maxMs`. The wait is drawn in [base/2, base] so many instances restarting together spread out.
 */
export function backoffDelay(attempt: number, opts: { initialMs: number; maxMs: number }, random: () => number): number {
  return backoffMs(attempt, { baseMs: opts.initialMs, capMs: opts.maxMs }, random);
}

/** The digits of a phone-number JID (`5511999998888:12@s.whatsapp.net` → `5511999998888`); null for others. */
export function phoneOfJid(jid: string | null | undefined): string | null {
  if (!jid) return null;
  const m = /^(\d+)(?::\d+)?@(s\.whatsapp\.net|c\.us)$/.exec(jid);
  return m ? m[1]! : null;
}

export class WhatsAppConnection {
  private sock: SocketLike | null = null;
  /** The auth state once loaded (see `WhatsAppConnectionOptions.auth`). */
  private auth: DatabaseAuthState | null;
  /** An attempt is being prepared (probe, auth, Baileys loading): no second one starts meanwhile. */
  private attempting = false;
  /** Removes the listeners attached to `sock` (ours and forwarded ones). */
  private detachers: (() => void)[] = [];
  /** Events forwarded to `on()` listeners, with the dispatcher attached to the current socket. */
  private readonly forwarded = new Map<keyof BaileysEventMap, Set<Listener<never>>>();
  private readonly stateListeners = new Set<Listener<WhatsAppStateChange>>();

  private current: WhatsAppState = 'stopped';
  private since: Date;
  private reason = 'not started';
  private retryAt: Date | null = null;
  private running = false;
  private socketOpen = false;
  private pairingRequested = false;
  private failures = 0;
  private replaced = 0;
  private restarts = 0;
  private openedAt: number | null = null;
  private restrictedUntil: number | null = null;
  private account: string | null = null;

  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private restrictTimer: ReturnType<typeof setTimeout> | null = null;
  private renewTimer: ReturnType<typeof setInterval> | null = null;
  private leaseExpiresAt = 0;
  private credsChain: Promise<void> = Promise.resolve();

  private readonly recent: Lru<string, proto.IMessage>;
  readonly groups: GroupMetadataCache;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly baileysLogger: Logger;

  constructor(private readonly opts: WhatsAppConnectionOptions) {
    this.clock = opts.clock ?? Date.now;
    this.auth = typeof opts.auth === 'function' ? null : opts.auth;
    this.random = opts.random ?? Math.random;
    this.since = new Date(this.clock());
    this.recent = new Lru(opts.recentMessages ?? 500);
    this.groups = opts.groupCache ?? new GroupMetadataCache({ clock: this.clock });
    this.log = opts.logger.child({ platform: 'whatsapp', session: opts.session });
    this.baileysLogger = baileysChildLogger(opts.logger);
  }

  /** The current state. */
  state(): WhatsAppState {
    return this.current;
  }

  /** Everything /status and /health show. */
  status(): WhatsAppStatus {
    return {
      session: this.opts.session,
      state: this.current,
      since: this.since,
      reason: this.reason,
      retryAt: this.retryAt,
      failures: this.failures,
      account: this.account,
      restrictedUntil: this.restrictedUntil === null ? null : new Date(this.restrictedUntil),
    };
  }

  /** Listens to state changes; returns the unsubscribe function. */
  onStateChange(listener: Listener<WhatsAppStateChange>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Listens to a Baileys event on whichever socket is current: the listener survives reconnects (it is
   * moved from each old socket to the new one). Returns the unsubscribe function.
   */
  on<E extends keyof BaileysEventMap>(event: E, listener: Listener<BaileysEventMap[E]>): () => void {
    let set = this.forwarded.get(event);
    if (!set) {
      set = new Set();
      this.forwarded.set(event, set);
      if (this.sock) this.attachForwarder(this.sock, event);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  /** The socket while connected (open or restricted); null otherwise. Callers must not keep it. */
  socket(): SocketLike | null {
    return this.socketOpen ? this.sock : null;
  }

  /** Starts connecting (after taking the lease, when configured). Does not wait for the connection. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.replaced = 0;
    this.restarts = 0;
    if (this.opts.lease) await this.takeLease();
    else this.connectNow('starting');
  }

  /** Closes the socket, cancels timers and frees the lease. State `stopped` unless already `logged_out`. */
  async stop(reason = 'stopped by Manchete'): Promise<void> {
    this.running = false;
    this.clearTimers();
    const sock = this.sock;
    this.detach();
    if (sock) await Promise.resolve(sock.end(undefined)).catch(() => undefined);
    await this.credsChain;
    await this.freeLease();
    if (this.current !== 'logged_out') this.setState('stopped', reason);
  }

  /** Resolves with the state once `predicate` holds (checked now and on every change); rejects on timeout. */
  waitForState(predicate: (s: WhatsAppState) => boolean, timeoutMs: number): Promise<WhatsAppState> {
    if (predicate(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`WhatsApp did not reach the expected state within ${formatMs(timeoutMs)} (now ${this.current}: ${this.reason})`));
      }, timeoutMs);
      const off = this.onStateChange((c) => {
        if (!predicate(c.state)) return;
        clearTimeout(timer);
        off();
        resolve(c.state);
      });
    });
  }

  /** Remembers a message Manchete sent, so a recipient's retry request can be served by `getMessage`. */
  rememberSent(msg: WAMessage | undefined): void {
    if (msg?.key?.id && msg.message) this.recent.set(msg.key.id, msg.message);
  }

  /** What Baileys' `getMessage` returns: one of Manchete's own recent outbound messages, or undefined. */
  async getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined> {
    return key.id ? this.recent.get(key.id) : undefined;
  }

  /** Group metadata from the cache, fetched (and cached) on a miss. Throws the socket's error. */
  async groupMetadata(jid: string): Promise<GroupMetadata> {
    const cached = this.groups.get(jid);
    if (cached) return cached;
    const sock = this.sock;
    if (!sock || !this.socketOpen) throw new Error(`WhatsApp is not connected (state ${this.current}); cannot read group ${jid}`);
    const meta = await sock.groupMetadata(jid);
    this.groups.set(meta);
    return meta;
  }

  /** Maps a `…@lid` JID to the phone number JID WhatsApp knows for it; null when unknown or not connected. */
  async lidToPhone(lid: string): Promise<string | null> {
    const sock = this.sock;
    if (!sock) return null;
    try {
      return await sock.signalRepository.lidMapping.getPNForLID(lid);
    } catch (err) {
      this.log.debug({ err: errorMessage(err), lid }, 'LID lookup failed');
      return null;
    }
  }

  /**
   * Pauses sends: a send failed with 463 or WhatsApp set a reachout timelock. Sends resume at `until` (or
   * after `restrictedRetryMs`), after asking WhatsApp whether the lock is still active.
   */
  markRestricted(reason: string, until?: Date | null): void {
    const now = this.clock();
    const end = until && until.getTime() > now ? until.getTime() : now + (this.opts.restrictedRetryMs ?? 30 * 60_000);
    this.restrictedUntil = end;
    if (this.restrictTimer) clearTimeout(this.restrictTimer);
    this.restrictTimer = setTimeout(() => void this.checkRestriction(), end - now);
    if (this.current === 'open' || this.current === 'restricted') {
      this.setState('restricted', `${reason}; sends paused until ${new Date(end).toISOString()}`, { retryAt: new Date(end), code: 463 });
    }
    this.log.warn({ event: 'whatsapp.restricted', until: new Date(end).toISOString() }, `WhatsApp account restricted: ${reason}`);
  }

  // ---- connecting -------------------------------------------------------------------------------------

  private connectNow(why: string): void {
    if (!this.running || this.sock || this.attempting) return; // at most one socket (one connect in flight) at a time
    this.clearRetryTimer();
    this.pairingRequested = false;
    const { reachable } = this.opts;
    const loadAuth = typeof this.opts.auth === 'function' ? this.opts.auth : null;
    if (!reachable && (this.auth || !loadAuth)) {
      this.createSocket(why);
      return;
    }
    // Probe first, then the session and Baileys: an unreachable WhatsApp never loads either.
    this.attempting = true;
    this.setState('connecting', why);
    void (async () => {
      await reachable?.();
      if (!this.auth && loadAuth) this.auth = await loadAuth();
    })().then(
      () => {
        this.attempting = false;
        if (this.running && !this.sock) this.createSocket(why);
      },
      (err: unknown) => {
        this.attempting = false;
        if (this.running && !this.sock) this.failAttempt(err);
      },
    );
  }

  private createSocket(why: string): void {
    let made: SocketLike | Promise<SocketLike>;
    try {
      made = this.opts.socketFactory({
        auth: this.auth!.state,
        logger: this.baileysLogger,
        getMessage: (key) => this.getMessage(key),
        cachedGroupMetadata: (jid) => this.groupMetadata(jid).catch(() => undefined),
      });
    } catch (err) {
      this.failAttempt(err);
      return;
    }
    if (!(made instanceof Promise)) {
      this.adopt(made, why);
      return;
    }
    this.attempting = true;
    this.setState('connecting', why);
    made.then(
      (sock) => {
        this.attempting = false;
        this.adopt(sock, why);
      },
      (err: unknown) => {
        this.attempting = false;
        if (this.running && !this.sock) this.failAttempt(err);
      },
    );
  }

  private adopt(sock: SocketLike, why: string): void {
    if (!this.running || this.sock) {
      // Stopped (or replaced) while the socket was being made.
      void Promise.resolve(sock.end(undefined)).catch(() => undefined);
      return;
    }
    this.sock = sock;
    this.socketOpen = false;
    this.attach(sock);
    this.setState('connecting', why);
  }

  /** An attempt that failed before a socket existed: unreachable, or the socket could not be made. */
  private failAttempt(err: unknown): void {
    const code = errorStatusCode(err);
    if (code === null) {
      this.scheduleReconnect(`could not create the WhatsApp socket: ${errorMessage(err)}`, null);
      return;
    }
    this.scheduleReconnect(`closed with ${code}${CODES[code] ? ` (${CODES[code]})` : ''}: ${errorMessage(err)}`, code);
  }

  private attach(sock: SocketLike): void {
    const add = <E extends keyof BaileysEventMap>(event: E, fn: Listener<BaileysEventMap[E]>) => {
      sock.ev.on(event, fn);
      this.detachers.push(() => sock.ev.off(event, fn));
    };
    add('connection.update', (u) => this.guard(sock, () => this.onConnectionUpdate(sock, u)));
    add('creds.update', () => this.guard(sock, () => this.saveCreds()));
    add('groups.upsert', (metas) => metas.forEach((m) => this.groups.set(m)));
    add('groups.update', (u) => this.groups.applyGroupsUpdate(u));
    add('group-participants.update', (u) => {
      if (this.groups.applyParticipantsUpdate(u)) void this.groupMetadata(u.id).catch(() => undefined);
    });
    add('messages.update', (updates) => this.guard(sock, () => this.onMessagesUpdate(updates)));
    for (const event of this.forwarded.keys()) this.attachForwarder(sock, event);
  }

  private attachForwarder(sock: SocketLike, event: keyof BaileysEventMap): void {
    const dispatch = (arg: unknown) => {
      if (sock !== this.sock) return;
      for (const l of this.forwarded.get(event) ?? []) {
        try {
          (l as Listener<unknown>)(arg);
        } catch (err) {
          this.log.error({ err: errorMessage(err), event }, 'a WhatsApp event listener threw');
        }
      }
    };
    sock.ev.on(event, dispatch);
    this.detachers.push(() => sock.ev.off(event, dispatch));
  }

  /** Removes every listener from the current socket and forgets it (does not end it). */
  private detach(): void {
    for (const d of this.detachers.splice(0)) {
      try {
        d();
      } catch {
        // an ended Baileys emitter may refuse; nothing to clean then
      }
    }
    this.sock = null;
    this.socketOpen = false;
  }

  private guard(sock: SocketLike, fn: () => void | Promise<void>): void {
    if (sock !== this.sock) return; // a late event from a replaced socket
    Promise.resolve()
      .then(() => (sock === this.sock ? fn() : undefined)) // checked again: an earlier event may have replaced it
      .catch((err) => this.log.error({ err: errorMessage(err) }, 'WhatsApp event handling failed'));
  }

  private saveCreds(): Promise<void> {
    this.credsChain = this.credsChain
      .then(() => this.auth?.saveCreds())
      .catch((err) => this.log.error({ event: 'whatsapp.creds_save_failed', err: errorMessage(err) }, 'could not save WhatsApp credentials to the database'));
    return this.credsChain;
  }

  private async onConnectionUpdate(sock: SocketLike, u: Partial<ConnectionState>): Promise<void> {
    if (u.reachoutTimeLock) this.onTimelock(u.reachoutTimeLock);
    if (u.qr) await this.onQr(sock, u.qr);
    if (u.connection === 'open') this.onOpen(sock);
    else if (u.connection === 'close') await this.onClose(u.lastDisconnect?.error);
  }

  private async onQr(sock: SocketLike, qr: string): Promise<void> {
    const { phone, onQr, onPairingCode } = this.opts;
    if (!phone && !onQr) {
      this.log.error({ event: 'whatsapp.not_paired' }, `WhatsApp session '${this.opts.session}' is not paired: run \`manchete whatsapp login\``);
      await this.halt('logged_out', 'the session is not paired: run `manchete whatsapp login`', null);
      return;
    }
    if (phone) {
      if (this.pairingRequested) return;
      this.pairingRequested = true;
      this.setState('pairing', `waiting for the pairing code to be entered on the phone ${phone}`);
      try {
        const code = await sock.requestPairingCode(phone.replace(/\D/g, ''));
        if (sock === this.sock) onPairingCode?.(code);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, `could not request a WhatsApp pairing code for ${phone}`);
      }
      return;
    }
    this.setState('pairing', 'waiting for the QR code to be scanned');
    onQr?.(qr);
  }

  private onOpen(sock: SocketLike): void {
    this.socketOpen = true;
    this.failures = 0;
    this.restarts = 0;
    this.openedAt = this.clock();
    this.account = phoneOfJid(sock.user?.id) ?? sock.user?.id ?? null;
    this.log.info({ event: 'whatsapp.open', account: this.account }, `WhatsApp connected${this.account ? ` as +${this.account}` : ''}`);
    if (this.restrictedUntil !== null && this.restrictedUntil > this.clock()) {
      this.setState('restricted', 'connected; the account is still restricted', { retryAt: new Date(this.restrictedUntil) });
    } else {
      this.restrictedUntil = null;
      this.setState('open', 'connected');
    }
  }

  private async onClose(error: Error | undefined): Promise<void> {
    const code = errorStatusCode(error);
    const what = `closed with ${code ?? 'no code'}${code && CODES[code] ? ` (${CODES[code]})` : ''}${error?.message ? `: ${error.message}` : ''}`;
    const stableFor = this.openedAt === null ? 0 : this.clock() - this.openedAt;
    this.detach();
    this.openedAt = null;
    if (!this.running) return;
    if (code !== 440) this.replaced = 0;
    if (code !== 515) this.restarts = 0;

    switch (code) {
      case 401: {
        this.log.error(
          { event: 'whatsapp.logged_out', code },
          `ALERT: WhatsApp logged this session out (${what}). The stored session was deleted; WhatsApp posting is off until someone runs \`manchete whatsapp login\`. Everything else carries on.`,
        );
        await Promise.resolve(this.auth?.clear()).catch((err) => this.log.error({ err: errorMessage(err) }, 'could not delete the WhatsApp session'));
        await this.halt('logged_out', `${what}; the session was deleted: run \`manchete whatsapp login\``, code);
        return;
      }
      case 403: {
        this.log.error(
          { event: 'whatsapp.forbidden', code },
          `ALERT: WhatsApp refused this account (${what}); it may be banned. WhatsApp posting is off; check the phone.`,
        );
        await this.halt('logged_out', `${what}; WhatsApp refused the account (possibly banned): check the phone`, code);
        return;
      }
      case 515: {
        this.restarts += 1;
        if (this.restarts <= MAX_IMMEDIATE_RESTARTS) {
          this.connectNow(`${what}; reconnecting now`);
          return;
        }
        this.scheduleReconnect(`${what} ${this.restarts} times in a row`, code);
        return;
      }
      case 440: {
        if (stableFor >= (this.opts.stableMs ?? 5 * 60_000)) this.replaced = 0;
        this.replaced += 1;
        const max = this.opts.maxReplaced ?? 3;
        if (this.replaced > max) {
          this.log.error(
            { event: 'whatsapp.replaced', times: this.replaced },
            `WhatsApp session '${this.opts.session}' was taken over by another client ${this.replaced} times in a row; giving up. Another process or WhatsApp Web uses this session: stop it, then restart Manchete.`,
          );
          await this.halt('stopped', `replaced by another client ${this.replaced} times in a row: another process or WhatsApp Web uses this session`, code);
          return;
        }
        // Opening in between resets `failures`; replacements in a row still wait longer each time.
        this.failures = Math.max(this.failures, this.replaced - 1);
        this.scheduleReconnect(`${what} (${this.replaced} of ${max})`, code);
        return;
      }
      default:
        this.scheduleReconnect(what, code);
    }
  }

  private scheduleReconnect(why: string, code: number | null): void {
    this.clearRetryTimer();
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.backoffOpts(), this.random);
    const retryAt = new Date(this.clock() + delay);
    this.setState('reconnecting', `${why}; retrying in ${formatMs(delay)}`, { retryAt, code });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectNow(`reconnecting (attempt ${this.failures + 1})`);
    }, delay);
  }

  private backoffOpts(): { initialMs: number; maxMs: number } {
    return { initialMs: this.opts.backoff?.initialMs ?? 2_000, maxMs: this.opts.backoff?.maxMs ?? 5 * 60_000 };
  }

  /** Stops for good (until start() is called again): logged out, refused, or replaced too often. */
  private async halt(state: 'logged_out' | 'stopped', why: string, code: number | null): Promise<void> {
    this.running = false;
    this.clearTimers();
    const sock = this.sock;
    this.detach();
    if (sock) await Promise.resolve(sock.end(undefined)).catch(() => undefined);
    await this.freeLease();
    this.setState(state, why, { code });
  }

  // ---- restriction ------------------------------------------------------------------------------------

  private onTimelock(lock: NonNullable<ConnectionState['reachoutTimeLock']>): void {
    if (lock.isActive) {
      const until = lock.timeEnforcementEnds ? new Date(lock.timeEnforcementEnds) : null;
      this.markRestricted(`WhatsApp set a reachout timelock (${lock.enforcementType ?? 'no type given'})`, until);
    } else if (lock.isActive === false && this.restrictedUntil !== null) {
      this.liftRestriction('WhatsApp lifted the reachout timelock');
    }
  }

  private onMessagesUpdate(updates: BaileysEventMap['messages.update']): void {
    for (const u of updates) {
      const params: unknown[] = Array.isArray(u.update.messageStubParameters) ? u.update.messageStubParameters : [];
      // status 0 is ERROR (proto.WebMessageInfo.Status.ERROR); 463 marks a restricted account.
      if (u.update.status === 0 && params.some((p) => String(p) === '463')) {
        this.markRestricted(`a message (${u.key.id ?? '?'}) to ${u.key.remoteJid ?? '?'} failed with 463`);
      }
    }
  }

  private async checkRestriction(): Promise<void> {
    this.restrictTimer = null;
    const sock = this.socket();
    if (sock) {
      try {
        const lock = await sock.fetchAccountReachoutTimelock();
        const end = lock.timeEnforcementEnds ? new Date(lock.timeEnforcementEnds).getTime() : null;
        if (lock.isActive && end !== null && end > this.clock()) {
          this.markRestricted('the reachout timelock is still active', new Date(end));
          return;
        }
      } catch (err) {
        this.log.debug({ err: errorMessage(err) }, 'could not ask WhatsApp about the restriction; resuming sends');
      }
    }
    this.liftRestriction('the restriction period ended; sends resume');
  }

  private liftRestriction(why: string): void {
    this.restrictedUntil = null;
    if (this.restrictTimer) clearTimeout(this.restrictTimer);
    this.restrictTimer = null;
    if (this.current === 'restricted') {
      this.log.info({ event: 'whatsapp.restriction_lifted' }, why);
      this.setState('open', why);
    }
  }

  // ---- lease ------------------------------------------------------------------------------------------

  private leaseName(): string {
    return `whatsapp:${this.opts.session}`;
  }

  private async takeLease(): Promise<void> {
    const lease = this.opts.lease;
    if (!lease || !this.running) return;
    const ttl = lease.ttlMs ?? DEFAULT_LEASE_TTL;
    try {
      const got = await acquireLease(lease.db, this.leaseName(), lease.holder, ttl, this.clock);
      if (!this.running) {
        if (got.ok) await releaseLease(lease.db, this.leaseName(), lease.holder).catch(() => undefined);
        return;
      }
      if (got.ok) {
        this.leaseExpiresAt = got.expiresAt.getTime();
        this.startRenewing(ttl);
        this.connectNow('starting');
        return;
      }
      const message = describeHeldLease(this.opts.session, got);
      this.log.warn({ event: 'whatsapp.lease_held', holder: got.holder, until: got.expiresAt.toISOString() }, message);
      const wait = Math.max(1_000, Math.min(got.expiresAt.getTime() - this.clock() + 1_000, ttl));
      this.waitForLease(message, wait);
    } catch (err) {
      const wait = backoffDelay(++this.failures, this.backoffOpts(), this.random);
      this.log.error({ err: errorMessage(err) }, `could not take the WhatsApp session lease; retrying in ${formatMs(wait)}`);
      this.waitForLease(`could not take the session lease: ${errorMessage(err)}`, wait);
    }
  }

  private waitForLease(why: string, waitMs: number): void {
    this.clearRetryTimer();
    this.setState('connecting', why, { retryAt: new Date(this.clock() + waitMs) });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.takeLease();
    }, waitMs);
  }

  private startRenewing(ttl: number): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = setInterval(() => void this.renew(ttl), Math.max(1_000, Math.floor(ttl / 3)));
  }

  private async renew(ttl: number): Promise<void> {
    const lease = this.opts.lease;
    if (!lease || !this.running) return;
    let lost: string | null = null;
    try {
      const got = await renewLease(lease.db, this.leaseName(), lease.holder, ttl, this.clock);
      if (got.ok) this.leaseExpiresAt = got.expiresAt.getTime();
      else lost = `the session lease now belongs to ${got.holder}`;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not renew the WhatsApp session lease');
      if (this.clock() >= this.leaseExpiresAt) lost = 'the session lease expired while the database was unreachable';
    }
    if (!lost || !this.running) return;
    this.log.error({ event: 'whatsapp.lease_lost' }, `${lost}; disconnecting WhatsApp so two processes never share the session`);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const sock = this.sock;
    this.detach();
    if (sock) await Promise.resolve(sock.end(undefined)).catch(() => undefined);
    this.waitForLease(lost, ttl);
  }

  private async freeLease(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const lease = this.opts.lease;
    if (!lease) return;
    await releaseLease(lease.db, this.leaseName(), lease.holder).catch((err) =>
      this.log.warn({ err: errorMessage(err) }, 'could not release the WhatsApp session lease'),
    );
  }

  // ---- state ------------------------------------------------------------------------------------------

  private setState(state: WhatsAppState, reason: string, extra: { retryAt?: Date | null; code?: number | null } = {}): void {
    const previous = this.current;
    if (state === previous && reason === this.reason) return;
    const at = new Date(this.clock());
    this.current = state;
    this.reason = reason;
    this.retryAt = extra.retryAt ?? null;
    if (state !== previous) this.since = at;
    const change: WhatsAppStateChange = { state, previous, reason, retryAt: this.retryAt, code: extra.code ?? null, at };
    const level = state === 'logged_out' || state === 'restricted' ? 'warn' : 'info';
    this.log[level]({ event: 'whatsapp.state', state, previous, code: change.code, retryAt: this.retryAt?.toISOString() }, `WhatsApp ${state}: ${reason}`);
    for (const l of this.stateListeners) {
      try {
        l(change);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'a WhatsApp state listener threw');
      }
    }
  }

  private clearRetryTimer(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private clearTimers(): void {
    this.clearRetryTimer();
    if (this.restrictTimer) clearTimeout(this.restrictTimer);
    this.restrictTimer = null;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }
}

/** Baileys' logger: a child of Manchete's at warn level (or quieter, if Manchete's own level is quieter). */
function baileysChildLogger(logger: Logger): Logger {
  const values = logger.levels.values;
  const own = values[logger.level] ?? Number.POSITIVE_INFINITY;
  const warn = values.warn ?? 40;
  return logger.child({ module: 'baileys' }, { level: own > warn ? logger.level : 'warn' });
}

/** `850 ms`, `4 s`, `5 min`: durations in log lines and errors. */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6_000) / 10} min`;
}
