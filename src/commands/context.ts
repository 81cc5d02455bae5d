import type { Logger } from '../log.js';
import type { Platform } from '../render/types.js';
import type { Db } from '../store/db.js';
import { capReply, type Translate } from './format.js';
import type { MessageKey } from './i18n.js';
import type { PendingPushes } from './pending.js';
import { writeAudit } from './repo.js';
import type { CommandServices } from './services.js';
import { foldTopic, type Locale, type ParsedCommand } from './text.js';
import type { Reply } from './types.js';

/**
 * What every command handler shares: who is talking and where (Ctx), the router-wide parts they use
 * (CommandEnv), and the shape a command is declared in (CommandSpec). Kept apart from the handlers so
 * subscriber.ts, push-flow.ts and admin.ts depend on this file and not on each other or on the router.
 */

/** Everything a handler needs to know about who is talking and where. */
export interface Ctx {
  platform: Platform;
  chatId: string;
  threadId: string | null;
  isPrivate: boolean;
  /** Whether the chat can show buttons under a reply (Telegram); otherwise replies spell out the command. */
  canShowButtons: boolean;
  senderName: string | null;
  locale: Locale;
  /** `telegram:12345`: for the audit log and ownership of confirmations. */
  actor: string;
  /** The sender id when the sender is an editor; null otherwise. */
  editorId: string | null;
  now: Date;
  t: Translate;
}

/** The router-wide parts handlers use; built once per router. */
export interface CommandEnv {
  db: Db;
  services: CommandServices;
  logger: Logger;
  /** How many headlines `/latest` shows. */
  latestCount: number;
  timeZone: string;
  confirmTtlMs: number;
  pending: PendingPushes;
  /** The reply strings of one locale, for messages sent outside a command (push progress). */
  translator(locale: Locale): Translate;
  /** Writes one audit line; a failure is logged, never thrown (the action itself already happened). */
  /** One audit line; `articleId` when the action is about an article (a push). */
  audit(ctx: Ctx, action: string, outcome: string, detail: Record<string, unknown> | null, articleId?: string | null): Promise<void>;
}

/** Who may run a command. */
export type CommandAccess = 'subscriber' | 'editor';

/**
 * One command, declared once: its names, who may run it, where, its menu line and its handler. The
 * registry (registry.ts) derives the alias table, the menu and the access check from these declarations.
 */
export interface CommandSpec {
  /** Stable id, for the audit log and logs (`push`, `cancelpush`). */
  id: string;
  /**
   * The name shown in each language's menu and help, and any further accepted words. All are compared
   * folded (`/Últimas` arrives as `ultimas`), so write them lower-case without accents.
   */
  names: { 'pt-BR': string; en: string; aliases?: readonly string[] };
  access: CommandAccess;
  /**
   * Only in a private chat: an editor command in a group would show newsroom internals to everyone there;
   * a subscription in a group would subscribe nobody in particular.
   */
  privateOnly: boolean;
  /** The menu line (Telegram `setMyCommands`); every subscriber command has one, editor commands none. */
  menu: MessageKey | null;
  run(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> | Reply[];
}

/** A reply of plain text, cut to what every platform accepts. */
export const say = (text: string): Reply => ({ text: capReply(text) });

export type Match<T> = { kind: 'ok'; item: T } | { kind: 'ambiguous'; items: T[] } | { kind: 'unknown' };

/**
 * Finds what a user meant among named things: an exact match on any folded name first, then a prefix of
 * a name when only one thing has it.
 */
export function matchByName<T>(input: string, items: readonly T[], names: (item: T) => string[]): Match<T> {
  const q = foldTopic(input);
  if (q === '') return { kind: 'unknown' };
  const folded = items.map((item) => ({ item, names: names(item).map(foldTopic) }));
  const exact = folded.find((f) => f.names.includes(q));
  if (exact) return { kind: 'ok', item: exact.item };
  const prefix = folded.filter((f) => f.names.some((n) => n.startsWith(q)));
  if (prefix.length === 1) return { kind: 'ok', item: prefix[0]!.item };
  if (prefix.length > 1) return { kind: 'ambiguous', items: prefix.map((f) => f.item) };
  return { kind: 'unknown' };
}

/** Writes one audit line, cutting long details; a failure is logged loudly, not thrown. */
export async function writeAuditLine(
  db: Db,
  logger: Logger,
  ctx: Ctx,
  action: string,
  outcome: string,
  detail: Record<string, unknown> | null,
  articleId: string | null = null,
): Promise<void> {
  const text = detail === null ? null : JSON.stringify(detail);
  try {
    await writeAudit(db, { actor: ctx.actor, action, outcome, articleId, detail: text && text.length > 2000 ? `${text.slice(0, 1999)}…` : text }, ctx.now);
  } catch (err) {
    // The action itself already happened; losing its audit line must be loud, not fatal.
    logger.error({ err, actor: ctx.actor, action, outcome }, 'could not write the audit log');
  }
}
