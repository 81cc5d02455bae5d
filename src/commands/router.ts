import type { Editor } from '../config.js';
import type { Logger } from '../log.js';
import type { Platform } from '../render/types.js';
import type { Db } from '../store/db.js';
import { MAX_REPLY, capReply, formatStatus, formatWhen, type Translate } from './format.js';
import { fill, loadCommandStrings, type CommandStrings, type MessageKey } from './i18n.js';
import { PendingPushes, randomCode, type PendingPush } from './pending.js';
import { ReplyRateLimiter } from './rate-limit.js';
import {
  addSubscription,
  clearSubscriptions,
  getPauseState,
  removeSubscription,
  setPaused,
  subscriberIdFor,
  subscriptionsOf,
  upsertSubscriber,
  writeAudit,
} from './repo.js';
import {
  PushPrepareError,
  type ChatRef,
  type CommandServices,
  type PushDestination,
  type PushPreview,
  type PushProgress,
} from './services.js';
import {
  foldTopic,
  localeFor,
  parseCommand,
  parseHttpUrl,
  sanitizeInput,
  truncateEcho,
  type Locale,
  type ParsedCommand,
} from './text.js';
import type { IncomingAction, IncomingMessage, Reply } from './types.js';

/**
 * The command router: one platform-neutral brain for what subscribers and editors type, on Telegram and
 * WhatsApp alike. Adapters hand it an IncomingMessage (or a button press) and send back the Replies it
 * returns; it never imports a platform library.
 *
 * What it owns: parsing and aliases (pt-BR and English names), the reply language, per-user reply rate
 * limits, subscriptions in the database, the editor allow-list (fail closed), push confirmations, the
 * pause switch and the audit log. What it does not: fetching pages, rendering, sending, status data;
 * those come in as services (services.ts).
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

/** A command for a platform's menu (Telegram `setMyCommands`). */
export interface MenuCommand {
  command: string;
  description: string;
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

type CommandName =
  | 'start'
  | 'help'
  | 'latest'
  | 'topics'
  | 'subscribe'
  | 'unsubscribe'
  | 'stop'
  | 'push'
  | 'preview'
  | 'pause'
  | 'resume'
  | 'status'
  | 'confirm'
  | 'cancelpush';

/** Every accepted command word (folded: `/Últimas` arrives as `ultimas`) and what it means. */
const ALIASES: Readonly<Record<string, CommandName>> = {
  start: 'start',
  iniciar: 'start',
  help: 'help',
  ajuda: 'help',
  latest: 'latest',
  ultimas: 'latest',
  topics: 'topics',
  temas: 'topics',
  subscribe: 'subscribe',
  assinar: 'subscribe',
  unsubscribe: 'unsubscribe',
  cancelar: 'unsubscribe',
  stop: 'stop',
  sair: 'stop',
  push: 'push',
  preview: 'preview',
  pause: 'pause',
  pausar: 'pause',
  resume: 'resume',
  retomar: 'resume',
  status: 'status',
  confirm: 'confirm',
  confirmar: 'confirm',
  cancelpush: 'cancelpush',
  cancelarpush: 'cancelpush',
};

const EDITOR_COMMANDS: ReadonlySet<CommandName> = new Set(['push', 'preview', 'pause', 'resume', 'status', 'confirm', 'cancelpush']);

const MENU: Record<Locale, [string, MessageKey][]> = {
  'pt-BR': [
    ['ultimas', 'menu.latest'],
    ['temas', 'menu.topics'],
    ['assinar', 'menu.subscribe'],
    ['cancelar', 'menu.unsubscribe'],
    ['sair', 'menu.stop'],
    ['ajuda', 'menu.help'],
    ['iniciar', 'menu.start'],
  ],
  en: [
    ['latest', 'menu.latest'],
    ['topics', 'menu.topics'],
    ['subscribe', 'menu.subscribe'],
    ['unsubscribe', 'menu.unsubscribe'],
    ['stop', 'menu.stop'],
    ['help', 'menu.help'],
    ['start', 'menu.start'],
  ],
};

/** Button data: `push:ok:<code>` / `push:no:<code>` (well under Telegram's 64 bytes). */
const ACTION = /^push:(ok|no):([A-Za-z0-9]{1,16})$/;

/**
 * The sender's id in the form the allow-list uses, or null when it cannot be trusted: WhatsApp numbers
 * lose `+`, `@s.whatsapp.net` and a `:device` suffix; an unmapped `@lid` id, a group JID or anything
 * that is not digits is refused. Telegram ids are integers.
 */
export function normalizeSenderId(platform: Platform, id: string | null | undefined): string | null {
  if (id == null) return null;
  let s = id.trim();
  if (platform === 'whatsapp') {
    if (s.includes('@') && !/@s\.whatsapp\.net$/i.test(s)) return null;
    s = s.replace(/@s\.whatsapp\.net$/i, '').replace(/:\d+$/, '').replace(/^\+/, '');
    return /^\d{5,20}$/.test(s) ? s : null;
  }
  return /^-?\d{1,20}$/.test(s) ? s : null;
}

/**
 * Whether a sender is on the EDITORS allow-list. Fails closed: a null, empty, malformed or unmapped
 * (`@lid`) sender is never an editor, and the platform must match as well as the id.
 */
export function isEditor(editors: readonly Editor[], platform: Platform, senderId: string | null): boolean {
  const id = normalizeSenderId(platform, senderId);
  if (id === null) return false;
  return editors.some((e) => e.platform === platform && normalizeSenderId(e.platform, e.id) === id);
}

/** A topic as the router compares it: folded key, display label. */
interface TopicEntry {
  key: string;
  label: string;
}

type Match<T> = { kind: 'ok'; item: T } | { kind: 'ambiguous'; items: T[] } | { kind: 'unknown' };

/**
 * Finds what a user meant among named things: an exact match on any folded name first, then a prefix of
 * a name when only one thing has it.
 */
function matchByName<T>(input: string, items: readonly T[], names: (item: T) => string[]): Match<T> {
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

/** Everything a handler needs to know about who is talking and where. */
interface Ctx {
  platform: Platform;
  chatId: string;
  threadId: string | null;
  isPrivate: boolean;
  senderName: string | null;
  locale: Locale;
  /** `telegram:12345`: for the audit log and ownership of confirmations. */
  actor: string;
  /** The normalized sender id when the sender is an editor; null otherwise. */
  editorId: string | null;
  now: Date;
  t: Translate;
}

/**
 * Builds the router. Loads the reply strings at once (throws CommandStringsError naming the file when
 * they are missing or broken, so a bad deployment fails at start, not at a user's first message).
 */
export function createCommandRouter(deps: CommandRouterDeps): CommandRouter {
  const strings: CommandStrings = loadCommandStrings(deps.localesDir);
  const { db, services, logger } = deps;
  const timeZone = deps.timeZone ?? 'UTC';
  const confirmTtlMs = deps.confirmTtlMs ?? 10 * 60_000;
  const limiter = new ReplyRateLimiter(deps.replyRate.count, deps.replyRate.perMs);
  const pending = new PendingPushes(db, confirmTtlMs, deps.newCode ?? randomCode);
  const bot = deps.botUsername ? deps.botUsername.replace(/^@/, '').toLowerCase() : null;

  const translator =
    (locale: Locale): Translate =>
    (key, vars) =>
      fill(strings[locale][key], vars);
  const say = (text: string): Reply => ({ text: capReply(text) });

  function makeCtx(
    src: { platform: Platform; chatId: string; senderId: string | null; languageCode: string | null },
    extra: { isPrivate: boolean; threadId: string | null; senderName: string | null },
    now: Date,
  ): Ctx {
    const locale = localeFor(src.languageCode, deps.defaultLocale);
    const normalized = normalizeSenderId(src.platform, src.senderId);
    const shown = normalized ?? (src.senderId ? truncateEcho(src.senderId, 64) : 'unknown');
    return {
      platform: src.platform,
      chatId: src.chatId,
      threadId: extra.threadId,
      isPrivate: extra.isPrivate,
      senderName: extra.senderName ? truncateEcho(sanitizeInput(extra.senderName), 64) : null,
      locale,
      actor: `${src.platform}:${shown}`,
      editorId: isEditor(deps.editors, src.platform, src.senderId) ? normalized : null,
      now,
      t: translator(locale),
    };
  }

  /** One rate-limit check per reply we are about to make; logs once per burst of refusals. */
  function allowReply(platform: Platform, senderId: string | null, chatId: string, now: Date): boolean {
    const key = `${platform}:${senderId ?? `chat:${chatId}`}`;
    const { allowed, firstDrop } = limiter.take(key, now);
    if (!allowed && firstDrop)
      logger.warn(
        { user: key, limit: deps.replyRate.count, perMs: deps.replyRate.perMs },
        'reply rate limit reached: not answering this user until the window frees up',
      );
    return allowed;
  }

  async function audit(ctx: Ctx, action: string, outcome: string, detail: Record<string, unknown> | null): Promise<void> {
    const text = detail === null ? null : JSON.stringify(detail);
    try {
      await writeAudit(
        db,
        { actor: ctx.actor, action, outcome, detail: text && text.length > 2000 ? `${text.slice(0, 1999)}…` : text },
        ctx.now,
      );
    } catch (err) {
      // The action itself already happened; losing its audit line must be loud, not fatal.
      logger.error({ err, actor: ctx.actor, action, outcome }, 'could not write the audit log');
    }
  }

  async function loadTopics(): Promise<TopicEntry[]> {
    const seen = new Map<string, TopicEntry>();
    for (const t of await services.topics.topics()) {
      const key = foldTopic(t.key);
      if (key !== '' && !seen.has(key)) seen.set(key, { key, label: t.label.trim() || key });
    }
    return [...seen.values()];
  }

  const topicNames = (topics: readonly TopicEntry[]): string => topics.map((t) => t.label).join(', ') || '—';

  /** A topic from what the user typed, or the reply explaining why none matched. */
  async function resolveTopic(
    ctx: Ctx,
    input: string,
    topics: readonly TopicEntry[],
  ): Promise<{ topic: TopicEntry } | { reply: Reply }> {
    const m = matchByName(input, topics, (t) => [t.key, t.label]);
    if (m.kind === 'ok') return { topic: m.item };
    if (m.kind === 'ambiguous')
      return { reply: say(ctx.t('topic.ambiguous', { input: truncateEcho(input), matches: topicNames(m.items) })) };
    return { reply: say(ctx.t('topic.unknown', { input: truncateEcho(input), topics: topicNames(topics) })) };
  }

  // ---- subscriber commands -------------------------------------------------------------------------

  async function start(ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
    const topics = await loadTopics();
    const vars = { topics: topicNames(topics), example: topics[0]?.key ?? 'mundo' };
    if (!ctx.isPrivate) return [say(ctx.t('welcome.group', vars))];
    const id = await upsertSubscriber(db, { platform: ctx.platform, chatId: ctx.chatId, locale: ctx.locale, name: ctx.senderName }, ctx.now);
    let text = ctx.t('welcome', vars);
    // A deep link (`t.me/bot?start=mundo`) arrives as `/start mundo`: subscribe when it names a topic.
    if (cmd.rest !== '') {
      const m = matchByName(cmd.rest, topics, (t) => [t.key, t.label]);
      if (m.kind === 'ok') {
        await addSubscription(db, id, m.item.key, ctx.now);
        text += `\n\n${ctx.t('welcome.subscribed', { topic: m.item.label })}`;
      }
    }
    return [say(text)];
  }

  function help(ctx: Ctx): Reply[] {
    const text = ctx.t('help.subscriber');
    return [say(ctx.editorId ? `${text}\n\n${ctx.t('help.editor')}` : text)];
  }

  async function listTopics(ctx: Ctx): Promise<Reply[]> {
    const topics = await loadTopics();
    const mine = ctx.isPrivate ? new Set(await subscriptionsOf(db, subscriberIdFor(ctx.platform, ctx.chatId))) : new Set<string>();
    // Topics the user still holds but no feed carries any more stay visible, so they can be cancelled.
    const all = [...topics, ...[...mine].filter((k) => !topics.some((t) => t.key === k)).map((k) => ({ key: k, label: k }))];
    if (all.length === 0) return [say(ctx.t('topics.none'))];
    const lines = [ctx.t('topics.header')];
    for (const t of all) lines.push(ctx.t(mine.has(t.key) ? 'topics.on' : 'topics.off', { label: t.label, key: t.key }));
    lines.push('', ctx.t('topics.footer'));
    return [say(lines.join('\n'))];
  }

  async function subscribe(ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
    if (!ctx.isPrivate) return [say(ctx.t('privateOnly'))];
    const topics = await loadTopics();
    if (cmd.rest === '') return [say(ctx.t('subscribe.usage', { topics: topicNames(topics) }))];
    const r = await resolveTopic(ctx, cmd.rest, topics);
    if ('reply' in r) return [r.reply];
    const id = await upsertSubscriber(db, { platform: ctx.platform, chatId: ctx.chatId, locale: ctx.locale, name: ctx.senderName }, ctx.now);
    const added = await addSubscription(db, id, r.topic.key, ctx.now);
    return [say(ctx.t(added ? 'subscribe.ok' : 'subscribe.already', { topic: r.topic.label, key: r.topic.key }))];
  }

  async function unsubscribe(ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
    if (!ctx.isPrivate) return [say(ctx.t('privateOnly'))];
    const id = subscriberIdFor(ctx.platform, ctx.chatId);
    const mine = await subscriptionsOf(db, id);
    const topics = await loadTopics();
    const known = [...topics, ...mine.filter((k) => !topics.some((t) => t.key === k)).map((k) => ({ key: k, label: k }))];
    const label = (k: string) => known.find((t) => t.key === k)?.label ?? k;
    if (cmd.rest === '') return [say(ctx.t('unsubscribe.usage', { topics: mine.map(label).join(', ') || '—' }))];
    const r = await resolveTopic(ctx, cmd.rest, known);
    if ('reply' in r) return [r.reply];
    const removed = await removeSubscription(db, id, r.topic.key);
    return [say(ctx.t(removed ? 'unsubscribe.ok' : 'unsubscribe.notSubscribed', { topic: r.topic.label, key: r.topic.key }))];
  }

  async function stop(ctx: Ctx): Promise<Reply[]> {
    if (!ctx.isPrivate) return [say(ctx.t('privateOnly'))];
    const count = await clearSubscriptions(db, subscriberIdFor(ctx.platform, ctx.chatId), ctx.now);
    return [say(ctx.t(count > 0 ? 'stop.ok' : 'stop.nothing', { count }))];
  }

  async function latest(ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
    let topic: TopicEntry | null = null;
    if (cmd.rest !== '') {
      const r = await resolveTopic(ctx, cmd.rest, await loadTopics());
      if ('reply' in r) return [r.reply];
      topic = r.topic;
    }
    const articles = await services.latest.latest(topic?.key ?? null, deps.latestCount);
    if (articles.length === 0)
      return [say(topic ? ctx.t('latest.emptyTopic', { topic: topic.label }) : ctx.t('latest.empty'))];
    const lines = [topic ? ctx.t('latest.headerTopic', { topic: topic.label }) : ctx.t('latest.header')];
    articles.slice(0, deps.latestCount).forEach((a, i) => {
      lines.push(ctx.t('latest.item', { n: i + 1, title: truncateEcho(a.title, 200), url: a.url, section: a.section ?? '' }));
    });
    return [say(lines.join('\n'))];
  }

  // ---- editor commands -----------------------------------------------------------------------------

  const destNames = (d: PushDestination): string[] => [d.id, d.label, d.id.replace(/^(telegram|whatsapp):/, '')];
  const destLabels = (ds: readonly PushDestination[]): string => ds.map((d) => d.label).join(', ') || '—';

  /** Validates the URL argument shared by /push and /preview; returns the URL or the reply. */
  async function urlArg(ctx: Ctx, action: string, raw: string | undefined): Promise<URL | Reply> {
    if (raw === undefined) {
      await audit(ctx, action, 'invalid', { reason: 'no url' });
      return say(ctx.t(action === 'push' ? 'push.usage' : 'preview.usage'));
    }
    const url = parseHttpUrl(raw);
    if (!url) {
      await audit(ctx, action, 'invalid', { reason: 'not an http(s) url', input: truncateEcho(raw, 200) });
      return say(ctx.t('push.badUrl', { input: truncateEcho(raw) }));
    }
    return url;
  }

  async function prepare(ctx: Ctx, action: string, url: URL): Promise<PushPreview | Reply> {
    try {
      return await services.push.prepare(url.href, { platform: ctx.platform, locale: ctx.locale });
    } catch (err) {
      const reason = err instanceof PushPrepareError ? err.reason : err instanceof Error ? err.message : String(err);
      logger.warn({ err, url: url.href, actor: ctx.actor }, `${action}: could not prepare the page`);
      await audit(ctx, action, 'failed', { url: url.href, reason: truncateEcho(reason, 300) });
      return say(ctx.t('push.prepareFailed', { url: truncateEcho(url.href, 100), reason: truncateEcho(reason, 200) }));
    }
  }

  async function push(ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
    const [rawUrl, ...destArgs] = cmd.args;
    const url = await urlArg(ctx, 'push', rawUrl);
    if (!(url instanceof URL)) return [url];

    let chosen: PushDestination[] | null = null;
    if (destArgs.length > 0) {
      const all = await services.push.destinations();
      chosen = [];
      for (const arg of destArgs) {
        const m = matchByName(arg, all, destNames);
        if (m.kind !== 'ok') {
          await audit(ctx, 'push', 'invalid', { url: url.href, reason: `destination ${m.kind}`, input: truncateEcho(arg, 100) });
          return [
            say(
              m.kind === 'ambiguous'
                ? ctx.t('push.destAmbiguous', { input: truncateEcho(arg), matches: destLabels(m.items) })
                : ctx.t('push.destUnknown', { input: truncateEcho(arg), destinations: destLabels(all) }),
            ),
          ];
        }
        if (!chosen.some((d) => d.id === m.item.id)) chosen.push(m.item);
      }
    }

    const preview = await prepare(ctx, 'push', url);
    if (!('articleId' in preview)) return [preview];
    const destinations = chosen ?? preview.destinations;
    if (destinations.length === 0) {
      const all = await services.push.destinations();
      await audit(ctx, 'push', 'invalid', { url: preview.url, reason: 'no destinations' });
      return [say(ctx.t('push.noDestinations', { destinations: destLabels(all) }))];
    }

    const last = await services.push.lastPushed(preview.articleId);
    const p = await pending.add({
      platform: ctx.platform,
      chatId: ctx.chatId,
      threadId: ctx.threadId,
      actor: ctx.actor,
      editorId: ctx.editorId ?? '',
      locale: ctx.locale,
      preview,
      destinations,
      createdAt: ctx.now,
    });
    await audit(ctx, 'push', 'awaiting_confirmation', {
      url: preview.url,
      code: p.code,
      destinations: destinations.map((d) => d.id),
      pushedBefore: last ? last.at.toISOString() : null,
    });

    const parts = [
      ctx.t('push.preview', { text: preview.text, count: destinations.length, destinations: destLabels(destinations) }),
      last
        ? ctx.t('push.already', { when: formatWhen(last.at, ctx.now, ctx.locale, timeZone), by: truncateEcho(last.by, 64) })
        : ctx.t('push.ask'),
    ];
    const minutes = Math.round(confirmTtlMs / 60_000);
    if (ctx.platform === 'whatsapp') parts.push(ctx.t('push.confirmHint', { code: p.code, minutes }));
    // A long preview is cut to fit; the question (and the code on WhatsApp) must survive, so only the preview is.
    const tail = parts.slice(1).join('\n\n');
    const text = `${capReply(parts[0]!, MAX_REPLY - tail.length - 2)}\n\n${tail}`;
    if (ctx.platform === 'whatsapp') return [{ text }];
    return [
      {
        text,
        buttons: [
          { label: ctx.t('push.button.ok'), data: `push:ok:${p.code}` },
          { label: ctx.t('push.button.no'), data: `push:no:${p.code}` },
        ],
      },
    ];
  }

  /** Finds the confirmation a code (or, with none given, the editor's only pending push) refers to. */
  async function findPending(
    ctx: Ctx,
    action: string,
    code: string | undefined,
  ): Promise<{ push: PendingPush } | { reply: Reply }> {
    if (code === undefined || code === '') {
      const mine = await pending.ofActor(ctx.actor, ctx.now);
      if (mine.length === 1) return { push: mine[0]! };
      return { reply: say(ctx.t(action === 'push.confirm' ? 'push.confirmUsage' : 'push.cancelUsage')) };
    }
    const found = await pending.lookup(code, ctx.now);
    if (found.status === 'unknown') {
      await audit(ctx, action, 'unknown_code', { code: truncateEcho(code, 20) });
      return { reply: say(ctx.t('push.unknownCode', { code: truncateEcho(code, 20) })) };
    }
    if (found.push.actor !== ctx.actor) {
      await audit(ctx, action, 'refused', { code: found.push.code, reason: 'started by another editor', owner: found.push.actor });
      return { reply: say(ctx.t('push.notYours')) };
    }
    if (found.status === 'expired') {
      await pending.delete(found.push.code);
      await audit(ctx, action, 'expired', { code: found.push.code, url: found.push.preview.url });
      return { reply: say(ctx.t('push.expired', { code: found.push.code })) };
    }
    return { push: found.push };
  }

  function progressListener(p: PendingPush): (progress: PushProgress) => void {
    const chat: ChatRef = { platform: p.platform, chatId: p.chatId, threadId: p.threadId };
    const t = translator(p.locale);
    const title = truncateEcho(p.preview.title, 80);
    return (progress) => {
      try {
        const key: MessageKey = !progress.done ? 'push.progress' : progress.failed > 0 ? 'push.progressFailed' : 'push.progressDone';
        const text = t(key, { title, sent: progress.sent, total: progress.total, failed: progress.failed });
        services.notifier.notify(chat, [say(text)]).catch((err: unknown) => {
          logger.warn({ err, chat: chat.chatId, ticket: progress.ticketId }, 'could not tell the editor how the push went');
        });
      } catch (err) {
        logger.warn({ err, ticket: progress.ticketId }, 'push progress callback failed');
      }
    };
  }

  async function confirm(ctx: Ctx, code: string | undefined): Promise<Reply[]> {
    const found = await findPending(ctx, 'push.confirm', code);
    if ('reply' in found) return [found.reply];
    const p = found.push;
    if (!(await pending.delete(p.code))) return [say(ctx.t('push.unknownCode', { code: p.code }))];
    const ids = p.destinations.map((d) => d.id);
    try {
      const ticket = await services.push.enqueue(
        p.preview,
        ids,
        {
          editor: { platform: p.platform, id: p.editorId },
          actor: p.actor,
          chat: { platform: p.platform, chatId: p.chatId, threadId: p.threadId },
          locale: p.locale,
        },
        progressListener(p),
      );
      await audit(ctx, 'push.confirm', 'ok', { url: p.preview.url, code: p.code, ticket: ticket.id, destinations: ids });
      return [say(ctx.t('push.enqueued', { count: ticket.total, title: truncateEcho(p.preview.title, 80) }))];
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      logger.error({ err, url: p.preview.url, actor: ctx.actor }, 'push: could not enqueue');
      await audit(ctx, 'push.confirm', 'failed', { url: p.preview.url, code: p.code, reason: truncateEcho(reason, 300) });
      return [say(ctx.t('push.enqueueFailed', { reason: truncateEcho(reason, 200) }))];
    }
  }

  async function cancelPush(ctx: Ctx, code: string | undefined): Promise<Reply[]> {
    const found = await findPending(ctx, 'push.cancel', code);
    if ('reply' in found) return [found.reply];
    await pending.delete(found.push.code);
    await audit(ctx, 'push.cancel', 'cancelled', { url: found.push.preview.url, code: found.push.code });
    return [say(ctx.t('push.cancelled'))];
  }

  async function preview(ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
    const url = await urlArg(ctx, 'preview', cmd.args[0]);
    if (!(url instanceof URL)) return [url];
    const p = await prepare(ctx, 'preview', url);
    if (!('articleId' in p)) return [p];
    await audit(ctx, 'preview', 'ok', { url: p.url });
    return [
      say(ctx.t('preview.header', { text: p.text, count: p.destinations.length, destinations: destLabels(p.destinations) })),
    ];
  }

  async function pauseOrResume(ctx: Ctx, pause: boolean): Promise<Reply[]> {
    const action = pause ? 'pause' : 'resume';
    const state = await getPauseState(db);
    if (state.paused === pause) {
      await audit(ctx, action, 'unchanged', null);
      if (!pause) return [say(ctx.t('resume.already'))];
      const when = state.at ? formatWhen(state.at, ctx.now, ctx.locale, timeZone) : ctx.t('time.never');
      return [say(ctx.t('pause.already', { when, by: state.by ?? '?' }))];
    }
    await setPaused(db, pause, ctx.actor, ctx.now);
    logger.info({ actor: ctx.actor, paused: pause }, pause ? 'automatic posting paused' : 'automatic posting resumed');
    await audit(ctx, action, 'ok', null);
    return [say(ctx.t(pause ? 'pause.ok' : 'resume.ok'))];
  }

  async function status(ctx: Ctx): Promise<Reply[]> {
    const [report, pause] = await Promise.all([services.status.status(), getPauseState(db)]);
    await audit(ctx, 'status', 'ok', null);
    return [say(formatStatus(report, pause, { t: ctx.t, now: ctx.now, locale: ctx.locale, timeZone }))];
  }

  // ---- dispatch ------------------------------------------------------------------------------------

  async function refuse(ctx: Ctx, name: CommandName, reason: 'not_editor' | 'not_private'): Promise<Reply[]> {
    if (reason === 'not_editor')
      logger.warn({ actor: ctx.actor, chat: ctx.chatId, command: name }, 'editor command refused: sender is not on the EDITORS list');
    await audit(ctx, name, 'refused', { reason, chat: ctx.chatId });
    return [say(ctx.t(reason === 'not_editor' ? 'editor.refused' : 'editor.privateOnly'))];
  }

  async function run(ctx: Ctx, name: CommandName, cmd: ParsedCommand): Promise<Reply[]> {
    if (EDITOR_COMMANDS.has(name)) {
      if (!ctx.editorId) return refuse(ctx, name, 'not_editor');
      // /status and pushes in a group would show newsroom internals to everyone there.
      if (!ctx.isPrivate) return refuse(ctx, name, 'not_private');
    }
    switch (name) {
      case 'start':
        return start(ctx, cmd);
      case 'help':
        return help(ctx);
      case 'latest':
        return latest(ctx, cmd);
      case 'topics':
        return listTopics(ctx);
      case 'subscribe':
        return subscribe(ctx, cmd);
      case 'unsubscribe':
        return unsubscribe(ctx, cmd);
      case 'stop':
        return stop(ctx);
      case 'push':
        return push(ctx, cmd);
      case 'preview':
        return preview(ctx, cmd);
      case 'pause':
        return pauseOrResume(ctx, true);
      case 'resume':
        return pauseOrResume(ctx, false);
      case 'status':
        return status(ctx);
      case 'confirm':
        return confirm(ctx, cmd.args[0]);
      case 'cancelpush':
        return cancelPush(ctx, cmd.args[0]);
    }
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
      const name = cmd ? ALIASES[cmd.name] : undefined;
      // In a shared chat every member's typo would cost a message from the account: only known commands
      // are answered there. A private chat still gets the hint.
      if (cmd && !name && !isPrivate) return [];
      if (!allowReply(m.platform, m.senderId, m.chatId, now)) return [];
      if (m.replyBudget && !m.replyBudget()) return [];
      const ctx = makeCtx(m, { isPrivate, threadId: m.threadId ?? null, senderName: m.senderName }, now);
      if (!cmd) return [say(ctx.t('pointer'))];
      if (!name) {
        return [say(cmd.word ? ctx.t('unknownCommand', { command: `/${truncateEcho(cmd.word, 30)}` }) : ctx.t('pointer'))];
      }
      return await run(ctx, name, cmd);
    } catch (err) {
      logger.error({ err, platform: m.platform, chat: m.chatId }, 'command failed');
      return [say(fallback('error.generic'))];
    }
  }

  async function handleAction(a: IncomingAction): Promise<Reply[]> {
    const now = deps.clock();
    const fallback = translator(localeFor(a.languageCode, deps.defaultLocale));
    try {
      const m = ACTION.exec(typeof a.data === 'string' ? a.data : '');
      if (!m) {
        logger.debug({ platform: a.platform, data: truncateEcho(String(a.data), 64) }, 'ignoring a button press the router did not make');
        return [];
      }
      if (!allowReply(a.platform, a.senderId, a.chatId, now)) return [];
      const ctx = makeCtx(a, { isPrivate: true, threadId: null, senderName: null }, now);
      const name: CommandName = m[1] === 'ok' ? 'confirm' : 'cancelpush';
      if (!ctx.editorId) return await refuse(ctx, name, 'not_editor');
      return m[1] === 'ok' ? await confirm(ctx, m[2]) : await cancelPush(ctx, m[2]);
    } catch (err) {
      logger.error({ err, platform: a.platform, chat: a.chatId }, 'button action failed');
      return [say(fallback('error.generic'))];
    }
  }

  return {
    handleMessage,
    handleAction,
    isPaused: async () => (await getPauseState(db)).paused,
    menu: (locale) => MENU[locale].map(([command, key]) => ({ command, description: strings[locale][key] })),
  };
}
