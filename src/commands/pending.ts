import { randomInt } from 'node:crypto';
import type { Article } from '../articles/article.js';
import type { Db } from '../store/db.js';
import type { Platform } from '../render/types.js';
import type { PushDestination, PushPreview } from './services.js';
import type { Locale } from './text.js';

/**
 * Pushes waiting for the editor's "Enviar" (or `/confirmar <code>`). Kept in the database
 * (`pending_pushes`): a restart between `/push` and the button press (a deploy, a crash) must not turn the
 * editor's press into "unknown code". Expired entries are kept for one more lifetime so that a late press
 * can be told "expired" rather than "unknown"; older ones are swept when a new push is stored.
 */

/** A prepared push and who may confirm it. */
export interface PendingPush {
  /** Absent on rows written before digests existed: a push. */
  kind?: 'push';
  code: string;
  platform: Platform;
  chatId: string;
  threadId: string | null;
  /** `telegram:12345`: only this editor may confirm or cancel. */
  actor: string;
  editorId: string;
  locale: Locale;
  preview: PushPreview;
  destinations: PushDestination[];
  createdAt: Date;
}

/** An editor's `/resumo` waiting for "Enviar": the digest of one destination, as previewed. */
export interface PendingDigest {
  kind: 'digest';
  code: string;
  platform: Platform;
  chatId: string;
  threadId: string | null;
  actor: string;
  editorId: string;
  locale: Locale;
  destination: PushDestination;
  /** Articles collected up to this instant are the ones previewed (and sent). */
  cutoff: Date;
  /** Articles the preview listed. */
  articles: number;
  createdAt: Date;
}

/** Anything waiting for an editor's confirmation: the same codes, buttons and `/confirmar` serve both. */
export type PendingConfirmation = PendingPush | PendingDigest;

/** What looking up a code found. */
export type PendingLookup =
  | { status: 'ok'; push: PendingConfirmation }
  | { status: 'expired'; push: PendingConfirmation }
  | { status: 'unknown' };

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A 6-character code without look-alikes (no 0/O, 1/I): easy to type on a phone. */
export function randomCode(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** Normalises a typed code for lookup: trimmed, upper case. */
export const normalizeCode = (code: string): string => code.trim().toUpperCase();

/** The store of pending confirmations; one per router, over the app's database. */
export class PendingPushes {
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
    private readonly newCode: () => string = randomCode,
  ) {}

  /** Stores a push (or a digest) under a fresh code and returns it. */
  async add(p: Omit<PendingPush, 'code'>): Promise<PendingPush>;
  async add(p: Omit<PendingDigest, 'code'>): Promise<PendingDigest>;
  async add(p: Omit<PendingPush, 'code'> | Omit<PendingDigest, 'code'>): Promise<PendingConfirmation> {
    await this.sweep(p.createdAt);
    const taken = async (c: string) => !!(await this.db.selectFrom('pending_pushes').select('code').where('code', '=', c).executeTakeFirst());
    let code = normalizeCode(this.newCode());
    for (let i = 0; (await taken(code)) && i < 20; i++) code = normalizeCode(this.newCode());
    if (await taken(code)) code = `${code}${Date.now() % 1000}`;
    const push = { ...p, code } as PendingConfirmation;
    await this.db
      .insertInto('pending_pushes')
      .values({ code, actor: p.actor, push: JSON.stringify(push), created_at: p.createdAt.toISOString() })
      .execute();
    return push;
  }

  /** Finds a code without consuming it. */
  async lookup(code: string, now: Date): Promise<PendingLookup> {
    const row = await this.db.selectFrom('pending_pushes').select('push').where('code', '=', normalizeCode(code)).executeTakeFirst();
    const push = row ? parsePush(row.push) : null;
    if (!push) return { status: 'unknown' };
    return this.expired(push, now) ? { status: 'expired', push } : { status: 'ok', push };
  }

  /** The live (unexpired) pushes and digests an editor started, newest first. */
  async ofActor(actor: string, now: Date): Promise<PendingConfirmation[]> {
    const rows = await this.db
      .selectFrom('pending_pushes')
      .select('push')
      .where('actor', '=', actor)
      .where('created_at', '>=', new Date(now.getTime() - this.ttlMs).toISOString())
      .execute();
    return rows
      .map((r) => parsePush(r.push))
      .filter((p): p is PendingConfirmation => p !== null && !this.expired(p, now))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /**
   * Removes a code (confirmed, cancelled or reported expired). False when it was already gone: a second
   * press of "Enviar" (or a second process) got there first, so the caller must not push again.
   */
  async delete(code: string): Promise<boolean> {
    const r = await this.db.deleteFrom('pending_pushes').where('code', '=', normalizeCode(code)).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  private expired(p: PendingConfirmation, now: Date): boolean {
    return now.getTime() - p.createdAt.getTime() > this.ttlMs;
  }

  private async sweep(now: Date): Promise<void> {
    await this.db.deleteFrom('pending_pushes').where('created_at', '<', new Date(now.getTime() - 2 * this.ttlMs).toISOString()).execute();
  }
}

/** A stored push or digest with its dates back as Dates; null when the row is not one we wrote (never trusted blindly). */
function parsePush(text: string): PendingConfirmation | null {
  try {
    const p = JSON.parse(text) as PendingPush & { createdAt: string; preview: { article: Article & { publishedAt: string | null; updatedAt: string | null } } };
    if (typeof p?.code !== 'string' || typeof p.actor !== 'string') return null;
    const d = p as unknown as PendingDigest & { createdAt: string; cutoff: string };
    if (d.kind === 'digest') {
      if (typeof d.destination?.id !== 'string' || typeof d.cutoff !== 'string') return null;
      return { ...d, createdAt: new Date(d.createdAt), cutoff: new Date(d.cutoff) };
    }
    if (!p.preview?.article) return null;
    const a = p.preview.article;
    return {
      ...p,
      createdAt: new Date(p.createdAt),
      preview: { ...p.preview, article: { ...a, publishedAt: a.publishedAt ? new Date(a.publishedAt) : null, updatedAt: a.updatedAt ? new Date(a.updatedAt) : null } },
    };
  } catch {
    return null;
  }
}
