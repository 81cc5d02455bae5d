import { hostname } from 'node:os';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { openStore } from '../../store/db.js';
import { runWhatsAppLogin } from './login.js';

/**
 * Entry points the CLI loads lazily (so `manchete preview` never loads Baileys).
 */

/** This process's name in the session lease: `host:pid`. */
export function leaseHolder(): string {
  return `${hostname()}:${process.pid}`;
}

/** `manchete whatsapp login [--phone …] [--force]`: opens the database, pairs, closes it. */
export async function whatsappLogin(
  config: Config,
  logger: Logger,
  opts: { phone?: string | undefined; print: (s: string) => void; force?: boolean },
): Promise<void> {
  const store = await openStore(config.databaseUrl);
  try {
    await runWhatsAppLogin({
      db: store.db,
      session: config.whatsapp.session,
      logger,
      print: opts.print,
      ...(opts.phone ? { phone: opts.phone } : {}),
      ...(opts.force ? { force: true } : {}),
      lease: { holder: `${leaseHolder()} (login)` },
    });
  } finally {
    await store.close();
  }
}
