import type { OutboundMessage, Platform, RenderOptions } from '../render/types.js';

/**
 * The seam between delivery (outbox, pacing, retries) and the platform adapters. Adapters only talk to
 * their platform and classify what it answers; everything about when to send, how often and how many
 * times to try lives in `delivery/`.
 */

/** Per-destination settings from the routes file (or defaults). */
export interface DestinationOptions extends RenderOptions {
  /** Show a link preview under text messages. Default true. */
  linkPreview?: boolean;
  /** Post without a notification sound (Telegram `disable_notification`). Default false. */
  silent?: boolean;
  /** Quiet hours in TZ, e.g. `23:00-07:00`: articles wait until the end of the window. */
  quietHours?: string;
  /** Sections this destination takes; empty or absent means all. Folded for comparison. */
  sections?: string[];
  /** Feed URLs this destination takes; absent means all. */
  feeds?: string[];
  /** The article goes here when it matches any of these rules (or none is set). See delivery/filters.ts. */
  include?: FilterRules;
  /** The article does not go here when it matches any of these rules. */
  exclude?: FilterRules;
  /**
   * `live` (default): each article is posted as it arrives. `digest`: articles are only collected and go
   * out in the digests (`digest`). `both`: posted live and collected. See delivery/digests.ts.
   */
  mode?: DeliveryMode;
  /** When and how this destination receives digests; required by `mode: digest` and `mode: both`. */
  digest?: DigestSettings;
  /**
   * At most this many automatic posts (articles; not pushes, edits or digests) in any rolling hour. What
   * does not fit goes to the next digest when the destination has digests, otherwise it waits its turn
   * (delivery/caps.ts).
   */
  maxPerHour?: number;
}

export type DeliveryMode = 'live' | 'digest' | 'both';

/** A destination's digests (routes file `digest:`). */
export interface DigestSettings {
  /** Local times in TZ, `HH:MM`, sorted, without repeats. */
  at: string[];
  /** Articles in one digest at most (the newest). */
  max: number;
  /** The digest's heading; the locale's `digestTitle` when absent. */
  title?: string;
  /** Only articles of these sections are collected (folded comparison); absent or empty: all. */
  sections?: string[];
}

/**
 * One side of a destination's filter (routes file `include:` / `exclude:`). Keywords, sections, tags and
 * authors compare folded (no case, no accents); keywords and authors as whole words or phrases.
 */
export interface FilterRules {
  /** Words or phrases in the title, the lead or a tag. */
  keywords?: string[];
  /** The article's section. */
  sections?: string[];
  /** One of the article's tags. */
  tags?: string[];
  /** A name (or phrase) in the article's author line. */
  authors?: string[];
  /** An RE2 regular expression (not JavaScript's), searched in title, lead and tags, one per line; `(?i)` for no case. */
  match?: string;
}

/** One chat that receives posts. `id` is `<platform>:<chatId>[:<threadId>]`. */
export interface Destination {
  id: string;
  platform: Platform;
  /** Telegram: `@username` or numeric id; WhatsApp: a JID (`…@g.us`, `…@newsletter`, `…@s.whatsapp.net`). */
  chatId: string;
  /** Telegram forum topic (`message_thread_id`). */
  threadId: string | null;
  options: DestinationOptions;
}

/** What a platform says after a successful send. */
export interface SentMessage {
  /** The platform's id for the message (Telegram message_id as a string; WhatsApp key.id). */
  messageId: string;
  /** Set when the adapter had to send something other than what was asked, and why. */
  degraded?: 'plain_text' | 'text_instead_of_photo';
  /** The text actually sent when degraded (so an edit later uses the same kind). */
  kind?: OutboundMessage['kind'];
}

/**
 * How a failed send should be handled. Adapters map their platform's answers onto these; the dispatcher
 * branches on them, never on message strings.
 */
export type SendErrorKind =
  /** Too many requests: wait `retryAfterMs`, then retry (does not count as an attempt). */
  | 'rate_limited'
  /** 5xx, timeouts, resets, connection down: retry with backoff. */
  | 'transient'
  /** The chat moved (Telegram group → supergroup): retry at `migrateTo`. */
  | 'migrated'
  /** Blocked, kicked, chat not found, deactivated: the destination is dead. */
  | 'gone'
  /** The account may not post here right now (WhatsApp restricted): pause the platform. */
  | 'restricted'
  /** The request itself is wrong and will never succeed: record as failed. */
  | 'permanent'
  /**
   * Refused for a reason the adapter has already dealt with (Telegram: a paid broadcast without Stars;
   * paid broadcasts are now off): send it again at once, no attempt spent.
   */
  | 'requeue';

export class PlatformSendError extends Error {
  constructor(
    readonly kind: SendErrorKind,
    message: string,
    readonly details: { retryAfterMs?: number; migrateTo?: string; code?: number | string } = {},
  ) {
    super(message);
    this.name = 'PlatformSendError';
  }
}

/** Result of checking at start that the bot/account can post to a destination. */
export interface DestinationCheck {
  ok: boolean;
  /** One line for the operator: `ok, can post` or what to do, e.g. `the bot is not an administrator: add it with the "Post messages" right`. */
  message: string;
  /** The destination no longer exists or the bot was removed: mark dead. */
  gone?: boolean;
  title?: string;
  kind?: 'channel' | 'group' | 'supergroup' | 'private' | 'newsletter' | 'community';
  /** When the platform points elsewhere (Telegram migrate, WhatsApp community → announcement group). */
  resolvedChatId?: string;
}

/** A platform adapter as the dispatcher sees it. */
export interface PlatformSender {
  readonly platform: Platform;
  /** Sends one message. Throws PlatformSendError on failure. */
  send(dest: Destination, message: OutboundMessage): Promise<SentMessage>;
  /** Replaces a sent message's text or caption. Throws PlatformSendError on failure. */
  edit(dest: Destination, messageId: string, message: OutboundMessage): Promise<void>;
  /** Checks that the account can post to a destination; never throws. */
  check(dest: Destination): Promise<DestinationCheck>;
  /** False while the platform cannot send at all (WhatsApp disconnected or restricted): the dispatcher waits. */
  ready(): boolean;
}
