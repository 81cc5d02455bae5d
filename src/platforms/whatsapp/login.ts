import qrcode from 'qrcode-terminal';
import type { Logger } from '../../log.js';
import type { Db } from '../../store/db.js';
import { isPaired, useDatabaseAuthState } from './auth-store.js';
import { formatMs, WhatsAppConnection, type WhatsAppState } from './connection.js';
import { makeBaileysSocketFactory, type SocketFactory } from './socket.js';

/**
 * `manchete whatsapp login`: pairs the WhatsApp account once and stores the session in the database. The
 * running service then connects with it and never asks again. A QR code is printed in the terminal, or,
 * with a phone number, an 8-character pairing code to type in WhatsApp → Linked devices → Link with phone
 * number instead.
 */
export interface WhatsAppLoginOptions {
  db: Db;
  session: string;
  logger: Logger;
  /** Pair by code for this number (digits with country code, e.g. 5511999998888) instead of a QR code. */
  phone?: string;
  /** Where the QR code and instructions go (the terminal). */
  print: (s: string) => void;
  socketFactory?: SocketFactory;
  /** Give up after this long without pairing (default 3 min). */
  timeoutMs?: number;
  /** Delete the stored session first and pair again (a new number, or a broken session). */
  force?: boolean;
  /** Hold the session lease while pairing, so a running service does not use the session meanwhile. */
  lease?: { holder: string; ttlMs?: number };
  /** For tests: renders a QR code as text. Defaults to qrcode-terminal's small rendering. */
  renderQr?: (qr: string) => Promise<string>;
}

export type WhatsAppLoginFailure = 'already_paired' | 'refused' | 'timeout' | 'replaced' | 'failed';

/** Why pairing did not happen, with what to do next in the message. */
export class WhatsAppLoginError extends Error {
  constructor(
    readonly reason: WhatsAppLoginFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WhatsAppLoginError';
  }
}

/** Pairs and resolves with the paired account's number; throws WhatsAppLoginError otherwise. */
export async function runWhatsAppLogin(opts: WhatsAppLoginOptions): Promise<{ account: string | null }> {
  const auth = await useDatabaseAuthState(opts.db, opts.session);
  if (isPaired(auth.state.creds)) {
    if (!opts.force) {
      const who = auth.state.creds.me?.id?.split(/[:@]/)[0];
      throw new WhatsAppLoginError(
        'already_paired',
        `WhatsApp session '${opts.session}' is already paired${who ? ` with +${who}` : ''}; \`npm start\` uses it. To pair again (another number, or after unlinking it on the phone), run the login with --force.`,
      );
    }
    await auth.clear();
  } else {
    // Start clean: a pairing code requested earlier and never confirmed would make Baileys try to log in,
    // and keys left over from a logged-out session must not mix with new creds.
    await auth.clear();
  }

  const renderQr = opts.renderQr ?? ((qr: string) => new Promise<string>((resolve) => qrcode.generate(qr, { small: true }, resolve)));
  let printedQr = 0;
  const connection = new WhatsAppConnection({
    session: opts.session,
    auth,
    socketFactory: opts.socketFactory ?? makeBaileysSocketFactory(),
    logger: opts.logger,
    ...(opts.phone ? { phone: opts.phone } : {}),
    ...(opts.lease ? { lease: { db: opts.db, ...opts.lease } } : {}),
    // During pairing WhatsApp closes with 515 once the phone accepts; anything else is retried quickly.
    backoff: { initialMs: 1_000, maxMs: 10_000 },
    maxReplaced: 0,
    onQr: (qr) => {
      printedQr += 1;
      void renderQr(qr).then((art) =>
        opts.print(
          `${printedQr > 1 ? 'A new QR code (the previous one expired):\n' : ''}${art}\nScan it in WhatsApp: Settings → Linked devices → Link a device.`,
        ),
      );
    },
    onPairingCode: (code) => {
      const shown = code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
      opts.print(
        `Pairing code for +${opts.phone}: ${shown}\nOn that phone: WhatsApp → Settings → Linked devices → Link a device → Link with phone number instead, then type the code.`,
      );
    },
  });

  const done = (s: WhatsAppState) => s === 'open' || s === 'restricted' || s === 'logged_out' || s === 'stopped';
  const timeoutMs = opts.timeoutMs ?? 180_000;
  try {
    await connection.start();
    let final: WhatsAppState;
    try {
      final = await connection.waitForState(done, timeoutMs);
    } catch {
      throw new WhatsAppLoginError('timeout', `no pairing within ${formatMs(timeoutMs)} (${connection.status().reason}); run the login again`);
    }
    if (final === 'logged_out') {
      throw new WhatsAppLoginError('refused', `pairing was refused by WhatsApp (${connection.status().reason}); run the login again`);
    }
    if (final === 'stopped') {
      throw new WhatsAppLoginError('replaced', `pairing stopped: ${connection.status().reason}; make sure no other Manchete uses session '${opts.session}' and run the login again`);
    }
    await auth.saveCreds();
    const account = connection.status().account;
    opts.print(`WhatsApp paired${account ? ` with +${account}` : ''}; session '${opts.session}' is stored in the database. Start Manchete with \`npm start\`.`);
    return { account };
  } catch (err) {
    if (!isPaired(auth.state.creds)) await auth.clear().catch(() => undefined);
    if (err instanceof WhatsAppLoginError) throw err;
    throw new WhatsAppLoginError('failed', `WhatsApp pairing failed: ${(err as Error).message}; run the login again`);
  } finally {
    await connection.stop('login finished');
  }
}
