import type { Article } from '../articles/article.js';
import type { Editor } from '../config.js';
import type { Platform } from '../render/types.js';
import type { Reply } from './types.js';
import type { Locale } from './text.js';

/**
 * What the command router needs from the rest of Manchete. The composition root implements these over
 * the real pipeline (page extraction, rendering, outbox, scheduler, platform adapters) and injects them;
 * tests pass plain objects. Subscriptions, subscribers, the audit log and the pause switch are not here:
 * the router keeps those itself in the database (see repo.ts).
 *
 * Any method may throw; the router catches, logs, and answers the user with a short apology, so a broken
 * service never silences the bot.
 */

/** A chat the router can write to outside a request/answer turn (progress of a push). */
export interface ChatRef {
  platform: Platform;
  chatId: string;
  /** Telegram forum topic, when the editor wrote from one. */
  threadId?: string | null;
}

/** One place a push can go, as editors see it. */
export interface PushDestination {
  /** The destination id (`telegram:@canal`, `whatsapp:1203…@g.us`), as in the destinations table. */
  id: string;
  /** A human name: the chat title, or the id when there is none. */
  label: string;
}

/** A page fetched and rendered for an editor's `/push` or `/preview`, not yet sent anywhere. */
export interface PushPreview {
  /** The article id (dedup key): used to ask whether this story went out before. */
  articleId: string;
  /** The canonical URL of the page. */
  url: string;
  title: string;
  /**
   * The message as a reader will see it, as plain text (no HTML or WhatsApp markup: the adapter escapes
   * the reply). Rendered for the editor's platform.
   */
  text: string;
  /** Where it goes when the editor names no destination: what routing picks for this article. May be empty. */
  destinations: PushDestination[];
  /** The extracted article, so `enqueue` need not fetch the page again. */
  article: Article;
}

/** Who asked for a push, and where to tell them how it went. */
export interface PushRequester {
  editor: Editor;
  /** `telegram:12345`: the same actor string the audit log uses. */
  actor: string;
  chat: ChatRef;
  locale: Locale;
}

/** The push service's receipt for an enqueued push. */
export interface PushTicket {
  /** An id the service can report progress under (e.g. the first delivery id). */
  id: string;
  /** How many deliveries were created (one per destination). */
  total: number;
}

/** How far a push got. `sent + failed ≤ total`; `done` once every delivery reached a final state. */
export interface PushProgress {
  ticketId: string;
  total: number;
  sent: number;
  failed: number;
  done: boolean;
}

/**
 * The seam for progress: the push service calls this as the push's deliveries complete (after each one,
 * or batched; at least once with `done: true`). The router turns each call into a localized reply
 * ("enviado para 3 de 3 destinos") and sends it through `Notifier`. It never throws.
 */
export type PushProgressListener = (progress: PushProgress) => void;

/** Page fetching, rendering and the priority lane of the outbox, as editors' commands use them. */
export interface PushService {
  /**
   * Fetches the page (og tags, then readability), builds the Article and renders it for `platform`.
   * Throws PushPrepareError when the page cannot be fetched or read; the router shows `reason`.
   */
  prepare(url: string, opts: { platform: Platform; locale: Locale }): Promise<PushPreview>;
  /**
   * Records the article and one delivery per destination, ahead of the regular queue, even while
   * automatic posting is paused. `onProgress` is called as those deliveries finish.
   */
  enqueue(
    preview: PushPreview,
    destinationIds: string[],
    requester: PushRequester,
    onProgress: PushProgressListener,
  ): Promise<PushTicket>;
  /** When this article was last pushed or posted, and by whom (an actor string or "auto"); null if never. */
  lastPushed(articleId: string): Promise<{ at: Date; by: string } | null>;
  /** Every active destination an editor may name in `/push <url> [destination…]`. */
  destinations(): Promise<PushDestination[]>;
}

/**
 * Thrown by `PushService.prepare` when the page cannot become a message. `reason` is one short line
 * meant for the editor ("the page answered HTTP 404", "no title found").
 */
export class PushPrepareError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`could not prepare ${url} for a push: ${reason}`);
    this.name = 'PushPrepareError';
  }
}

/** Sends replies outside the request/answer turn: push progress. Implemented over the platform adapters. */
export interface Notifier {
  notify(chat: ChatRef, replies: Reply[]): Promise<void>;
}

/** One feed's polling state for `/status`. */
export interface FeedStatus {
  url: string;
  title: string | null;
  lastPolledAt: Date | null;
  lastOkAt: Date | null;
  nextPollAt: Date | null;
  /** Consecutive failures; 0 when the last poll worked. */
  failures: number;
  lastError: string | null;
  /** New items the feed's latest crowded poll recorded without posting (MAX_NEW_PER_POLL), and when; absent when none in the last day. */
  heldBack?: { count: number; at: Date } | null;
}

/** Outbox depth of one destination for `/status`. */
export interface QueueStatus {
  destinationId: string;
  label: string;
  /** Deliveries waiting or being sent. */
  pending: number;
  /** Deliveries that ended `failed`. */
  failed: number;
  /** The destination is marked dead (403, chat not found). */
  dead: boolean;
}

/** One recent successful send for `/status`. */
export interface RecentSend {
  at: Date;
  destinationId: string;
  label: string;
  /** The article title, when the delivery carried one. */
  title: string | null;
}

/** A platform connection for `/status`: `state` is the adapter's own word (`open`, `reconnecting`, `off`…). */
export interface PlatformStatus {
  platform: Platform;
  state: string;
  /** One line of explanation, e.g. the last close reason. */
  detail?: string | null;
  /** Set while the delivery breaker has stopped sending to this platform (it is down). */
  degraded?: { since: Date | null; probes: number; reason: string | null } | null;
}

/** Everything `/status` shows apart from the pause switch, which the router reads itself. */
export interface StatusReport {
  feeds: FeedStatus[];
  queues: QueueStatus[];
  /** Most recent first. */
  lastSends: RecentSend[];
  platforms: PlatformStatus[];
}

/** The running system's health, as editors see it in `/status`. */
export interface StatusService {
  status(): Promise<StatusReport>;
}

/** A topic subscribers can pick. */
export interface Topic {
  /** The routing key; the router folds it with `foldTopic` before storing or comparing. */
  key: string;
  /** How it is shown ("Política"). */
  label: string;
}

/** The topics on offer: the sections the feeds carry and the names in the routes file. */
export interface TopicService {
  topics(): Promise<Topic[]>;
}

/** Recent headlines for `/latest`. */
export interface LatestService {
  /**
   * The `n` most recent articles, newest first; only those of `topicKey` (a folded topic key) when it is
   * not null.
   */
  latest(topicKey: string | null, n: number): Promise<Article[]>;
}

/** A destination's next digest as an editor previews it with `/resumo`. */
export interface DigestPreview {
  destination: PushDestination;
  /** Articles the digest lists (the newest, at most the destination's `digest.max`); 0 when nothing waits. */
  articles: number;
  /** Articles collected since the last digest, listed or not. */
  waiting: number;
  /** The digest as readers will see it, as plain text (no markup). */
  text: string;
  /** Articles collected up to this instant are the ones previewed. */
  cutoff: Date;
  /** When the next scheduled digest is due; null when none is. */
  nextAt: Date | null;
}

/** Digests as editors' commands use them: destinations with digests, a preview, sending one now. */
export interface DigestService {
  /** The configured, active destinations that have digests (`mode: digest` or `both`). */
  destinations(): Promise<PushDestination[]>;
  preview(destinationId: string): Promise<DigestPreview>;
  /**
   * Queues the destination's digest of what was collected up to `cutoff`, ahead of the queue and past
   * quiet hours; its articles do not appear in the next scheduled one. Null when nothing is left to send.
   */
  send(destinationId: string, cutoff: Date, actor: string): Promise<{ articles: number } | null>;
}

/** The services bundle handed to `createCommandRouter`. */
export interface CommandServices {
  digest: DigestService;
  push: PushService;
  status: StatusService;
  topics: TopicService;
  latest: LatestService;
  notifier: Notifier;
}
