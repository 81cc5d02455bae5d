import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { DestinationTable } from '../store/schema.js';
import type { Platform } from '../render/types.js';
import type { Destination, DestinationOptions } from './types.js';

/**
 * The destinations table: every chat Manchete posts to, with its status. Configured destinations are
 * written at start; private subscribers' chats are added as they subscribe. A destination marked dead
 * (blocked, kicked, deleted) stays dead until the operator configures it again.
 */

export const destinationId = (platform: Platform, chatId: string, threadId: string | null = null): string =>
  `${platform}:${chatId}${threadId ? `:${threadId}` : ''}`;

export interface DestinationRecord extends Destination {
  status: 'active' | 'dead';
  statusReason: string | null;
  title: string | null;
  kind: string | null;
}

export class DestinationRegistry {
  private readonly cache = new Map<string, DestinationRecord>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Writes a configured destination; a dead one configured again comes back to life (the operator fixed it). */
  async upsert(dest: Destination, revive = true): Promise<DestinationRecord> {
    const now = this.clock().toISOString();
    const existing = await this.get(dest.id);
    const status = existing && !revive ? existing.status : 'active';
    // A chat that moved (Telegram group → supergroup) keeps its new id: the configured one no longer exists.
    const moved = existing?.statusReason?.startsWith('migrated') ? existing : null;
    const row = {
      id: dest.id,
      platform: dest.platform,
      chat_id: moved ? moved.chatId : dest.chatId,
      thread_id: dest.threadId,
      status,
      status_reason: moved ? moved.statusReason : status === 'dead' ? (existing?.statusReason ?? null) : null,
      options: JSON.stringify(dest.options ?? {}),
      kind: existing?.kind ?? null,
      title: existing?.title ?? null,
      updated_at: now,
    };
    await this.db
      .insertInto('destinations')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          chat_id: row.chat_id,
          thread_id: row.thread_id,
          status: row.status,
          status_reason: row.status_reason,
          options: row.options,
          updated_at: now,
        }),
      )
      .execute();
    this.cache.delete(dest.id);
    return (await this.get(dest.id))!;
  }

  /** The destination if it is in memory already (no database read): the dispatcher's hot path. */
  cached(id: string): DestinationRecord | undefined {
    return this.cache.get(id);
  }

  /** Reads the destinations among `ids` that are not in memory yet, in one query per few hundred. */
  async prefetch(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.cache.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      const rows = await this.db.selectFrom('destinations').selectAll().where('id', 'in', missing.slice(i, i + 500)).execute();
      for (const row of rows) this.cache.set(row.id, toRecord(row));
    }
  }

  async get(id: string): Promise<DestinationRecord | undefined> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const row = await this.db.selectFrom('destinations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const rec = toRecord(row);
    this.cache.set(id, rec);
    return rec;
  }

  async list(platform?: Platform): Promise<DestinationRecord[]> {
    let q = this.db.selectFrom('destinations').select('id');
    if (platform) q = q.where('platform', '=', platform);
    const ids = await q.orderBy('id').execute();
    const out: DestinationRecord[] = [];
    for (const { id } of ids) {
      const d = await this.get(id);
      if (d) out.push(d);
    }
    return out;
  }

  async markDead(id: string, reason: string): Promise<void> {
    await this.db
      .updateTable('destinations')
      .set({ status: 'dead', status_reason: reason, updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .execute();
    this.cache.delete(id);
  }

  /** The chat moved (Telegram group → supergroup): keep the destination, point it at the new chat id. */
  async migrate(id: string, newChatId: string): Promise<void> {
    await this.db
      .updateTable('destinations')
      .set({ chat_id: newChatId, status_reason: `migrated to ${newChatId}`, updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .execute();
    this.cache.delete(id);
  }

  async describe(id: string, info: { title?: string | null; kind?: string | null }): Promise<void> {
    await this.db
      .updateTable('destinations')
      .set({ title: info.title ?? null, kind: info.kind ?? null, updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .execute();
    this.cache.delete(id);
  }
}

function toRecord(row: Selectable<DestinationTable>): DestinationRecord {
  return {
    id: row.id,
    platform: row.platform as Platform,
    chatId: row.chat_id,
    threadId: row.thread_id,
    options: JSON.parse(row.options) as DestinationOptions,
    status: row.status === 'dead' ? 'dead' : 'active',
    statusReason: row.status_reason,
    title: row.title,
    kind: row.kind,
  };
}
