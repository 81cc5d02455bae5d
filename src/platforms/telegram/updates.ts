import type { Update } from 'telegraf/types';
import type { IncomingAction, IncomingMessage } from '../../commands/types.js';

/**
 * Pure conversion of Telegram updates into the router's platform-neutral shapes, with Telegram's
 * addressing rules for groups. No I/O: the bot wiring (bot.ts) feeds updates in and sends replies out.
 */

/** `/cmd`, `/cmd@bot` at the very start of a message (letters with accents tolerated: people type `/últimas`). */
const COMMAND = /^\/([\p{L}\p{N}_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)/u;

/**
 * Whether a message is for this bot and the text the router should see.
 * - private chat: always addressed; `/cmd@thisbot` is shortened to `/cmd`.
 * - group: only commands: `/cmd` and `/cmd@thisbot` are addressed (shortened to `/cmd`), `/cmd@otherbot`
 *   and plain text are not. This is Telegram's convention for bots sharing a group.
 * The bot username is compared case-insensitively.
 */
export function addressing(text: string, chatType: IncomingMessage['chatType'], botUsername: string): { addressed: boolean; text: string } {
  const m = COMMAND.exec(text);
  const mentionsUs = !!m?.[2] && m[2].toLowerCase() === botUsername.toLowerCase();
  const normalized = m && mentionsUs ? `/${m[1]}${text.slice(m[0].length)}` : text;
  if (chatType === 'private') return { addressed: true, text: normalized };
  if (!m) return { addressed: false, text };
  return { addressed: !m[2] || mentionsUs, text: normalized };
}

const USER_CONTENT = ['text', 'caption', 'sticker', 'photo', 'document', 'voice', 'video', 'video_note', 'animation', 'audio', 'location', 'contact'];

/**
 * Whether a message was forwarded (Bot API 7's `forward_origin`, or the older `forward_from`,
 * `forward_from_chat`, `forward_sender_name`, `forward_date`), or is a channel post Telegram copied into
 * the linked discussion group (`is_automatic_forward`). Its text was written by someone else, so it is
 * never run as a command: an editor forwarding a reader's `/push …` must not push it.
 */
export function isForwarded(msg: object): boolean {
  return ['forward_origin', 'forward_from', 'forward_from_chat', 'forward_sender_name', 'forward_date', 'is_automatic_forward'].some(
    (k) => k in msg && (msg as Record<string, unknown>)[k] != null && (msg as Record<string, unknown>)[k] !== false,
  );
}

/**
 * An IncomingMessage for the router, or null when the update is not for it: channel posts, edits,
 * service messages, messages from other bots, forwarded messages, and group messages not addressed to
 * this bot.
 * In private chats a sticker or photo without caption arrives with empty text (the router points to /help).
 */
export function toIncomingMessage(update: Update, botUsername: string, receivedAt: Date): IncomingMessage | null {
  if (!('message' in update) || !update.message) return null;
  const msg = update.message;
  const from = msg.from;
  if (!from || from.is_bot) return null;
  // Channel posts arrive as `channel_post`, never as `message`, so they are already out.
  const chatType: IncomingMessage['chatType'] = msg.chat.type === 'private' ? 'private' : 'group';
  if (!USER_CONTENT.some((k) => k in msg)) return null;
  if (isForwarded(msg)) return null;
  const raw = 'text' in msg && typeof msg.text === 'string' ? msg.text : chatType === 'private' && 'caption' in msg && typeof msg.caption === 'string' ? msg.caption : '';
  const { addressed, text } = addressing(raw, chatType, botUsername);
  if (!addressed) return null;
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username || null;
  const thread = 'is_topic_message' in msg && msg.is_topic_message && 'message_thread_id' in msg ? msg.message_thread_id : undefined;
  return {
    platform: 'telegram',
    chatId: String(msg.chat.id),
    chatType,
    senderId: String(from.id),
    senderName: name,
    languageCode: from.language_code ?? null,
    text,
    messageId: String(msg.message_id),
    threadId: thread !== undefined ? String(thread) : null,
    addressedToBot: true,
    // Inline keyboards work in every Telegram chat the bot is in.
    canShowButtons: true,
    receivedAt,
  };
}

/** An IncomingAction for a button press under one of the bot's messages, or null (games, inline messages). */
export function toIncomingAction(update: Update, receivedAt: Date): IncomingAction | null {
  if (!('callback_query' in update) || !update.callback_query) return null;
  const cq = update.callback_query;
  if (!('data' in cq) || typeof cq.data !== 'string' || !cq.message) return null;
  return {
    platform: 'telegram',
    chatId: String(cq.message.chat.id),
    senderId: String(cq.from.id),
    languageCode: cq.from.language_code ?? null,
    data: cq.data,
    messageId: String(cq.message.message_id),
    receivedAt,
  };
}

/** The chat an update belongs to, so updates of one chat are handled in order. */
export function updateChatKey(update: Update): string {
  if ('message' in update && update.message) return String(update.message.chat.id);
  if ('callback_query' in update && update.callback_query) {
    const m = update.callback_query.message;
    return m ? String(m.chat.id) : `user:${update.callback_query.from.id}`;
  }
  return 'other';
}

/**
 * The update ids seen lately, at most `capacity` of them (the oldest forgotten first), so an update
 * Telegram delivers again (it redelivers when the webhook answered late or not at all) is handled once.
 * Memory stays bounded whatever the sender does; an id older than the window would be handled again,
 * which Telegram does not do (it gives up on an update after a day and ids only grow).
 */
export class RecentUpdateIds {
  private readonly ids = new Set<number>();
  constructor(private readonly capacity = 10_000) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new Error(`RecentUpdateIds capacity ${capacity} must be a positive integer`);
  }

  /** Records `id`; false when it was already among the recent ones (a redelivery). */
  add(id: number): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // A Set iterates in insertion order, so its first element is the oldest.
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as number);
    return true;
  }

  get size(): number {
    return this.ids.size;
  }
}
