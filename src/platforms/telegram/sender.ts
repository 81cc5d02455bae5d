import type { Telegram } from 'telegraf';
import type { ChatFromGetChat, ChatMember, LinkPreviewOptions, Message, UserFromGetMe } from 'telegraf/types';
import type { Logger } from '../../log.js';
import {
  PlatformSendError,
  type Destination,
  type DestinationCheck,
  type PlatformSender,
  type SentMessage,
} from '../../delivery/types.js';
import type { OutboundMessage } from '../../render/types.js';
import { createTelegramClient, type TelegramApiClient } from './client.js';
import { TelegramApiError, scrubToken, telegramErrorCode } from './errors.js';
import { htmlToPlain } from '../../render/telegram-html.js';
import type { PaidBroadcast } from './paid.js';
import { TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, truncateUtf16 } from './plain.js';

/** The text sent after Telegram refused the HTML: the renderer's tolerant plain-text reading, within the limit. */
const plainWithin = (html: string, limit: number) => truncateUtf16(htmlToPlain(html).trim(), limit);

/**
 * The Telegram side of the dispatcher's seam: one call per send, classified errors, two documented
 * degradations (plain text after refused HTML, text with a link preview after a refused image), and
 * the start-up rights check. Pacing, retries and bookkeeping belong to `delivery/`; this module never
 * retries except for those two one-time degradations.
 */

/** The part of telegraf's client the adapter uses: every call goes through `callApi` so it can carry a deadline. */
export type TelegramClient = Pick<Telegram, 'callApi'>;

export interface TelegramSenderOptions {
  /** telegraf's client (`bot.telegram`) or the Telegraf instance itself; point it at TELEGRAM_API_ROOT. */
  telegram: TelegramClient | { telegram: TelegramClient };
  logger: Logger;
  /** The bot token, only so it can be scrubbed from every error message (telegraf puts it in URLs). */
  token: string;
  /**
   * Deadline for one Bot API call. telegraf's own is 500 s, far too long for a dispatcher that must keep
   * moving; past this the request is aborted and the send reported `transient` (it may still have been
   * delivered: that is the in-flight duplicate bound). Default 30 s. Ignored when `client` is given.
   */
  timeoutMs?: number;
  /** The shared Bot API client (module.ts passes the one the bot uses); default: one on `telegram`. */
  client?: TelegramApiClient;
  /** Paid broadcasts (TELEGRAM_PAID_BROADCAST): which sends carry `allow_paid_broadcast`; default none. */
  paid?: PaidBroadcast;
}

/** PlatformSender plus the bot identity, which the composition root may want for logs. */
export interface TelegramSender extends PlatformSender {
  readonly platform: 'telegram';
  /** `getMe`, asked once and remembered (a failure is not remembered). */
  me(): Promise<UserFromGetMe>;
}

/** The one-line outcomes of `check`, for the operator's start-up log. */
export const CHECK_LINES = {
  ok: 'ok, can post',
  notAdmin: 'the bot is not an administrator: add it with the "Post messages" right',
  adminWithoutPost: 'the bot is an administrator without the "Post messages" right: give it that right',
  chatNotFound: 'chat not found: check the @username or id, and that the bot was added',
  cannotPostInGroup: 'the bot cannot post in this group: allow members to send messages or make the bot an administrator',
  removed: 'the bot was removed or blocked there: add it again',
  notMember: 'the bot is not a member of this group: add it',
  noTopics: 'this chat has no topics: remove the ":<topic>" part from TELEGRAM_CHATS',
} as const;

/** Creates the Telegram PlatformSender. Every error it throws is a PlatformSendError without the token. */
export function createTelegramSender(opts: TelegramSenderOptions): TelegramSender {
  const { logger, token } = opts;
  const api =
    opts.client ??
    createTelegramClient({ telegram: 'callApi' in opts.telegram ? opts.telegram : opts.telegram.telegram, token, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
  let meCall: Promise<UserFromGetMe> | null = null;

  /** One Bot API call through the shared client: deadline, classification and scrubbing are its transformers. */
  function call<M extends Parameters<Telegram['callApi']>[0]>(method: M, payload: Parameters<typeof api.call<M>>[1], chatId?: string) {
    return api.call(method, payload, chatId ? { chatId } : {});
  }

  function me(): Promise<UserFromGetMe> {
    meCall ??= call('getMe', {}).catch((err: unknown) => {
      meCall = null;
      throw err;
    });
    return meCall;
  }

  function target(dest: Destination) {
    const thread = dest.threadId ? Number(dest.threadId) : undefined;
    return {
      chat_id: dest.chatId,
      ...(thread !== undefined && Number.isSafeInteger(thread) ? { message_thread_id: thread } : {}),
      ...(dest.options.silent ? { disable_notification: true } : {}),
    };
  }

  /** New messages to private subscribers carry the paid-broadcast flag while it is on (never edits, never channels). */
  function newMessage(dest: Destination) {
    return opts.paid?.applies(dest) ? { ...target(dest), allow_paid_broadcast: true } : target(dest);
  }

  /**
   * A paid send refused for lack of Stars: paid broadcasts go off (the pacer falls back to the free 30/s at
   * once, as it asks the same switch), one error line says so, and the delivery is sent again unpaid.
   */
  function starsRanOut(dest: Destination, err: unknown): never {
    const reason = err instanceof Error ? err.message : String(err);
    if (opts.paid?.turnOff(reason)) {
      logger.error(
        { event: 'telegram.paid_broadcast_off', destination: dest.id, reason },
        `PAID BROADCAST OFF: Telegram refused a paid broadcast for lack of Stars (${reason}); sending continues at the free 30 messages/s. Top up the bot's Stars balance and restart to turn it on again`,
      );
    }
    throw new PlatformSendError('requeue', `${dest.id}: paid broadcast refused for lack of Stars; sent again unpaid`, { code: 'no_stars' });
  }

  /** Runs a send; a Stars refusal of a paid send becomes `starsRanOut`. */
  async function paidAware<T>(dest: Destination, paid: boolean, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (paid && codeOf(err) === 'no_stars') starsRanOut(dest, err);
      throw err;
    }
  }

  function previewOptions(dest: Destination, url: string | undefined, large = false): LinkPreviewOptions | undefined {
    if (dest.options.linkPreview === false) return { is_disabled: true };
    if (!url) return undefined;
    return large ? { url, prefer_large_media: true } : { url };
  }

  const codeOf = (err: unknown) => (err instanceof TelegramApiError ? err.code : err instanceof PlatformSendError ? telegramErrorCode(err) : undefined);

  function templateFault(dest: Destination, err: unknown, what: string) {
    logger.warn(
      { destination: dest.id, code: codeOf(err), reason: err instanceof Error ? err.message : String(err) },
      `Telegram refused the message HTML for ${dest.id}: ${what} (template fault: fix the template or the renderer)`,
    );
  }

  /** sendMessage with HTML; once as plain text if Telegram cannot parse the HTML. */
  async function sendText(dest: Destination, html: string, preview: LinkPreviewOptions | undefined): Promise<{ msg: Message; plain: boolean }> {
    const base = { ...newMessage(dest), ...(preview ? { link_preview_options: preview } : {}) };
    try {
      const msg = await call('sendMessage', { ...base, text: html, parse_mode: 'HTML' }, dest.chatId);
      return { msg, plain: false };
    } catch (err) {
      if (codeOf(err) !== 'bad_markup') throw err;
      templateFault(dest, err, 'resent once as plain text');
      const text = plainWithin(html, TELEGRAM_TEXT_LIMIT);
      const msg = await call('sendMessage', { ...base, text }, dest.chatId);
      return { msg, plain: true };
    }
  }

  async function sendPhoto(dest: Destination, message: OutboundMessage, imageUrl: string): Promise<SentMessage> {
    const base = { ...newMessage(dest), photo: imageUrl };
    try {
      try {
        const msg = await call('sendPhoto', { ...base, caption: message.text, parse_mode: 'HTML' }, dest.chatId);
        return { messageId: String(msg.message_id) };
      } catch (err) {
        if (codeOf(err) !== 'bad_markup') throw err;
        templateFault(dest, err, 'resent once with a plain-text caption');
        const caption = plainWithin(message.text, TELEGRAM_CAPTION_LIMIT);
        const msg = await call('sendPhoto', { ...base, caption }, dest.chatId);
        return { messageId: String(msg.message_id), degraded: 'plain_text', kind: 'photo' };
      }
    } catch (err) {
      if (codeOf(err) !== 'bad_media') throw err;
      logger.warn(
        { destination: dest.id, imageUrl, reason: err instanceof Error ? err.message : String(err) },
        `Telegram could not use the image for ${dest.id}; sending text with a link preview instead`,
      );
      const { msg } = await sendText(dest, message.text, previewOptions(dest, message.previewUrl ?? imageUrl, true));
      return { messageId: String(msg.message_id), degraded: 'text_instead_of_photo', kind: 'text' };
    }
  }

  function messageIdOf(dest: Destination, messageId: string): number {
    const id = Number(messageId);
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new PlatformSendError('permanent', `edit in ${dest.id}: "${messageId}" is not a Telegram message id`, { code: 'bad_request' });
    }
    return id;
  }

  type EditMethod = 'editMessageText' | 'editMessageCaption';

  async function editOnce(method: EditMethod, dest: Destination, id: number, body: string, html: boolean, preview: LinkPreviewOptions | undefined) {
    const mode = html ? { parse_mode: 'HTML' as const } : {};
    if (method === 'editMessageText') {
      await call('editMessageText', { chat_id: dest.chatId, message_id: id, text: body, ...mode, ...(preview ? { link_preview_options: preview } : {}) }, dest.chatId);
    } else {
      await call('editMessageCaption', { chat_id: dest.chatId, message_id: id, caption: body, ...mode }, dest.chatId);
    }
  }

  /** One edit; "not modified" is success, refused HTML is retried once as plain text. */
  async function editWith(method: EditMethod, dest: Destination, id: number, message: OutboundMessage): Promise<void> {
    const preview = previewOptions(dest, message.previewUrl);
    try {
      await editOnce(method, dest, id, message.text, true, preview);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'not_modified') return;
      if (code !== 'bad_markup') throw err;
      templateFault(dest, err, 'edit retried once as plain text');
      const limit = method === 'editMessageCaption' ? TELEGRAM_CAPTION_LIMIT : TELEGRAM_TEXT_LIMIT;
      try {
        await editOnce(method, dest, id, plainWithin(message.text, limit), false, preview);
      } catch (again) {
        if (codeOf(again) !== 'not_modified') throw again;
      }
    }
  }

  return {
    platform: 'telegram',
    me,

    async send(dest: Destination, message: OutboundMessage): Promise<SentMessage> {
      if (message.kind === 'image') {
        throw new PlatformSendError('permanent', `send to ${dest.id}: a WhatsApp "image" message reached the Telegram adapter (renderer or routing fault)`, {
          code: 'bad_request',
        });
      }
      if (message.kind === 'photo') {
        if (!message.imageUrl) {
          throw new PlatformSendError('permanent', `send to ${dest.id}: a photo message without imageUrl (renderer fault)`, { code: 'bad_request' });
        }
        const imageUrl = message.imageUrl;
        return paidAware(dest, opts.paid?.applies(dest) ?? false, () => sendPhoto(dest, message, imageUrl));
      }
      const paid = opts.paid?.applies(dest) ?? false;
      const { msg, plain } = await paidAware(dest, paid, () => sendText(dest, message.text, previewOptions(dest, message.previewUrl)));
      return plain ? { messageId: String(msg.message_id), degraded: 'plain_text', kind: 'text' } : { messageId: String(msg.message_id) };
    },

    /**
     * Edits a sent message: `photo` edits the caption, `text` the text. If the message turns out to be of
     * the other kind (it was degraded when sent), the other method is tried once. "message is not
     * modified" counts as success: the message already says what we wanted.
     */
    async edit(dest: Destination, messageId: string, message: OutboundMessage): Promise<void> {
      const id = messageIdOf(dest, messageId);
      const first: EditMethod = message.kind === 'text' ? 'editMessageText' : 'editMessageCaption';
      try {
        await editWith(first, dest, id, message);
      } catch (err) {
        const wrongKind = err instanceof TelegramApiError && /there is no (text|caption) in the message to edit/i.test(err.description);
        if (!wrongKind) throw err;
        await editWith(first === 'editMessageText' ? 'editMessageCaption' : 'editMessageText', dest, id, message);
      }
    },

    async check(dest: Destination): Promise<DestinationCheck> {
      try {
        return await checkDestination(dest);
      } catch (err) {
        // checkDestination handles the expected failures; this is the never-throw guarantee.
        const reason = scrubToken(err instanceof Error ? err.message : String(err), token);
        return { ok: false, message: `could not check: ${reason}` };
      }
    },

    ready: () => true,
  };

  async function checkDestination(dest: Destination): Promise<DestinationCheck> {
    let bot: UserFromGetMe;
    try {
      bot = await me();
    } catch (err) {
      return { ok: false, message: `could not ask Telegram who the bot is: ${(err as Error).message}` };
    }
    let chat: ChatFromGetChat;
    try {
      chat = await call('getChat', { chat_id: dest.chatId }, dest.chatId);
    } catch (err) {
      const e = err as PlatformSendError;
      if (telegramErrorCode(e) === 'chat_not_found') return { ok: false, gone: true, message: CHECK_LINES.chatNotFound };
      if (e.kind === 'gone') return { ok: false, gone: true, message: CHECK_LINES.removed };
      if (e.kind === 'migrated' && e.details.migrateTo) {
        return {
          ok: false,
          message: `the group became a supergroup: use ${e.details.migrateTo} in TELEGRAM_CHATS`,
          resolvedChatId: e.details.migrateTo,
        };
      }
      return { ok: false, message: `could not check: ${e.message}` };
    }
    const title = 'title' in chat ? chat.title : chat.username ? `@${chat.username}` : undefined;
    const info = { kind: chat.type, ...(title ? { title } : {}) } as const;
    if (chat.type === 'private') return { ok: true, message: CHECK_LINES.ok, ...info };

    let member: ChatMember;
    try {
      member = await call('getChatMember', { chat_id: chat.id, user_id: bot.id }, dest.chatId);
    } catch (err) {
      const e = err as PlatformSendError;
      if (e.kind === 'gone') return { ok: false, gone: true, message: CHECK_LINES.removed, ...info };
      return { ok: false, message: `could not read the bot's rights: ${e.message}`, ...info };
    }

    if (chat.type === 'channel') {
      if (member.status === 'creator') return { ok: true, message: CHECK_LINES.ok, ...info };
      if (member.status === 'administrator') {
        return member.can_post_messages
          ? { ok: true, message: CHECK_LINES.ok, ...info }
          : { ok: false, message: CHECK_LINES.adminWithoutPost, ...info };
      }
      if (member.status === 'kicked') return { ok: false, gone: true, message: CHECK_LINES.removed, ...info };
      return { ok: false, message: CHECK_LINES.notAdmin, ...info };
    }

    // group or supergroup
    if (dest.threadId && !('is_forum' in chat && chat.is_forum)) return { ok: false, message: CHECK_LINES.noTopics, ...info };
    switch (member.status) {
      case 'creator':
      case 'administrator':
        return { ok: true, message: CHECK_LINES.ok, ...info };
      case 'kicked':
        return { ok: false, gone: true, message: CHECK_LINES.removed, ...info };
      case 'left':
        return { ok: false, message: CHECK_LINES.notMember, ...info };
      case 'restricted':
        return member.is_member && member.can_send_messages
          ? { ok: true, message: CHECK_LINES.ok, ...info }
          : { ok: false, message: member.is_member ? CHECK_LINES.cannotPostInGroup : CHECK_LINES.notMember, ...info };
      case 'member': {
        const canSend = 'permissions' in chat ? chat.permissions?.can_send_messages : undefined;
        return canSend === false
          ? { ok: false, message: CHECK_LINES.cannotPostInGroup, ...info }
          : { ok: true, message: CHECK_LINES.ok, ...info };
      }
    }
  }
}
