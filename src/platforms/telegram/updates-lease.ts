import type { Db } from '../../store/db.js';
import { TELEGRAM_UPDATES_LEASE } from '../../store/instances.js';
import { acquireLease, releaseLease, renewLease } from '../whatsapp/lease.js';

/**
 * Telegram allows one getUpdates consumer per bot: two instances long-polling answer each other 409
 * ("terminated by other getUpdates request") for ever. With several instances on one PostgreSQL database
 * only the holder of the lease `telegram:updates` polls; it renews the lease every third of its time and
 * hands every command to the router (the router's state is in the database, so any instance may answer).
 * The others try to take the lease as often (at most every second), so when the holder dies one of them
 * polls within the lease time. The new holder gets again the updates the dead one fetched but never
 * confirmed: they are handled once thanks to the update ids kept in the database (store/update-dedupe.ts).
 * (The lease helpers are the WhatsApp session lease's: one row per resource in `leases`.)
 */
export interface UpdatesLeaseOptions {
  db: Db;
  holder: string;
  leaseMs: number;
  clock?: () => number;
  /** This instance now holds the lease: start polling. */
  onAcquired: () => Promise<void>;
  /** The lease was lost (another instance took it: this one was presumed dead): stop polling. */
  onLost: () => Promise<void>;
  /** A database error while taking or renewing; retried at the next try. */
  onError?: (err: unknown) => void;
}

export class UpdatesLease {
  private timer: NodeJS.Timeout | null = null;
  private holding = false;
  private running = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly clock: () => number;

  constructor(private readonly o: UpdatesLeaseOptions) {
    this.clock = o.clock ?? Date.now;
  }

  get held(): boolean {
    return this.holding;
  }

  /** Tries now, then every `min(lease / 3, 1 s)` (renewing while held). */
  async start(): Promise<void> {
    this.running = true;
    await this.tick();
    const every = Math.max(100, Math.min(1_000, Math.floor(this.o.leaseMs / 3)));
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.tick());
    }, every);
    this.timer.unref();
  }

  private renewAt = 0;

  private async tick(): Promise<void> {
    if (!this.running) return;
    const { db, holder, leaseMs } = this.o;
    try {
      if (this.holding) {
        if (this.clock() < this.renewAt) return;
        const r = await renewLease(db, TELEGRAM_UPDATES_LEASE, holder, leaseMs, this.clock);
        if (r.ok) {
          this.renewAt = this.clock() + leaseMs / 3;
          return;
        }
        this.holding = false;
        await this.o.onLost();
        return;
      }
      const got = await acquireLease(db, TELEGRAM_UPDATES_LEASE, holder, leaseMs, this.clock);
      if (!got.ok || !this.running) return;
      this.holding = true;
      this.renewAt = this.clock() + leaseMs / 3;
      await this.o.onAcquired();
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** Stops trying; the caller stops polling first, then the lease is given up so another takes it at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
    if (this.holding) await releaseLease(this.o.db, TELEGRAM_UPDATES_LEASE, this.o.holder).catch(() => undefined);
    this.holding = false;
  }
}
