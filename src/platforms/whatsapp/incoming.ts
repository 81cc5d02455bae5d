// Baileys' JID helpers from their own small module: the package index loads all of Baileys (about 50 MB).
import { isJidBroadcast, isJidGroup, isJidNewsletter, isJidStatusBroadcast, isLidUser, jidNormalizedUser } from '@whiskeysockets/baileys/lib/WABinary/jid-utils.js';
import type { BaileysEventMap, proto, WAMessage } from '@whiskeysockets/baileys';
import type { IncomingMessage, Reply } from '../../commands/types.js';
import type { Logger } from '../../log.js';
import type { WhatsAppConnection } from './connection.js';
import { phoneOfJid } from './connection.js';
import { Lru } from './lru.js';
import { normalizeWhatsAppNumber } from './numbers.js';
import { WindowBudget } from './reply-budget.js';
import { errorMessage } from './socket.js';

/**
 * WhatsApp messages in, command replies out. Only what a person typed to the account counts: new
 * messages (`messages.upsert` of type `notify`), not history, not our own, not status updates or channels.
 * In groups only messages starting with `/` are taken, so the account never answers ordinary conversation;
 * the router then answers only the commands it knows there.
 *
 * Senders may arrive as `@lid` ids (WhatsApp's privacy ids). They are mapped to phone numbers before the
 * router sees them, because editors are listed by phone number; when no mapping is known the sender is null
 * and the editor check fails closed.
 */
export interface IncomingContext {
  /** Maps a `…@lid` JID to a phone-number JID (`5511…@s.whatsapp.net`); null when unknown. */
  lidToPhone(jid: string): Promise<string | null> | string | null;
  /** The account's own JID: messages from it are ignored even when not flagged fromMe. */
  ownJid?: string | null;
  /** Defaults to the message timestamp; used when the message has none. */
  now?: () => Date;
}

type Content = proto.IMessage | null | undefined;

/** Unwraps ephemeral, view-once and document-with-caption envelopes (nested at most a few levels). */
export function unwrapMessage(message: Content): Content {
  let m = message;
  for (let depth = 0; depth < 5 && m; depth++) {
    const inner =
      m.ephemeralMessage?.message ??
      m.viewOnceMessage?.message ??
      m.viewOnceMessageV2?.message ??
      m.viewOnceMessageV2Extension?.message ??
      m.documentWithCaptionMessage?.message ??
      null;
    if (!inner) break;
    m = inner;
  }
  return m;
}

/** The text a person typed: plain, extended (with link or reply), or an image/video/document caption. */
export function messageText(message: Content): string | null {
  const m = unwrapMessage(message);
  if (!m) return null;
  const text =
    m.conversation ??
    m.extendedTextMessage?.text ??
    m.imageMessage?.caption ??
    m.videoMessage?.caption ??
    m.documentMessage?.caption ??
    null;
  return typeof text === 'string' && text.trim() !== '' ? text : null;
}

/**
 * Turns one Baileys message into the router's IncomingMessage, or null when Manchete must not answer it:
 * our own, status broadcasts, channels, no text, or a group message that is not a `/` command.
 */
export async function toIncomingMessage(msg: proto.IWebMessageInfo | WAMessage, ctx: IncomingContext): Promise<IncomingMessage | null> {
  const key = msg.key as WAMessage['key'] | null | undefined;
  const chatId = key?.remoteJid;
  const id = key?.id;
  if (!key || !chatId || !id || key.fromMe) return null;
  if (isJidStatusBroadcast(chatId) || isJidBroadcast(chatId) || isJidNewsletter(chatId)) return null;
  const text = messageText(msg.message);
  if (text === null) return null;

  const group = Boolean(isJidGroup(chatId));
  if (group && !text.trimStart().startsWith('/')) return null;

  const author = group ? key.participant : chatId;
  if (!author) return null;
  const alt = group ? key.participantAlt : key.remoteJidAlt;
  const phoneJid = await senderPhoneJid(author, alt, ctx);
  if (ctx.ownJid && phoneJid && jidNormalizedUser(phoneJid) === jidNormalizedUser(ctx.ownJid)) return null;

  return {
    platform: 'whatsapp',
    chatId,
    chatType: group ? 'group' : 'private',
    senderId: normalizeWhatsAppNumber(phoneJid),
    senderName: msg.pushName ?? null,
    languageCode: null,
    text,
    messageId: id,
    addressedToBot: true,
    canShowButtons: false,
    receivedAt: timestampOf(msg.messageTimestamp) ?? (ctx.now ?? (() => new Date()))(),
  };
}

/** The phone-number JID of a sender: as given, from the alternate address, or through the LID mapping. */
async function senderPhoneJid(author: string, alt: string | null | undefined, ctx: IncomingContext): Promise<string | null> {
  if (phoneOfJid(author)) return jidNormalizedUser(author);
  if (alt && phoneOfJid(alt)) return jidNormalizedUser(alt);
  if (isLidUser(author)) {
    try {
      const pn = await ctx.lidToPhone(jidNormalizedUser(author));
      return pn && phoneOfJid(pn) ? jidNormalizedUser(pn) : null;
    } catch {
      return null;
    }
  }
  return null;
}

function timestampOf(ts: proto.IWebMessageInfo['messageTimestamp']): Date | null {
  if (ts === null || ts === undefined) return null;
  const seconds = typeof ts === 'number' ? ts : typeof ts === 'object' && 'toNumber' in ts ? ts.toNumber() : Number(ts);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : null;
}

/**
 * Reads a `messages.upsert` event: `notify` only, each message id once (a small LRU of seen ids), each
 * accepted message converted. `seen` is shared across calls.
 */
export async function readUpsert(
  event: BaileysEventMap['messages.upsert'],
  ctx: IncomingContext & { seen: Lru<string, true> },
): Promise<{ message: IncomingMessage; raw: WAMessage }[]> {
  if (event.type !== 'notify') return [];
  const out: { message: IncomingMessage; raw: WAMessage }[] = [];
  for (const raw of event.messages) {
    const id = raw.key?.id;
    if (!id) continue;
    if (ctx.seen.seen(`${raw.key.remoteJid ?? ''}/${id}`, true)) continue;
    const message = await toIncomingMessage(raw, ctx);
    if (message) out.push({ message, raw });
  }
  return out;
}

/** How a reply's buttons read on WhatsApp, which has no inline keyboard here: one line per button. */
export function renderReplyText(reply: Reply, buttonLine: (b: { label: string; data: string }) => string | null = defaultButtonLine): string {
  const lines = (reply.buttons ?? []).map(buttonLine).filter((l): l is string => Boolean(l));
  return lines.length ? `${reply.text}\n\n${lines.join('\n')}` : reply.text;
}

/** `Enviar: /confirmar 4821` for a button whose data is a command; buttons with opaque data are left out. */
function defaultButtonLine(b: { label: string; data: string }): string | null {
  return b.data.startsWith('/') ? `${b.label}: ${b.data}` : null;
}

export interface WireCommandsOptions {
  logger: Logger;
  /**
   * Queues a command's answer for sending. The module puts it in the outbox as a `reply`, so it goes out
   * through the dispatcher and the pacer like posts do (gaps, hourly cap, retries, a record), never
   * straight to the socket.
   */
  deliver: (chatId: string, replies: Reply[]) => Promise<void>;
  /** Replies per non-private chat, shared by its members (WHATSAPP_GROUP_REPLY_RATE); null or absent for none. */
  groupReplyRate?: { count: number; perMs: number } | null;
  /**
   * Replies over the whole account (the reply reserve of WHATSAPP_HOURLY_CAP per hour): beyond it a command
   * is not answered at all, rather than queued to go out an hour late. Null or absent for none.
   */
  accountReplyRate?: { count: number; perMs: number } | null;
  /** Ids of recently seen messages (default 1 000). */
  dedupSize?: number;
  /** Overrides how a button becomes a line of text (return null to leave it out). */
  buttonLine?: (b: { label: string; data: string }) => string | null;
  /** For tests: the time in ms. */
  clock?: () => number;
}

/**
 * Connects the command router to WhatsApp: each accepted message goes to `onMessage` with a reply budget
 * (per group, and for the account), and its replies are handed to `deliver` as text, while the chat shows
 * 'composing'. Rate limiting per user is the router's job; budgets per group and per account are this
 * adapter's, because they are about WhatsApp's ban risk. Returns the unsubscribe function.
 */
export function wireCommands(
  connection: WhatsAppConnection,
  onMessage: (m: IncomingMessage) => Promise<Reply[]>,
  opts: WireCommandsOptions,
): () => void {
  const log = opts.logger.child({ platform: 'whatsapp', part: 'commands' });
  const seen = new Lru<string, true>(opts.dedupSize ?? 1_000);
  const clock = opts.clock ?? Date.now;
  const groups = opts.groupReplyRate ? new WindowBudget(opts.groupReplyRate.count, opts.groupReplyRate.perMs) : null;
  const account = opts.accountReplyRate ? new WindowBudget(opts.accountReplyRate.count, opts.accountReplyRate.perMs) : null;

  /** One reply's worth of budget for this message's chat: the group's first, then the account's. */
  const admit = (message: IncomingMessage): boolean => {
    const now = clock();
    if (groups && message.chatType !== 'private') {
      const g = groups.take(message.chatId, now);
      if (!g.allowed) {
        if (g.log)
          log.warn(
            { event: 'whatsapp.group_reply_limited', chat: message.chatId, limit: groups.count, perMs: groups.perMs },
            `group ${message.chatId} reached its reply budget (${groups.count} per ${Math.round(groups.perMs / 60_000)} min, WHATSAPP_GROUP_REPLY_RATE); commands there get no answer until the window frees up`,
          );
        return false;
      }
    }
    if (account) {
      const a = account.take('account', now);
      if (!a.allowed) {
        if (a.log)
          log.warn(
            { event: 'whatsapp.reply_budget_spent', limit: account.count, perMs: account.perMs },
            `the hour's reply budget (${account.count}, WHATSAPP_REPLY_SHARE of WHATSAPP_HOURLY_CAP) is spent; commands get no answer until it frees up`,
          );
        return false;
      }
    }
    return true;
  };

  const handle = async (event: BaileysEventMap['messages.upsert']) => {
    const ownJid = connection.socket()?.user?.id ?? null;
    const accepted = await readUpsert(event, { seen, ownJid, lidToPhone: (jid) => connection.lidToPhone(jid) });
    for (const { message } of accepted) {
      try {
        let asked: boolean | null = null;
        const replies = await onMessage({ ...message, replyBudget: () => (asked ??= admit(message)) });
        if (replies.length === 0) continue;
        // An answer that did not come through the budget (an apology after an error) still pays for itself.
        if (asked === null) asked = admit(message);
        if (!asked) continue;
        await opts.deliver(
          message.chatId,
          replies.map((r) => ({ text: renderReplyText(r, opts.buttonLine) })),
        );
        await connection.socket()?.sendPresenceUpdate('composing', message.chatId).catch(() => undefined);
      } catch (err) {
        log.error({ err: errorMessage(err), chat: message.chatId, messageId: message.messageId }, 'answering a WhatsApp command failed');
      }
    }
  };

  return connection.on('messages.upsert', (event) => {
    handle(event).catch((err) => log.error({ err: errorMessage(err) }, 'reading WhatsApp messages failed'));
  });
}
