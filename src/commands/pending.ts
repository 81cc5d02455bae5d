import { randomInt } from 'node:crypto';
import type { Platform } from '../render/types.js';
import type { PushDestination, PushPreview } from './services.js';
import type { Locale } from './text.js';

/**
 * Pushes waiting for the editor's "Enviar" (or `/confirmar <code>`). Kept in memory: a confirmation is
 * worth minutes, and after a restart the editor simply sends `/push` again. Expired entries are kept for
 * one more lifetime so that a late press can be told "expired" rather than "unknown".
 */

/** A prepared push and who may confirm it. */
export interface PendingPush {
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

/** What looking up a code found. */
export type PendingLookup =
  | { status: 'ok'; push: PendingPush }
  | { status: 'expired'; push: PendingPush }
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

/** The store of pending confirmations; one per router. */
export class PendingPushes {
  private readonly byCode = new Map<string, PendingPush>();

  constructor(
    private readonly ttlMs: number,
    private readonly newCode: () => string = randomCode,
  ) {}

  /** Stores a push under a fresh code and returns it. */
  add(p: Omit<PendingPush, 'code'>): PendingPush {
    this.sweep(p.createdAt);
    let code = normalizeCode(this.newCode());
    for (let i = 0; this.byCode.has(code) && i < 20; i++) code = normalizeCode(this.newCode());
    if (this.byCode.has(code)) code = `${code}${this.byCode.size}`;
    const push = { ...p, code };
    this.byCode.set(code, push);
    return push;
  }

  /** Finds a code without consuming it. */
  lookup(code: string, now: Date): PendingLookup {
    const push = this.byCode.get(normalizeCode(code));
    if (!push) return { status: 'unknown' };
    return this.expired(push, now) ? { status: 'expired', push } : { status: 'ok', push };
  }

  /** The live (unexpired) pushes an editor started, newest first. */
  ofActor(actor: string, now: Date): PendingPush[] {
    return [...this.byCode.values()]
      .filter((p) => p.actor === actor && !this.expired(p, now))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /** Removes a code (confirmed, cancelled or reported expired). */
  delete(code: string): void {
    this.byCode.delete(normalizeCode(code));
  }

  private expired(p: PendingPush, now: Date): boolean {
    return now.getTime() - p.createdAt.getTime() > this.ttlMs;
  }

  private sweep(now: Date): void {
    for (const [code, p] of this.byCode) if (now.getTime() - p.createdAt.getTime() > 2 * this.ttlMs) this.byCode.delete(code);
  }
}
