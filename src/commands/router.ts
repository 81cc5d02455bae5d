import type { Editor } from '../config.js';
import type { Logger } from '../log.js';
import type { Platform } from '../render/types.js';
import type { Db } from '../store/db.js';
import { say, writeAuditLine, type CommandEnv, type CommandSpec, type Ctx } from './context.js';
import { isEditor } from './editors.js';
import type { Translate } from './format.js';
import { fill, loadCommandStrings, type CommandStrings } from './i18n.js';
import { PendingPushes, randomCode } from './pending.js';
import { cancelPush, confirmPush, parsePushAction } from './push-flow.js';
import { ReplyRateLimiter } from './rate-limit.js';
import { createRegistry, type AccessRefusal, type MenuCommand } from './registry.js';
import { getPauseState } from './repo.js';
import type { CommandServices } from './services.js';
import { localeFor, parseCommand, sanitizeInput, truncateEcho, type Locale } from './text.js';
import type { IncomingAction, IncomingMessage, Reply } from './types.js';

export type { MenuCommand } from './registry.js';

/**
 * The command router: one platform-neutral dispatcher for what subscribers and editors type, on Telegram
 * and WhatsApp alike. Adapters hand it an IncomingMessage (or a button press) with the sender already in
 * the form the EDITORS list uses, and send back the Replies it returns; it never imports a platform library
 * and has no platform's rules in it.
 *
 * Per message: parse → per-user reply rate and the adapter's reply budget → registry lookup (registry.ts)
 * → access (editors only, private only) → the command's handler (subscriber.ts, push-flow.ts, admin.ts).
 * Unknown commands get silence in shared chats and a hint in private ones.
 *
 * It never throws: a failing service or database becomes a short apology to the user and an error log line.
 */

/** What `createCommandRouter` needs. */
export interface CommandRouterDeps {
  db: Db;
  services: CommandServices;
  /** The EDITORS allow-list. */
  editors: readonly Editor[];
  /** How many headlines `/latest` shows. */
  latestCount: number;
  /** Replies per user: at most `count` in any `perMs` window; beyond that, silence and one log line. */
  replyRate: { count: number; perMs: number };
  /**
   * Where the per-user reply counts live: by default in this process's memory; with several instances on
   * one PostgreSQL database, in the database (store/reply-rate.ts), so a user's limit is the same everywhere.
   */
  replyLimiter?: { take(key: string, now: Date): { allowed: boolean; firstDrop: boolean } | Promise<{ allowed: boolean; firstDrop: boolean }> };
  /** The language for users whose platform gives none (WhatsApp). */
  defaultLocale: Locale;
  /**
   * Folder(s) with `commands.pt-BR.json` and `commands.en.json`. With several, earlier folders win and
   * later ones fill gaps (pass the operator's TEMPLATES_DIR/locales first, the bundled one last).
   */
  localesDir: string | readonly string[];
  clock: () => Date;
  logger: Logger;
  /** The bot's username without `@`: `/cmd@other_bot` is ignored, `/cmd@this_bot` is addressed here. */
  botUsername?: string | null;
  /** IANA time zone for times in replies. Default UTC; pass Config.timeZone. */
  timeZone?: string;
  /** How long a push waits for confirmation. Default 10 minutes. */
  confirmTtlMs?: number;
  /** Confirmation code generator (tests pin it). Default: 6 random unambiguous characters. */
  newCode?: () => string;
}

/** The router's face to the platform adapters and the composition root. */
export interface CommandRouter {
  /** Answers one incoming message; an empty list means stay silent. Never throws. */
  handleMessage(m: IncomingMessage): Promise<Reply[]>;
  /** Answers a button press (Telegram callback query); an empty list means nothing to say. Never throws. */
  handleAction(a: IncomingAction): Promise<Reply[]>;
  /** Whether automatic posting is paused (persisted; editor pushes go out regardless). */
  isPaused(): Promise<boolean>;
  /** The subscriber commands in one language, for the platform's command menu. */
  menu(locale: Locale): MenuCommand[];
}

/**
 * Builds the router. Loads the reply strings at once (throws CommandStringsError naming the file when
 * they are missing or broken, so a bad deployment fails at start, not at a user's first message).
 */
export function createCommandRouter(deps: CommandRouterDeps): CommandRouter {
  const strings: CommandStrings = loadCommandStrings(deps.localesDir);
  const { db, logger } = deps;
  const registry = createRegistry();
  const limiter = deps.replyLimiter ?? new ReplyRateLimiter(deps.replyRate.count, deps.replyRate.perMs);
  const confirmTtlMs = deps.confirmTtlMs ?? 10 * 60_000;
  const bot = deps.botUsername ? deps.botUsername.replace(/^@/, '').toLowerCase() : null;

  const translator =
    (locale: Locale): Translate =>
    (key, vars) =>
      fill(strings[locale][key], vars);

  const env: CommandEnv = {
    db,
    services: deps.services,
    logger,
    latestCount: deps.latestCount,
    timeZone: deps.timeZone ?? 'UTC',
    confirmTtlMs,
    pending: new PendingPushes(db, confirmTtlMs, deps.newCode ?? randomCode),
    translator,
    audit: (ctx, action, outcome, detail, articleId) => writeAuditLine(db, logger, ctx, action, outcome, detail, articleId ?? null),
  };

  function makeCtx(
    src: { platform: Platform; chatId: string; senderId: string | null; languageCode: string | null },
    extra: { isPrivate: boolean; threadId: string | null; senderName: string | null; canShowButtons: boolean },
    now: Date,
  ): Ctx {
    const locale = localeFor(src.languageCode, deps.defaultLocale);
    const senderId = typeof src.senderId === 'string' && src.senderId !== '' ? src.senderId : null;
    return {
      platform: src.platform,
      chatId: src.chatId,
      threadId: extra.threadId,
      isPrivate: extra.isPrivate,
      canShowButtons: extra.canShowButtons,
      senderName: extra.senderName ? truncateEcho(sanitizeInput(extra.senderName), 64) : null,
      locale,
      actor: `${src.platform}:${senderId ? truncateEcho(senderId, 64) : 'unknown'}`,
      editorId: isEditor(deps.editors, src.platform, senderId) ? senderId : null,
      now,
      t: translator(locale),
    };
  }

  /** One rate-limit check per reply we are about to make; logs once per burst of refusals. */
  async function allowReply(platform: Platform, senderId: string | null, chatId: string, now: Date): Promise<boolean> {
    const key = `${platform}:${senderId ?? `chat:${chatId}`}`;
    const { allowed, firstDrop } = await limiter.take(key, now);
    if (!allowed && firstDrop)
      logger.warn(
        { user: key, limit: deps.replyRate.count, perMs: deps.replyRate.perMs },
        'reply rate limit reached: not answering this user until the window frees up',
      );
    return allowed;
  }

  /** The answer to a command the sender may not run here. Editor refusals are logged and audited. */
  async function refuse(ctx: Ctx, spec: CommandSpec, reason: Exclude<AccessRefusal, null>): Promise<Reply[]> {
    if (spec.access !== 'editor') return [say(ctx.t('privateOnly'))];
    if (reason === 'not_editor')
      logger.warn({ actor: ctx.actor, chat: ctx.chatId, command: spec.id }, 'editor command refused: sender is not on the EDITORS list');
    await env.audit(ctx, spec.id, 'refused', { reason, chat: ctx.chatId });
    return [say(ctx.t(reason === 'not_editor' ? 'editor.refused' : 'editor.privateOnly'))];
  }

  async function handleMessage(m: IncomingMessage): Promise<Reply[]> {
    const now = deps.clock();
    const fallback = translator(localeFor(m.languageCode, deps.defaultLocale));
    try {
      if (m.chatType === 'channel') return [];
      const isPrivate = m.chatType === 'private';
      const text = sanitizeInput(typeof m.text === 'string' ? m.text : '');
      const cmd = parseCommand(text);
      if (cmd) {
        const mention = cmd.mention?.toLowerCase() ?? null;
        // `/cmd@another_bot`: not ours, wherever it was written.
        if (mention !== null && bot !== null && mention !== bot) return [];
        const addressed = isPrivate || m.addressedToBot || (mention !== null && mention === bot);
        if (!addressed) return [];
      } else if (!isPrivate) {
        return []; // chatter in a group is none of the bot's business
      }
      const spec = cmd ? registry.lookup(cmd.name) : undefined;
      // In a shared chat every member's typo would cost a message from the account: only known commands
      // are answered there. A private chat still gets the hint.
      if (cmd && !spec && !isPrivate) return [];
      if (!(await allowReply(m.platform, m.senderId, m.chatId, now))) return [];
      if (m.replyBudget && !m.replyBudget()) return [];
      const ctx = makeCtx(
        m,
        { isPrivate, threadId: m.threadId ?? null, senderName: m.senderName, canShowButtons: m.canShowButtons === true },
        now,
      );
      if (!cmd) return [say(ctx.t('pointer'))];
      if (!spec) {
        return [say(cmd.word ? ctx.t('unknownCommand', { command: `/${truncateEcho(cmd.word, 30)}` }) : ctx.t('pointer'))];
      }
      const refusal = registry.access(spec, ctx);
      if (refusal) return await refuse(ctx, spec, refusal);
      return await spec.run(env, ctx, cmd);
    } catch (err) {
      logger.error({ err, platform: m.platform, chat: m.chatId }, 'command failed');
      return [say(fallback('error.generic'))];
    }
  }

  async function handleAction(a: IncomingAction): Promise<Reply[]> {
    const now = deps.clock();
    const fallback = translator(localeFor(a.languageCode, deps.defaultLocale));
    try {
      const action = parsePushAction(a.data);
      if (!action) {
        logger.debug({ platform: a.platform, data: truncateEcho(String(a.data), 64) }, 'ignoring a button press the router did not make');
        return [];
      }
      if (!(await allowReply(a.platform, a.senderId, a.chatId, now))) return [];
      // A button was pressed, so the chat shows buttons; confirmations are only ever offered in private.
      const ctx = makeCtx(a, { isPrivate: true, threadId: null, senderName: null, canShowButtons: true }, now);
      const spec = registry.byId(action.confirm ? 'confirm' : 'cancelpush');
      if (!spec) throw new Error('the push commands are missing from the registry');
      const refusal = registry.access(spec, ctx);
      if (refusal) return await refuse(ctx, spec, refusal);
      return action.confirm ? await confirmPush(env, ctx, action.code) : await cancelPush(env, ctx, action.code);
    } catch (err) {
      logger.error({ err, platform: a.platform, chat: a.chatId }, 'button action failed');
      return [say(fallback('error.generic'))];
    }
  }

  return {
    handleMessage,
    handleAction,
    isPaused: async () => (await getPauseState(db)).paused,
    menu: (locale) => registry.menu(locale, strings),
  };
}
