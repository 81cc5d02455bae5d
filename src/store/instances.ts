import { sql } from 'kysely';
import type { InstanceId } from '../lib/instance.js';
import type { Db } from './db.js';

/**
 * The instances table: every running `manchete start` on this database writes a row at start and renews
 * it at each heartbeat (a third of the lease, INSTANCE_LEASE). A row whose expiry has passed is a dead
 * instance: whatever it held (feed claims, delivery claims, chat leases, the Telegram updates lease, a
 * WhatsApp session) expires with the same lease, so the others take over within that time.
 *
 * The heartbeat is also where this instance renews what it holds, in one place: each `onBeat` task runs
 * after the row is written. A task that fails is retried at the next beat, well within the lease.
 */

/** What an instance says it holds, for `manchete status`. */
export interface InstanceHolds {
  /** It holds the Telegram getUpdates lease (long polling). */
  updates?: boolean;
  /** WhatsApp sessions whose lease it holds. */
  whatsapp?: string[];
  /** Feeds it is polling now. */
  feeds?: string[];
  /** Chats it sends to (chat leases). */
  chats?: number;
}

export interface InstanceRow {
  id: string;
  host: string;
  pid: number;
  startedAt: Date;
  heartbeatAt: Date;
  expiresAt: Date;
  holds: InstanceHolds;
  alive: boolean;
}

export interface InstanceRegistryOptions {
  db: Db;
  instance: InstanceId;
  /** How long the row (and everything held) stays valid without a heartbeat. */
  leaseMs: number;
  clock?: () => Date;
  /** Filled in at each heartbeat. */
  holds?: () => InstanceHolds | Promise<InstanceHolds>;
  /** A heartbeat task failed (database down): for a log line; it is tried again at the next beat. */
  onError?: (err: unknown) => void;
}

export class InstanceRegistry {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();
  private readonly tasks: (() => Promise<unknown>)[] = [];
  private readonly clock: () => Date;
  readonly startedAt: Date;

  constructor(private readonly o: InstanceRegistryOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.startedAt = this.clock();
  }

  /** The heartbeat interval: a third of the lease, at least 200 ms. */
  get beatMs(): number {
    return Math.max(200, Math.floor(this.o.leaseMs / 3));
  }

  /** What the row says this instance holds, filled in at each heartbeat. */
  setHolds(holds: () => InstanceHolds | Promise<InstanceHolds>): void {
    this.o.holds = holds;
  }

  /** Something to renew at every heartbeat (claims, leases). */
  onBeat(task: () => Promise<unknown>): void {
    this.tasks.push(task);
  }

  /** Writes the row and starts the heartbeat. Dead rows older than a day are removed on the way. */
  async start(): Promise<void> {
    const now = this.clock();
    const { id, host, pid } = this.o.instance;
    await this.o.db
      .insertInto('instances')
      .values({ id, host, pid, started_at: now.toISOString(), heartbeat_at: now.toISOString(), expires_at: this.expiry(now), holds: '{}' })
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now.toISOString(), expires_at: this.expiry(now) }))
      .execute();
    await this.o.db.deleteFrom('instances').where('expires_at', '<', new Date(now.getTime() - 86_400_000).toISOString()).execute();
    this.timer = setInterval(() => {
      this.beating = this.beat();
    }, this.beatMs);
    this.timer.unref();
  }

  /** One heartbeat: the row, then every task. Never rejects. */
  async beat(): Promise<void> {
    const now = this.clock();
    try {
      const holds = JSON.stringify((await this.o.holds?.()) ?? {});
      await this.o.db
        .updateTable('instances')
        .set({ heartbeat_at: now.toISOString(), expires_at: this.expiry(now), holds })
        .where('id', '=', this.o.instance.id)
        .execute();
    } catch (err) {
      this.o.onError?.(err);
    }
    for (const t of this.tasks) {
      try {
        await t();
      } catch (err) {
        this.o.onError?.(err);
      }
    }
  }

  /** Stops the heartbeat and removes the row (what it held is released by its owners first). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.o.db.deleteFrom('instances').where('id', '=', this.o.instance.id).execute();
  }

  private expiry(now: Date): string {
    return new Date(now.getTime() + this.o.leaseMs).toISOString();
  }
}

/**
 * Every instance row (alive first, newest heartbeat first), with what each holds according to the
 * database: the leases in `leases` (updates, WhatsApp sessions, chats) and the feed claims, both unexpired.
 */
export async function listInstances(db: Db, now: Date = new Date()): Promise<InstanceRow[]> {
  const nowIso = now.toISOString();
  const rows = await db.selectFrom('instances').selectAll().orderBy('heartbeat_at', 'desc').execute();
  const leases = await db.selectFrom('leases').select(['name', 'holder']).where('expires_at', '>', nowIso).execute();
  const feeds = await db.selectFrom('feed_claims').select(['url', 'holder']).where('expires_at', '>', nowIso).where('holder', 'is not', null).execute();
  const out = rows.map((r): InstanceRow => {
    const mine = leases.filter((l) => l.holder === r.id).map((l) => l.name);
    let reported: InstanceHolds = {};
    try {
      reported = JSON.parse(r.holds) as InstanceHolds;
    } catch {
      // An unreadable summary: the leases below are the truth anyway.
    }
    return {
      id: r.id,
      host: r.host,
      pid: Number(r.pid),
      startedAt: new Date(r.started_at),
      heartbeatAt: new Date(r.heartbeat_at),
      expiresAt: new Date(r.expires_at),
      alive: r.expires_at > nowIso,
      holds: {
        ...reported,
        updates: mine.includes(TELEGRAM_UPDATES_LEASE),
        whatsapp: mine.filter((n) => n.startsWith('whatsapp:')).map((n) => n.slice('whatsapp:'.length)),
        feeds: feeds.filter((f) => f.holder === r.id).map((f) => f.url),
        chats: mine.filter((n) => n.startsWith('chat:')).length,
      },
    };
  });
  return out.sort((a, b) => Number(b.alive) - Number(a.alive));
}

/** The lease name of the Telegram getUpdates consumer (platforms/telegram/updates-lease.ts). */
export const TELEGRAM_UPDATES_LEASE = 'telegram:updates';

/** The database's own clock in ms since the epoch (PostgreSQL), so instances on different hosts agree. */
export async function databaseNowMs(db: Db): Promise<number> {
  const r = await sql<{ ms: string }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint::text as ms`.execute(db);
  return Number(r.rows[0]!.ms);
}
