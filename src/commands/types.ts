import type { Platform } from '../render/types.js';

/**
 * The seam between platform adapters and the command router. Adapters turn a Telegram update or a
 * WhatsApp message into an IncomingMessage and send back the Replies; the router never imports
 * telegraf or Baileys.
 */
export interface IncomingMessage {
  platform: Platform;
  /** Where to answer: Telegram chat id; WhatsApp chat JID. */
  chatId: string;
  /**
   * A private chat is one person; anything else (group, community, channel) is shared by many, and there
   * the router answers only the commands it knows: an unknown `/word` gets silence, not a hint.
   */
  chatType: 'private' | 'group' | 'channel';
  /**
   * Who wrote, already in the form the EDITORS list uses: Telegram user id (an integer); WhatsApp phone
   * number as digits (`@lid` already mapped, see platforms/whatsapp/numbers.ts), or null when unknown.
   */
  senderId: string | null;
  senderName: string | null;
  /** Telegram `language_code` (e.g. `pt-br`, `en`); null on WhatsApp. */
  languageCode: string | null;
  text: string;
  /** Platform message id, for dedup and replies. */
  messageId: string;
  /** Telegram forum topic of the message, if any. */
  threadId?: string | null;
  /** True when the platform says the message is addressed to this bot (Telegram `/cmd@bot`, private chat). */
  addressedToBot: boolean;
  /**
   * Whether this chat can show buttons under a reply (Telegram inline keyboards: true; WhatsApp: false).
   * Without them the router spells out what to type instead (a push's confirmation code).
   */
  canShowButtons: boolean;
  receivedAt: Date;
  /**
   * A budget the adapter keeps for this chat beyond the per-user REPLY_RATE (WhatsApp: the group's
   * WHATSAPP_GROUP_REPLY_RATE and the hourly reply reserve). The router asks it once, only when it is about
   * to answer; false means stay silent (the adapter logs). Absent: no such budget.
   */
  replyBudget?: () => boolean;
}

/** A button under a reply (Telegram inline keyboard; on WhatsApp the text says which command to send). */
export interface ReplyButton {
  label: string;
  /** Opaque data the adapter returns through `IncomingAction` when pressed (≤ 64 bytes). */
  data: string;
}

export interface Reply {
  /** Plain text (adapters escape it for their markup). */
  text: string;
  buttons?: ReplyButton[];
  /** Show a link preview (Telegram); default false for command replies. */
  linkPreview?: boolean;
}

/** A button press (Telegram callback_query). */
export interface IncomingAction {
  platform: Platform;
  chatId: string;
  senderId: string | null;
  languageCode: string | null;
  data: string;
  /** The message carrying the buttons, so the adapter can edit or acknowledge it. */
  messageId: string;
  receivedAt: Date;
}
