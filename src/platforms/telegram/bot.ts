import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { Telegraf } from 'telegraf';
import type { InlineKeyboardMarkup, Update, UserFromGetMe } from 'telegraf/types';
import type { IncomingAction, IncomingMessage, Reply, ReplyButton } from '../../commands/types.js';
import { PlatformSendError } from '../../delivery/types.js';
import type { Logger } from '../../log.js';
import { createTelegramClient, type TelegramApiClient } from './client.js';
import { scrubToken, type TelegramApiError } from './errors.js';
import { escapeTelegramHtml, splitPlain } from './plain.js';
import { RecentUpdateIds, toIncomingAction, toIncomingMessage, updateChatKey } from './updates.js';

/**
 * Command wiring on Telegram: updates in (long polling or webhook), the router's replies out.
 *
 * - Long polling is the default; webhook mode sets the webhook with a secret and exposes a node:http
 *   handler the composition root mounts on its public listener (which then serves nothing else). The
 *   handler answers as soon as the request is checked and handles the update afterwards, once per
 *   `update_id`.
 * - Forwarded messages never reach the router (updates.ts): their text is someone else's.
 * - Updates of one chat are handled one after the other (so `/start` is done before `/assinar`);
 *   different chats run in parallel within a batch.
 * - The router's plain-text replies are escaped for parse_mode HTML, split past 4096 characters, and
 *   carry an inline keyboard for buttons. A 429 on a reply waits `retry_after`; a 5xx retries twice.
 * - The polling loop is ours, not telegraf's `launch()`: its waits are abortable, so `stop()` returns
 *   promptly and leaves nothing keeping the process alive, and processed updates are confirmed to
 *   Telegram before it returns.
 * Channel posts are ignored; in groups only commands addressed to this bot reach the router.
 */

/** One entry of the bot's command menu. `command` is lowercase latin letters, digits, `_` (Telegram's rule). */
export interface BotCommandSpec {
  command: string;
  description: string;
}

export interface TelegramBotOptions {
  token: string;
  /** TELEGRAM_API_ROOT: https://api.telegram.org, a self-hosted Bot API server, or a test fake. */
  apiRoot: string;
  logger: Logger;
  /** The command router for messages. A throw is logged; the user gets no reply. */
  onMessage: (m: IncomingMessage) => Promise<Reply[]>;
  /** The command router for button presses. The press is always acknowledged (answerCallbackQuery). */
  onAction: (a: IncomingAction) => Promise<Reply[]>;
  /** Seconds one getUpdates call waits for news. Default 50 (Telegram's practical maximum). */
  pollTimeoutSec?: number;
  /** Deadline for other Bot API calls. Default 30 s. */
  timeoutMs?: number;
  /** Remove the inline keyboard once a press was handled, so a confirmation cannot be pressed twice. Default true. */
  removeButtonsAfterPress?: boolean;
  /** Clock for `receivedAt`. */
  now?: () => Date;
  /** How many recent webhook update ids are remembered to drop redeliveries. Default 10 000. */
  recentUpdates?: number;
  /**
   * Several instances on one database: true the first time an update id is seen by any of them (the
   * `telegram_updates` table), false for a repeat, which is then not handled. A database error handles it.
   */
  firstSeen?: (updateId: number) => Promise<boolean>;
  /** Waits for a slot in the send budget shared by the instances before each reply (Telegram's 30/s is the bot's). */
  beforeSend?: () => Promise<void>;
  /** Reuse a Telegraf instance (e.g. the one the sender uses); default: a new one on `apiRoot`. */
  telegraf?: Telegraf;
  /** The shared Bot API client (module.ts passes the sender's); default: one on the telegraf instance. `timeoutMs` is then the client's. */
  client?: TelegramApiClient;
}

export type TelegramBotStart =
  | { mode: 'polling' }
  /** `url` is the public https URL Telegram calls; `path` the local path to answer (default: the URL's path). */
  | { mode: 'webhook'; url: string; secret: string; path?: string };

export interface TelegramBot {
  /** The telegraf instance (its `telegram` client can be shared with the sender). */
  readonly telegraf: Telegraf;
  /** `getMe`, then polling in the background or setWebhook. Resolves once updates can arrive. */
  start(how: TelegramBotStart): Promise<void>;
  /**
   * Stops polling and the webhook handler. Updates being handled get up to `graceMs` (default 10 s) to
   * finish; processed ones are confirmed to Telegram so a restart does not see them again.
   */
  stop(graceMs?: number): Promise<void>;
  /**
   * node:http handler for webhook mode: returns false when the request is not for the webhook path (or
   * the bot is not in webhook mode) so the caller can route it elsewhere; otherwise answers it:
   * 401 for a wrong X-Telegram-Bot-Api-Secret-Token, 405 for non-POST, 413 for a body over 1 MB, 400 for
   * a body that is not an update, and 200 at once for a good one: the update is handled after the answer
   * (Telegram redelivers to a webhook that answers slowly), and one whose `update_id` was seen lately is
   * answered 200 and not handled again.
   */
  webhookHandler(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean>;
  /** setMyCommands per locale: `en` is the default menu, others by language code (`pt-BR` → `pt`). */
  setCommands(commandsByLocale: Record<string, BotCommandSpec[]>): Promise<void>;
  /** Handles one update as if it came from Telegram (used by polling and the webhook; handy in tests). */
  handleUpdate(update: Update): Promise<void>;
  /** The bot's @username once known. */
  readonly username: string | null;
}

const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
const MAX_WEBHOOK_BODY = 1024 * 1024;
const SECRET_SHAPE = /^[A-Za-z0-9_-]{1,256}$/;

/** Sleeps `ms`, or less if `signal` aborts. Never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function keyboard(buttons: ReplyButton[], logger: Logger): InlineKeyboardMarkup | undefined {
  const usable = buttons.filter((b) => {
    const size = Buffer.byteLength(b.data);
    if (b.label && size >= 1 && size <= 64) return true;
    logger.warn({ label: b.label, bytes: size }, 'reply button dropped: Telegram needs a label and 1–64 bytes of data');
    return false;
  });
  if (usable.length === 0) return undefined;
  const perRow = usable.length <= 3 ? usable.length : 2;
  const rows: InlineKeyboardMarkup['inline_keyboard'] = [];
  for (let i = 0; i < usable.length; i += perRow) {
    rows.push(usable.slice(i, i + perRow).map((b) => ({ text: b.label, callback_data: b.data })));
  }
  return { inline_keyboard: rows };
}

/** Telegram's language_code for a locale (`pt-BR` → `pt`), or null for the default menu. */
function menuLanguage(locale: string, isDefault: boolean): string | null {
  if (isDefault) return null;
  return locale.slice(0, 2).toLowerCase();
}

/** Creates the Telegram command wiring. Nothing is contacted until `start` (or `setCommands`). */
export function createTelegramBot(opts: TelegramBotOptions): TelegramBot {
  const { token, logger } = opts;
  const telegraf = opts.telegraf ?? new Telegraf(token, { telegram: { apiRoot: opts.apiRoot, webhookReply: false } });
  const api = opts.client ?? createTelegramClient({ telegram: telegraf.telegram, token, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
  const pollTimeoutSec = opts.pollTimeoutSec ?? 50;
  // getUpdates waits pollTimeoutSec on Telegram's side; its deadline adds the ordinary one on top.
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const now = opts.now ?? (() => new Date());
  const removeButtons = opts.removeButtonsAfterPress ?? true;

  let me: UserFromGetMe | null = null;
  let stopping = new AbortController();
  let pollLoop: Promise<void> | null = null;
  let webhook: { path: string; secret: Buffer } | null = null;
  let offset = 0;
  const chains = new Map<string, Promise<void>>();
  const seen = new RecentUpdateIds(opts.recentUpdates);

  /** One Bot API call through the shared client (deadline, stop signal, classification, scrubbing). */
  function call<M extends Parameters<Telegraf['telegram']['callApi']>[0]>(
    method: M,
    payload: Parameters<typeof api.call<M>>[1],
    o: { deadlineMs?: number; signal?: AbortSignal; chatId?: string } = {},
  ) {
    return api.call(method, payload, {
      ...(o.deadlineMs !== undefined ? { timeoutMs: o.deadlineMs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.chatId ? { chatId: o.chatId } : {}),
    });
  }

  let meCall: Promise<UserFromGetMe> | null = null;
  /** `getMe`, asked once (concurrent callers share the call; a failure is not remembered). */
  function identity(): Promise<UserFromGetMe> {
    meCall ??= call('getMe', {}).then(
      (bot) => {
        me = bot;
        telegraf.botInfo = bot;
        return bot;
      },
      (err: unknown) => {
        meCall = null;
        throw err;
      },
    );
    return meCall;
  }

  /** Sends with up to three tries: waits out 429s (≤ 60 s) and retries 5xx/network errors. */
  async function sendWithRetry(payload: Parameters<typeof api.call<'sendMessage'>>[1], chatId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.beforeSend?.();
        await call('sendMessage', payload, { chatId });
        return;
      } catch (err) {
        const e = err as TelegramApiError;
        const retryable = e.kind === 'rate_limited' || e.kind === 'transient';
        if (!retryable || attempt >= 3 || stopping.signal.aborted) throw e;
        const wait = e.kind === 'rate_limited' ? Math.min(e.details.retryAfterMs ?? 1000, 60_000) : 1000 * attempt;
        await sleep(wait, stopping.signal);
      }
    }
  }

  async function sendReplies(chatId: string, threadId: string | null | undefined, replies: Reply[]) {
    const thread = threadId ? Number(threadId) : undefined;
    for (const reply of replies) {
      if (!reply.text.trim()) {
        logger.warn({ chatId }, 'empty reply from the command router not sent (Telegram refuses empty messages)');
        continue;
      }
      const parts = splitPlain(reply.text);
      const markup = reply.buttons?.length ? keyboard(reply.buttons, logger) : undefined;
      for (const [i, part] of parts.entries()) {
        const last = i === parts.length - 1;
        try {
          await sendWithRetry(
            {
              chat_id: chatId,
              text: escapeTelegramHtml(part),
              parse_mode: 'HTML',
              link_preview_options: { is_disabled: !reply.linkPreview },
              ...(thread !== undefined && Number.isSafeInteger(thread) ? { message_thread_id: thread } : {}),
              ...(last && markup ? { reply_markup: markup } : {}),
            },
            chatId,
          );
        } catch (err) {
          const e = err as PlatformSendError;
          logger.warn({ chatId, kind: e.kind, code: e.details.code, reason: e.message }, `reply to Telegram chat ${chatId} not delivered`);
          if (e.kind === 'gone' || e.kind === 'permanent') return; // the rest would fail the same way
          break;
        }
      }
    }
  }

  async function onMessageUpdate(update: Update) {
    const bot = await identity();
    const m = toIncomingMessage(update, bot.username, now());
    if (!m) return;
    logger.debug({ chatId: m.chatId, senderId: m.senderId, command: m.text.startsWith('/') ? m.text.split(/\s/, 1)[0] : null }, 'telegram message');
    let replies: Reply[];
    try {
      replies = await opts.onMessage(m);
    } catch (err) {
      logger.error({ chatId: m.chatId, reason: scrubToken(err instanceof Error ? err.message : String(err), token) }, 'the command router failed on a Telegram message');
      return;
    }
    await sendReplies(m.chatId, m.threadId, replies);
  }

  async function onCallbackUpdate(update: Update) {
    if (!('callback_query' in update)) return;
    const cq = update.callback_query;
    // Acknowledge first: the user's client shows a spinner until then.
    await call('answerCallbackQuery', { callback_query_id: cq.id }).catch((err: unknown) => {
      logger.debug({ reason: (err as Error).message }, 'answerCallbackQuery failed');
    });
    const action = toIncomingAction(update, now());
    if (!action) return;
    let replies: Reply[];
    try {
      replies = await opts.onAction(action);
    } catch (err) {
      logger.error({ chatId: action.chatId, reason: scrubToken(err instanceof Error ? err.message : String(err), token) }, 'the command router failed on a button press');
      return;
    }
    if (removeButtons) {
      await call('editMessageReplyMarkup', {
        chat_id: action.chatId,
        message_id: Number(action.messageId),
        reply_markup: { inline_keyboard: [] },
      }).catch((err: unknown) => logger.debug({ reason: (err as Error).message }, 'could not remove the buttons'));
    }
    const thread = cq.message && 'message_thread_id' in cq.message && cq.message.is_topic_message ? String(cq.message.message_thread_id) : null;
    await sendReplies(action.chatId, thread, replies);
  }

  async function route(update: Update) {
    try {
      if (opts.firstSeen) {
        const first = await opts.firstSeen(update.update_id).catch((err: unknown) => {
          logger.warn({ updateId: update.update_id, reason: (err as Error).message }, 'could not record the update id; handling it anyway');
          return true;
        });
        if (!first) {
          logger.debug({ event: 'telegram.update_duplicate', updateId: update.update_id }, 'update handled already (by this or another instance)');
          return;
        }
      }
      if ('message' in update) await onMessageUpdate(update);
      else if ('callback_query' in update) await onCallbackUpdate(update);
    } catch (err) {
      logger.error({ updateId: update.update_id, reason: scrubToken(err instanceof Error ? err.message : String(err), token) }, 'a Telegram update could not be handled');
    }
  }

  /** Runs `update` after the previous updates of the same chat. Never rejects. */
  function handleUpdate(update: Update): Promise<void> {
    const key = updateChatKey(update);
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => route(update));
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
    return next;
  }

  async function poll(signal: AbortSignal) {
    let failures = 0;
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await call(
          'getUpdates',
          { offset, timeout: pollTimeoutSec, allowed_updates: [...ALLOWED_UPDATES] },
          { deadlineMs: pollTimeoutSec * 1000 + timeoutMs, signal },
        );
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        const e = err as TelegramApiError;
        if (e.status === 401) {
          logger.error({ reason: e.message }, 'Telegram rejected the bot token; polling stopped. Check TELEGRAM_BOT_TOKEN');
          return;
        }
        failures += 1;
        let wait = Math.min(30_000, 500 * 2 ** failures) * (0.5 + Math.random() / 2);
        if (e.kind === 'rate_limited') wait = e.details.retryAfterMs ?? 5000;
        if (e.status === 409) {
          wait = 5000;
          logger.error({ reason: e.message }, 'another process is polling this bot (or a webhook is set); retrying in 5 s');
        } else logger.warn({ kind: e.kind, reason: e.message, waitMs: Math.round(wait) }, 'getUpdates failed; retrying');
        await sleep(wait, signal);
        continue;
      }
      for (const u of updates) offset = Math.max(offset, u.update_id + 1);
      await Promise.all(updates.map((u) => handleUpdate(u)));
    }
  }

  async function confirmOffset() {
    // The next getUpdates would confirm the last batch; on stop we do it now so a restart does not see it again.
    if (offset === 0) return;
    await call('getUpdates', { offset, limit: 1, timeout: 0 }, { deadlineMs: 2000 }).catch((err: unknown) =>
      logger.debug({ reason: (err as Error).message }, 'could not confirm the last updates'),
    );
  }

  return {
    telegraf,
    get username() {
      return me?.username ?? null;
    },

    async start(how) {
      if (pollLoop || webhook) throw new Error('the Telegram bot is already started; stop it first');
      stopping = new AbortController();
      const bot = await identity();
      if (how.mode === 'polling') {
        await call('deleteWebhook', { drop_pending_updates: false });
        const signal = stopping.signal;
        pollLoop = poll(signal).catch((err: unknown) => {
          logger.error({ reason: scrubToken(err instanceof Error ? err.message : String(err), token) }, 'Telegram polling stopped on an error');
        });
        logger.info({ bot: `@${bot.username}` }, 'Telegram commands: long polling');
        return;
      }
      if (!SECRET_SHAPE.test(how.secret)) {
        throw new Error('TELEGRAM_WEBHOOK_SECRET must be 1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram\'s rule)');
      }
      let path = how.path;
      try {
        path ??= new URL(how.url).pathname;
      } catch {
        throw new Error(`TELEGRAM_WEBHOOK_URL="${how.url}" is not a URL; use e.g. https://bot.example.com/telegram`);
      }
      await call('setWebhook', { url: how.url, secret_token: how.secret, allowed_updates: [...ALLOWED_UPDATES] });
      webhook = { path, secret: Buffer.from(how.secret) };
      logger.info({ bot: `@${bot.username}`, path }, 'Telegram commands: webhook');
    },

    async stop(graceMs = 10_000) {
      stopping.abort();
      webhook = null;
      const loop = pollLoop;
      pollLoop = null;
      const grace = new AbortController();
      const inFlight = Promise.all([loop, ...chains.values()]);
      const finished = await Promise.race([inFlight.then(() => true), sleep(graceMs, grace.signal).then(() => false)]);
      grace.abort();
      if (!finished) logger.warn({ graceMs }, 'Telegram updates still being handled at stop; not waiting any longer');
      if (loop) await confirmOffset();
    },

    async webhookHandler(req, res) {
      const hook = webhook;
      if (!hook) return false;
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path !== hook.path) return false;
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return true;
      }
      const given = req.headers['x-telegram-bot-api-secret-token'];
      const givenBuf = Buffer.from(typeof given === 'string' ? given : '');
      if (givenBuf.length !== hook.secret.length || !timingSafeEqual(givenBuf, hook.secret)) {
        logger.warn({ remote: req.socket.remoteAddress }, 'webhook request with a wrong or missing secret token refused');
        res.writeHead(401).end();
        req.resume();
        return true;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BODY) {
        res.writeHead(413, { connection: 'close' }).end();
        req.resume();
        return true;
      }
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_WEBHOOK_BODY) {
          // Stop reading: the rest of the body is never buffered.
          res.writeHead(413, { connection: 'close' }).end();
          req.destroy();
          return true;
        }
        chunks.push(chunk as Buffer);
      }
      let update: Update;
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (!parsed || typeof parsed !== 'object' || typeof (parsed as { update_id?: unknown }).update_id !== 'number') throw new Error('not an update');
        update = parsed as Update;
      } catch {
        res.writeHead(400).end();
        return true;
      }
      // Answer first, handle after: Telegram waits for the answer and redelivers when it is slow.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (!seen.add(update.update_id)) {
        logger.debug({ event: 'telegram.update_duplicate', updateId: update.update_id }, 'webhook update seen already; not handled again');
        return true;
      }
      // handleUpdate does not reject (route logs its errors); the catch is the last guard for the process.
      handleUpdate(update).catch((err: unknown) => {
        logger.error({ event: 'telegram.update_failed', updateId: update.update_id, reason: scrubToken(err instanceof Error ? err.message : String(err), token) }, 'a Telegram webhook update could not be handled');
      });
      return true;
    },

    async setCommands(commandsByLocale) {
      const locales = Object.keys(commandsByLocale);
      const defaultLocale = locales.find((l) => l.toLowerCase() === 'en' || l.toLowerCase().startsWith('en-')) ?? locales[0];
      for (const locale of locales) {
        const list = commandsByLocale[locale]!;
        for (const c of list) {
          if (!/^[a-z0-9_]{1,32}$/.test(c.command)) {
            throw new Error(`bot command "${c.command}" (${locale}) is not 1–32 lowercase latin letters, digits or _; Telegram would refuse the menu`);
          }
        }
        const commands = list.map((c) => ({ command: c.command, description: c.description.slice(0, 256) || c.command }));
        const language = menuLanguage(locale, locale === defaultLocale);
        await call('setMyCommands', { commands, ...(language ? { language_code: language } : {}) });
      }
    },

    handleUpdate,
  };
}
