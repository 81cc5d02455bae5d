import type { Db } from '../store/db.js';
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

  async get(id: string): Promise<DestinationRecord | undefined> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const row = await this.db.selectFrom('destinations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const rec: DestinationRecord = {
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
