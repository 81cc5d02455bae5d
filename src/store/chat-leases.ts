import type { Db } from './db.js';

/**
 * Each chat is sent to by one instance at a time: a lease `chat:<platform>:<chat id>` in `leases`. Telegram's
 * 1 message/s per chat and 20/min per group are then kept by the owner's pacer alone, and a chat's posts
 * stay in order. The lease is taken when the instance first has something for the chat, renewed at the
 * heartbeat while it keeps sending there, and let go once the chat is idle for a whole lease, so ownership
 * moves with the work. A dead owner's leases expire; the instance that takes a chat over
 * - puts back the rows the old owner left `sending` for it (they go first, in order; at most those messages
 *   are repeated), and
 * - counts the old owner's recent sends there in its own pacer (`seed`), and each row put back as a send
 *   made just now (it may have arrived), so the per-chat windows hold across the handover.
 */

export interface ChatRef {
  platform: string;
  chatId: string;
}

export interface ChatLeasesOptions {
  db: Db;
  holder: string;
  leaseMs: number;
  clock?: () => number;
  /** The chat was taken (first time, or from an expired owner): seed the pacer with these send times. */
  onTaken?: (chat: ChatRef, recentSends: number[]) => void;
  /** Rows of a chat taken over went back to pending: the dispatcher should read the outbox again. */
  onReleased?: () => void;
}

interface Held {
  until: number;
  used: number;
}

export class ChatLeases {
  private readonly held = new Map<string, Held>();
  /** Chats another instance holds, and until when (no round trip before then). */
  private readonly others = new Map<string, number>();
  private readonly clock: () => number;

  constructor(private readonly o: ChatLeasesOptions) {
    this.clock = o.clock ?? Date.now;
  }

  static leaseName(chat: ChatRef): string {
    return `chat:${chat.platform}:${chat.chatId}`;
  }

  /** Number of chats held now. */
  get size(): number {
    return this.held.size;
  }

  /**
   * Whether this instance may send to `chat` now: it holds the lease (taken or renewed here if need be).
   * False when another live instance holds it, or when rows of a chat just taken over went back to the
   * queue (they must go first: the caller reads the outbox again).
   */
  async hold(chat: ChatRef): Promise<boolean> {
    const name = ChatLeases.leaseName(chat);
    const now = this.clock();
    const mine = this.held.get(name);
    if (mine && mine.until - now > this.o.leaseMs / 2) {
      mine.used = now;
      return true;
    }
    const busyUntil = this.others.get(name);
    if (!mine && busyUntil !== undefined && busyUntil > now) return false;
    const until = now + this.o.leaseMs;
    const nowIso = new Date(now).toISOString();
    const untilIso = new Date(until).toISOString();
    const before = await this.o.db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
    await this.o.db
      .insertInto('leases')
      .values({ name, holder: this.o.holder, expires_at: untilIso })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: this.o.holder, expires_at: untilIso })
          .where((eb) => eb.or([eb('leases.holder', '=', this.o.holder), eb('leases.expires_at', '<=', nowIso)])),
      )
      .execute();
    const row = await this.o.db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
    if (!row || row.holder !== this.o.holder) {
      this.held.delete(name);
      this.others.set(name, row ? Date.parse(row.expires_at) : now + 1000);
      return false;
    }
    this.others.delete(name);
    this.held.set(name, { until, used: now });
    if (mine && before?.holder === this.o.holder) return true;
    // Newly ours: the previous owner's rows in flight come back, and its recent sends count here.
    const released = await this.o.db
      .updateTable('deliveries')
      .set({ status: 'pending', claimed_by: null, claimed_until: null, updated_at: nowIso })
      .where('status', '=', 'sending')
      .where('claimed_by', '!=', this.o.holder)
      .where('destination_id', 'in', (eb) =>
        eb.selectFrom('destinations').select('destinations.id').where('destinations.platform', '=', chat.platform).where('destinations.chat_id', '=', chat.chatId),
      )
      .executeTakeFirst();
    const sent = await this.o.db
      .selectFrom('deliveries')
      .innerJoin('destinations', 'destinations.id', 'deliveries.destination_id')
      .select('deliveries.sent_at')
      .where('destinations.platform', '=', chat.platform)
      .where('destinations.chat_id', '=', chat.chatId)
      .where('deliveries.status', '=', 'sent')
      .where('deliveries.sent_at', '>', new Date(now - 60_000).toISOString())
      .execute();
    // A row the old owner left `sending` may have reached the chat before it died (it is sent again now):
    // count each as a send just made, so the chat's windows allow for it.
    const maybeSent = Array.from({ length: Number(released.numUpdatedRows) }, () => now);
    this.o.onTaken?.(chat, [...sent.map((s) => Date.parse(s.sent_at!)), ...maybeSent]);
    if (Number(released.numUpdatedRows) > 0) {
      this.o.onReleased?.();
      return false;
    }
    return true;
  }

  /**
   * Heartbeat: renews the chats used within the last lease, lets idle ones go. A lease found taken by
   * someone else (this instance was presumed dead) is dropped: nothing more is sent there from here.
   */
  async renew(): Promise<void> {
    const now = this.clock();
    const keep: string[] = [];
    const idle: string[] = [];
    for (const [name, h] of this.held) (now - h.used < this.o.leaseMs ? keep : idle).push(name);
    if (idle.length) {
      for (const n of idle) this.held.delete(n);
      await this.o.db.deleteFrom('leases').where('holder', '=', this.o.holder).where('name', 'in', idle).execute();
    }
    if (keep.length === 0) return;
    const until = now + this.o.leaseMs;
    const renewed = await this.o.db
      .updateTable('leases')
      .set({ expires_at: new Date(until).toISOString() })
      .where('holder', '=', this.o.holder)
      .where('name', 'in', keep)
      .returning('name')
      .execute();
    const ok = new Set(renewed.map((r) => r.name));
    for (const n of keep) {
      const h = this.held.get(n);
      if (!h) continue;
      if (ok.has(n)) h.until = until;
      else this.held.delete(n);
    }
  }

  /** On stop: every chat lease of this instance goes, so the others take the chats at once. */
  async releaseAll(): Promise<void> {
    this.held.clear();
    await this.o.db.deleteFrom('leases').where('holder', '=', this.o.holder).where('name', 'like', 'chat:%').execute();
  }
}
