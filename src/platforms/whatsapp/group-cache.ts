import type { BaileysEventMap, GroupMetadata } from '@whiskeysockets/baileys';

/**
 * Group metadata cache. Baileys asks for a group's participant list before every group send; answering from
 * here saves a server query per message (fewer queries, less bot-like traffic). Entries are refreshed by
 * the group events Baileys emits and expire after `ttlMs` as a safety net.
 */
export class GroupMetadataCache {
  private readonly entries = new Map<string, { meta: GroupMetadata; at: number }>();

  constructor(
    private readonly opts: { ttlMs?: number; maxEntries?: number; clock?: () => number } = {},
  ) {}

  private get ttl(): number {
    return this.opts.ttlMs ?? 60 * 60_000;
  }

  private now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  /** The cached metadata, or undefined when absent or expired. */
  get(jid: string): GroupMetadata | undefined {
    const e = this.entries.get(jid);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttl) {
      this.entries.delete(jid);
      return undefined;
    }
    return e.meta;
  }

  set(meta: GroupMetadata): void {
    this.entries.delete(meta.id);
    this.entries.set(meta.id, { meta, at: this.now() });
    const max = this.opts.maxEntries ?? 500;
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  invalidate(jid: string): void {
    this.entries.delete(jid);
  }

  clear(): void {
    this.entries.clear();
  }

  /** `groups.update`: merges the changed fields (subject, announce, …) into a cached entry. */
  applyGroupsUpdate(updates: BaileysEventMap['groups.update']): void {
    for (const u of updates) {
      if (!u.id) continue;
      const e = this.entries.get(u.id);
      if (e) e.meta = { ...e.meta, ...u } as GroupMetadata;
    }
  }

  /**
   * `group-participants.update`: someone joined, left, was promoted or demoted. The participant list (and the
   * account's own admin right) changed, so the entry is dropped and refetched on next use; returns whether
   * there was one, so the caller can refetch eagerly.
   */
  applyParticipantsUpdate(update: BaileysEventMap['group-participants.update']): boolean {
    return this.entries.delete(update.id);
  }
}
