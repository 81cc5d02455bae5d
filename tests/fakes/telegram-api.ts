import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HtmlParseError, parseTelegramHtml, type FakeEntity } from './telegram-html-parser.js';

export { parseTelegramHtml, HtmlParseError, type FakeEntity } from './telegram-html-parser.js';

/**
 * A fake Telegram Bot API server for tests and benchmarks: node:http on 127.0.0.1, a random port, the
 * real telegraf pointed at it with `new Telegraf(token, { telegram: { apiRoot: fake.apiRoot } })`.
 *
 * It behaves like the Bot API where Manchete depends on it:
 * - `/bot<token>/<method>` with JSON, urlencoded or multipart bodies (or a query string);
 * - chats exist only when the test declares them (`addChat`), with the bot's rights in each; posting
 *   where the bot may not answers the error Telegram gives (403 kicked/blocked/not a member, 400 need
 *   administrator rights, 400 with migrate_to_chat_id for an upgraded group, 400 chat not found);
 * - parse_mode HTML validated (see telegram-html-parser.ts), lengths counted in UTF-16 units after
 *   entity parsing (text 1–4096, caption ≤ 1024), message ids assigned per chat, edits checked
 *   ("message is not modified", "there is no caption in the message to edit", …);
 * - rate limits (on by default, `setLimits` to change or lift them), answered with 429 + retry_after:
 *   sends only (sendMessage, sendPhoto; edits and other calls are not counted), sliding windows:
 *   at most `globalPerSecond` in any 1000 ms, `perChatPerSecond` per chat in any 1000 ms, and
 *   `perGroupPerMinute` per group, supergroup or channel in any 60 000 ms. No bursts beyond that (real
 *   Telegram tolerates short bursts; a pacer that passes here passes there). Each window is shortened by
 *   `slackMs` (10 ms) to absorb timer jitter. Refused sends do not count. Paid broadcasts
 *   (`allow_paid_broadcast: true`) skip `globalPerSecond` but every send counts against `paidPerSecond`
 *   (1000); with a `stars` balance, each costs 0.1 Star and one the balance cannot cover answers
 *   400 `Bad Request: BALANCE_TOO_LOW`.
 * - getUpdates long polling (`pushUpdate`, offsets, `timeout`, 409 when a second poller arrives or a
 *   webhook is set), setWebhook/deleteWebhook and `deliverWebhook` with the secret header.
 * Tests script failures with `failNext`/`script`, or inject random 429/5xx with a seeded PRNG.
 * Nothing here is contacted outside 127.0.0.1; photo URLs are never fetched.
 */

// ---------------------------------------------------------------------------------------------- types

export type FakeChatType = 'private' | 'group' | 'supergroup' | 'channel';
export type FakeMemberStatus = 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked';

/** A chat as a test declares it. Defaults make it postable: channels with the bot as admin, groups as member. */
export interface FakeChatSpec {
  id: number;
  type: FakeChatType;
  username?: string;
  title?: string;
  /** Private chats: the user's first name and language. */
  firstName?: string;
  languageCode?: string;
  /** Shorthand for botStatus 'administrator' (true) or 'member'/'left' (false). Default: true for channels. */
  botIsAdmin?: boolean;
  /** Channels: the admin's can_post_messages. Groups: the bot's can_send_messages (false → restricted). Default true. */
  canPost?: boolean;
  /** Overrides botIsAdmin/canPost when the test needs an exact status. */
  botStatus?: FakeMemberStatus;
  /** Groups: members may send messages (chat permissions). Default true. */
  membersCanSend?: boolean;
  /** Supergroups with topics. */
  isForum?: boolean;
  /** Forum topic ids that exist (default: any id is accepted). */
  topics?: number[];
  /** Private: the user blocked the bot. */
  blocked?: boolean;
  /** Private: the account was deleted. */
  deactivated?: boolean;
  /** Basic group upgraded to this supergroup id: sends answer 400 with migrate_to_chat_id. */
  migratedTo?: number;
}

/** One new message the bot sent (sendMessage or sendPhoto), in arrival order. */
export interface FakeSentMessage {
  method: 'sendMessage' | 'sendPhoto';
  /** The chat's numeric id, whatever the request used. */
  chat_id: number;
  /** What the request said (`@canal`, `"-100…"`, a number). */
  chat_ref: string | number;
  message_id: number;
  message_thread_id?: number;
  text?: string;
  caption?: string;
  parse_mode?: string;
  /** A URL or file id, or the uploaded file's name and size. */
  photo?: string | { filename: string; size: number };
  reply_markup?: unknown;
  link_preview_options?: unknown;
  disable_notification?: boolean;
  /** Sent as a paid broadcast. */
  allow_paid_broadcast?: true;
  /** The text or caption after entity parsing. */
  plain: string;
  entities: FakeEntity[];
  time: number;
}

/** One successful edit. */
export interface FakeEdit {
  method: 'editMessageText' | 'editMessageCaption' | 'editMessageReplyMarkup';
  chat_id: number;
  message_id: number;
  text?: string;
  caption?: string;
  parse_mode?: string;
  reply_markup?: unknown;
  plain?: string;
  time: number;
}

/** Every request, with what the fake answered. */
export interface FakeCall {
  method: string;
  params: Record<string, unknown>;
  token: string;
  status: number;
  description?: string;
  time: number;
}

/** What a scripted answer can be. */
export type FakeReply =
  /** An error as the Bot API sends it; the HTTP status is error_code. */
  | { error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } }
  /** A success with this result. */
  | { ok: true; result: unknown }
  /** Never answer (until close or until the client gives up). */
  | { hang: true }
  /** Destroy the connection (the client sees ECONNRESET / socket hang up). */
  | { reset: true }
  /** Any status and body, e.g. an HTML page from a proxy. */
  | { raw: { status: number; body: string; contentType?: string } };

/** Ready-made answers Telegram gives, for failNext/script. */
export const TG_ERRORS = {
  blocked: { error_code: 403, description: 'Forbidden: bot was blocked by the user' },
  kicked: { error_code: 403, description: 'Forbidden: bot was kicked from the supergroup chat' },
  kickedFromChannel: { error_code: 403, description: 'Forbidden: bot was kicked from the channel chat' },
  notMember: { error_code: 403, description: 'Forbidden: bot is not a member of the channel chat' },
  deactivated: { error_code: 403, description: 'Forbidden: user is deactivated' },
  chatNotFound: { error_code: 400, description: 'Bad Request: chat not found' },
  needAdmin: { error_code: 400, description: 'Bad Request: need administrator rights in the channel chat' },
  migrate: (to: number) => ({
    error_code: 400,
    description: 'Bad Request: group chat was upgraded to a supergroup chat',
    parameters: { migrate_to_chat_id: to },
  }),
  tooMany: (retryAfter: number) => ({
    error_code: 429,
    description: `Too Many Requests: retry after ${retryAfter}`,
    parameters: { retry_after: retryAfter },
  }),
  serverError: { error_code: 500, description: 'Internal Server Error' },
  badGateway: { error_code: 502, description: 'Bad Gateway' },
  badPhotoUrl: { error_code: 400, description: 'Bad Request: wrong file identifier/HTTP URL specified' },
  photoUnreachable: { error_code: 400, description: 'Bad Request: failed to get HTTP URL content' },
  photoWrongType: { error_code: 400, description: 'Bad Request: wrong type of the web page content' },
  badMarkup: { error_code: 400, description: "Bad Request: can't parse entities: Unsupported start tag \"script\" at byte offset 0" },
  notModified: {
    error_code: 400,
    description:
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  },
  hang: { hang: true },
  reset: { reset: true },
} as const;

export interface FakeLimits {
  enabled: boolean;
  /** Sends without `allow_paid_broadcast`, over all chats, in any 1000 ms (Telegram: about 30). */
  globalPerSecond: number;
  /** All sends, paid or not, in any 1000 ms, when paid broadcasts are used (Telegram: 1000). */
  paidPerSecond: number;
  perChatPerSecond: number;
  perGroupPerMinute: number;
  slackMs: number;
}

export interface FakeFaults {
  /** Probability of an injected 429 per eligible request. */
  rate429?: number;
  /** Probability of an injected 500 per eligible request. */
  rate5xx?: number;
  seed?: number;
  /** retry_after of injected 429s, in seconds. Default 1. */
  retryAfter?: number;
  /** Methods the faults apply to. Default: sendMessage, sendPhoto, editMessageText, editMessageCaption. */
  methods?: string[];
}

export interface FakeTelegramOptions {
  /** Accept only this token (others get 401). Default: any token. */
  token?: string;
  /** The bot behind the token. */
  bot?: { id?: number; username?: string; firstName?: string };
  /** Rate limits; `false` lifts them. */
  limits?: Partial<FakeLimits> | false;
  faults?: FakeFaults;
  /** Cap on how long one getUpdates may wait, whatever `timeout` the client asks. Default 30 s. */
  maxPollMs?: number;
  /** Unknown positive chat ids become private chats instead of "chat not found" (benchmarks). */
  autoPrivateChats?: boolean;
  /** Clock for timestamps and rate windows. Default Date.now. */
  now?: () => number;
  /**
   * The bot's Telegram Stars balance; each paid broadcast (`allow_paid_broadcast: true`) costs 0.1 Star.
   * A paid send the balance cannot cover answers 400 `Bad Request: BALANCE_TOO_LOW`. Default: unlimited.
   */
  stars?: number;
}

export interface FakeStats {
  requests: number;
  /** 429s answered by the rate limiter (not injected or scripted ones). */
  tooMany: number;
  injected429: number;
  injected5xx: number;
  scripted: number;
  /** Sends accepted with `allow_paid_broadcast: true`, and paid sends refused for lack of Stars. */
  paid: number;
  paidRefused: number;
  byMethod: Record<string, number>;
}

export interface FakeTelegram {
  /** `http://127.0.0.1:<port>`: telegraf's `apiRoot`. */
  readonly apiRoot: string;
  readonly port: number;
  readonly bot: { id: number; username: string; first_name: string; is_bot: true };
  /** New messages sent, in arrival order. */
  readonly sent: FakeSentMessage[];
  readonly edits: FakeEdit[];
  readonly calls: FakeCall[];
  readonly stats: FakeStats;
  /** setMyCommands by language_code ('' = default). */
  readonly commands: Map<string, { command: string; description: string }[]>;
  readonly callbackAnswers: { callback_query_id: string; text?: string; show_alert?: boolean }[];
  readonly webhook: { url: string; secretToken: string | null; allowedUpdates: string[] | null };
  addChat(spec: FakeChatSpec): void;
  /** Changes a declared chat (e.g. the bot loses its rights). */
  updateChat(id: number, change: Partial<FakeChatSpec>): void;
  /** Messages sent to one chat (numeric id or @username), in order. */
  sentTo(chat: number | string): FakeSentMessage[];
  /** The current state of a message (after edits). */
  message(chatId: number, messageId: number): { text?: string; caption?: string; plain: string; reply_markup?: unknown } | undefined;
  /** Queues an update for getUpdates; returns its update_id (assigned when missing). */
  pushUpdate(update: Record<string, unknown>): number;
  /** Builds and queues a message update as a Telegram client would send it (bot_command entity included). */
  pushMessage(m: {
    chatId: number;
    text: string;
    from?: { id: number; first_name?: string; username?: string; language_code?: string; is_bot?: boolean };
    threadId?: number;
  }): number;
  /** Builds and queues a callback_query (a button press under one of the bot's messages). */
  pushCallback(c: { chatId: number; messageId: number; data: string; from?: { id: number; first_name?: string; language_code?: string } }): number;
  /** Updates not yet confirmed by an offset. */
  pendingUpdates(): number;
  /** POSTs an update to the URL set by setWebhook, with the secret header. */
  deliverWebhook(update: Record<string, unknown>, opts?: { secret?: string | null }): Promise<{ status: number; body: string }>;
  /** The next `n` calls of `method` ('*' = any) get `reply`. */
  failNext(method: string, n: number, reply: FakeReply): void;
  /** A function consulted for every request before normal handling; return a reply to override. Returns an unsubscribe. */
  script(fn: (call: { method: string; params: Record<string, unknown> }) => FakeReply | undefined | void): () => void;
  setLimits(limits: Partial<FakeLimits> | false): void;
  /** Sets the Stars balance (null: unlimited). */
  setStars(stars: number | null): void;
  /** The Stars balance left, or null when unlimited. */
  stars(): number | null;
  setFaults(faults: FakeFaults | null): void;
  /** Resolves when `predicate()` holds (checked after every request and every 10 ms), rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /**
   * Stops listening and drops every open connection: clients get ECONNREFUSED (a Bot API that is down,
   * or a network that refuses) until `acceptConnections`, which listens again on the same port.
   */
  refuseConnections(): Promise<void>;
  acceptConnections(): Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------- internals

class ApiFail extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, number>,
  ) {
    super(description);
  }
}

const bad = (what: string) => new ApiFail(400, `Bad Request: ${what}`);

interface StoredMessage {
  kind: 'text' | 'photo';
  text?: string;
  caption?: string;
  plain: string;
  entities: FakeEntity[];
  reply_markup?: unknown;
}

interface ChatState {
  spec: FakeChatSpec;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
}

const DEFAULT_LIMITS: FakeLimits = {
  enabled: true,
  globalPerSecond: 30,
  paidPerSecond: 1000,
  perChatPerSecond: 1,
  perGroupPerMinute: 20,
  slackMs: 10,
};

const FAULT_METHODS = ['sendMessage', 'sendPhoto', 'editMessageText', 'editMessageCaption'];
const JSON_FIELDS = ['reply_markup', 'link_preview_options', 'allowed_updates', 'commands', 'scope', 'entities', 'caption_entities', 'reply_parameters'];
const NUMBER_FIELDS = ['message_id', 'message_thread_id', 'offset', 'limit', 'timeout', 'user_id', 'cache_time'];
const BOOL_FIELDS = ['allow_paid_broadcast', 'disable_notification', 'drop_pending_updates', 'show_alert', 'protect_content', 'disable_web_page_preview'];

/** mulberry32: small, seeded, good enough to make fault injection reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseMultipart(body: Buffer, boundary: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const partStart = pos + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, partStart);
    if (next < 0) break;
    const part = body.subarray(partStart + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const content = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      if (name) out[name] = filename !== undefined ? { filename, size: content.length } : content.toString('utf8');
    }
    pos = next;
  }
  return out;
}

function coerce(params: Record<string, unknown>): Record<string, unknown> {
  for (const f of JSON_FIELDS) {
    const v = params[f];
    if (typeof v === 'string') {
      try {
        params[f] = JSON.parse(v);
      } catch {
        throw bad(`can't parse ${f} JSON object`);
      }
    }
  }
  for (const f of NUMBER_FIELDS) {
    const v = params[f];
    if (typeof v === 'string' && /^-?\d+$/.test(v)) params[f] = Number(v);
  }
  for (const f of BOOL_FIELDS) {
    const v = params[f];
    if (v === 'true' || v === 'false') params[f] = v === 'true';
  }
  return params;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function utf16Length(s: string): number {
  return s.length;
}

// ------------------------------------------------------------------------------------------- the server

/** Starts the fake on 127.0.0.1 (random port). Close it with `close()`. */
export async function startFakeTelegram(opts: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const now = opts.now ?? (() => Date.now());
  const bot = {
    id: opts.bot?.id ?? 7_000_001,
    username: opts.bot?.username ?? 'manchete_test_bot',
    first_name: opts.bot?.firstName ?? 'Manchete',
    is_bot: true as const,
  };
  const maxPollMs = opts.maxPollMs ?? 30_000;
  let limits: FakeLimits = opts.limits === false ? { ...DEFAULT_LIMITS, enabled: false } : { ...DEFAULT_LIMITS, ...opts.limits };
  let faults: FakeFaults | null = opts.faults ?? null;
  let random = prng(faults?.seed ?? 1);

  const chats = new Map<number, ChatState>();
  const usernames = new Map<string, number>();
  const sent: FakeSentMessage[] = [];
  const edits: FakeEdit[] = [];
  const calls: FakeCall[] = [];
  const stats: FakeStats = { requests: 0, tooMany: 0, injected429: 0, injected5xx: 0, scripted: 0, paid: 0, paidRefused: 0, byMethod: {} };
  // Tenths of a Star, so 0.1 per paid message stays exact.
  let starTenths: number | null = opts.stars === undefined ? null : Math.round(opts.stars * 10);
  const commands = new Map<string, { command: string; description: string }[]>();
  const callbackAnswers: FakeTelegram['callbackAnswers'][number][] = [];
  const knownCallbacks = new Set<string>();
  const webhook: FakeTelegram['webhook'] = { url: '', secretToken: null, allowedUpdates: null };
  const events = new EventEmitter();
  events.setMaxListeners(0);

  const queued: { method: string; left: number; reply: FakeReply }[] = [];
  const scripts = new Set<(call: { method: string; params: Record<string, unknown> }) => FakeReply | undefined | void>();
  const hanging = new Set<http.ServerResponse>();

  // Updates
  const updates: Record<string, unknown>[] = [];
  let nextUpdateId = 1;
  let poller: { wake: (reason: 'update' | 'conflict') => void } | null = null;

  // Rate windows: timestamps of accepted sends (unpaid ones; all of them).
  const globalWindow: number[] = [];
  const allWindow: number[] = [];
  const chatWindows = new Map<number, number[]>();
  const groupWindows = new Map<number, number[]>();

  function addChat(spec: FakeChatSpec) {
    chats.set(spec.id, { spec: { ...spec }, nextMessageId: 1, messages: new Map() });
    if (spec.username) usernames.set(spec.username.toLowerCase(), spec.id);
  }

  function resolveChat(ref: unknown): ChatState {
    if (typeof ref === 'string' && ref.startsWith('@')) {
      const id = usernames.get(ref.slice(1).toLowerCase());
      const chat = id === undefined ? undefined : chats.get(id);
      if (!chat) throw bad('chat not found');
      return chat;
    }
    const id = typeof ref === 'number' ? ref : typeof ref === 'string' && /^-?\d+$/.test(ref) ? Number(ref) : NaN;
    if (!Number.isSafeInteger(id) || id === 0) throw bad('chat not found');
    let chat = chats.get(id);
    if (!chat && opts.autoPrivateChats && id > 0) {
      addChat({ id, type: 'private', firstName: `User ${id}` });
      chat = chats.get(id);
    }
    if (!chat) throw bad('chat not found');
    return chat;
  }

  function botStatus(spec: FakeChatSpec): FakeMemberStatus {
    if (spec.botStatus) return spec.botStatus;
    if (spec.type === 'private') return 'member';
    if (spec.type === 'channel') return spec.botIsAdmin === false ? 'left' : 'administrator';
    if (spec.botIsAdmin) return 'administrator';
    return spec.canPost === false ? 'restricted' : 'member';
  }

  function chatObject(spec: FakeChatSpec) {
    if (spec.type === 'private') {
      return { id: spec.id, type: 'private', first_name: spec.firstName ?? 'User', ...(spec.username ? { username: spec.username } : {}) };
    }
    return {
      id: spec.id,
      type: spec.type,
      title: spec.title ?? `Chat ${spec.id}`,
      ...(spec.username ? { username: spec.username } : {}),
      ...(spec.isForum ? { is_forum: true } : {}),
    };
  }

  function memberObject(spec: FakeChatSpec) {
    const status = botStatus(spec);
    const user = { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
    switch (status) {
      case 'administrator':
        return {
          status,
          user,
          can_be_edited: false,
          is_anonymous: false,
          can_manage_chat: true,
          can_delete_messages: true,
          can_manage_video_chats: false,
          can_restrict_members: false,
          can_promote_members: false,
          can_change_info: false,
          can_invite_users: true,
          ...(spec.type === 'channel' ? { can_post_messages: spec.canPost !== false, can_edit_messages: true } : {}),
        };
      case 'restricted':
        return { status, user, is_member: true, can_send_messages: spec.canPost !== false, until_date: 0 };
      case 'kicked':
        return { status, user, until_date: 0 };
      default:
        return { status, user };
    }
  }

  /** The errors Telegram gives when the bot may not post in `chat`. */
  function assertCanPost(chat: ChatState, what: 'text messages' | 'photos') {
    const spec = chat.spec;
    if (spec.migratedTo !== undefined) {
      throw new ApiFail(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: spec.migratedTo });
    }
    const kindName = spec.type === 'channel' ? 'channel' : spec.type === 'supergroup' ? 'supergroup' : 'group';
    if (spec.type === 'private') {
      if (spec.deactivated) throw new ApiFail(403, 'Forbidden: user is deactivated');
      if (spec.blocked) throw new ApiFail(403, 'Forbidden: bot was blocked by the user');
      return;
    }
    const status = botStatus(spec);
    if (status === 'kicked') throw new ApiFail(403, `Forbidden: bot was kicked from the ${kindName} chat`);
    if (status === 'left') throw new ApiFail(403, `Forbidden: bot is not a member of the ${kindName} chat`);
    if (spec.type === 'channel') {
      if (status === 'creator' || (status === 'administrator' && spec.canPost !== false)) return;
      throw bad('need administrator rights in the channel chat');
    }
    if (status === 'creator' || status === 'administrator') return;
    if (status === 'restricted' && spec.canPost === false) throw bad(`not enough rights to send ${what} to the chat`);
    if (spec.membersCanSend === false) throw bad(`not enough rights to send ${what} to the chat`);
  }

  function assertThread(chat: ChatState, thread: unknown) {
    if (thread === undefined) return;
    if (typeof thread !== 'number' || !Number.isSafeInteger(thread)) throw bad('message thread not found');
    if (!chat.spec.isForum) throw bad('message thread not found');
    if (chat.spec.topics && !chat.spec.topics.includes(thread)) throw bad('message thread not found');
  }

  function prune(window: number[], span: number, t: number) {
    while (window.length > 0 && t - window[0]! >= span - limits.slackMs) window.shift();
  }

  /** Null when the send may go now, else the retry_after in seconds. */
  function rateCheck(chat: ChatState, t: number, paid: boolean): number | null {
    if (!limits.enabled) return null;
    const waits: number[] = [];
    const check = (window: number[], span: number, max: number) => {
      prune(window, span, t);
      if (window.length >= max) waits.push(window[window.length - max]! + span - limits.slackMs - t);
    };
    // A paid broadcast skips the free ceiling but not the paid one, which every send counts against.
    if (!paid) check(globalWindow, 1000, limits.globalPerSecond);
    check(allWindow, 1000, limits.paidPerSecond);
    check(chatWindows.get(chat.spec.id) ?? [], 1000, limits.perChatPerSecond);
    if (chat.spec.type !== 'private') check(groupWindows.get(chat.spec.id) ?? [], 60_000, limits.perGroupPerMinute);
    if (waits.length === 0) return null;
    return Math.max(1, Math.ceil(Math.max(...waits) / 1000));
  }

  function rateRecord(chat: ChatState, t: number, paid: boolean) {
    if (!paid) globalWindow.push(t);
    allWindow.push(t);
    const id = chat.spec.id;
    if (!chatWindows.has(id)) chatWindows.set(id, []);
    chatWindows.get(id)!.push(t);
    if (chat.spec.type !== 'private') {
      if (!groupWindows.has(id)) groupWindows.set(id, []);
      groupWindows.get(id)!.push(t);
    }
  }

  function parseBody(text: unknown, parseMode: unknown): { plain: string; entities: FakeEntity[] } {
    if (typeof text !== 'string') return { plain: '', entities: [] };
    if (parseMode === undefined || parseMode === '') return { plain: text, entities: [] };
    if (parseMode !== 'HTML') throw bad(`unsupported parse_mode "${String(parseMode)}" (the fake speaks HTML only)`);
    try {
      const parsed = parseTelegramHtml(text);
      return { plain: parsed.text, entities: parsed.entities };
    } catch (err) {
      if (err instanceof HtmlParseError) throw bad(`can't parse entities: ${err.message}`);
      throw err;
    }
  }

  function checkText(p: Record<string, unknown>) {
    if (typeof p.text !== 'string') throw bad('message text is empty');
    const body = parseBody(p.text, p.parse_mode);
    if (body.plain.trim().length === 0) throw bad('message text is empty');
    if (utf16Length(body.plain) > 4096) throw bad('message is too long');
    return body;
  }

  function checkCaption(p: Record<string, unknown>) {
    const body = parseBody(p.caption, p.parse_mode);
    if (utf16Length(body.plain) > 1024) throw bad('message caption is too long');
    return body;
  }

  function checkMarkup(markup: unknown) {
    if (markup === undefined) return;
    if (!markup || typeof markup !== 'object') throw bad("can't parse reply keyboard markup JSON object");
    const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
    if (rows === undefined) return;
    if (!Array.isArray(rows)) throw bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
    for (const row of rows) {
      if (!Array.isArray(row)) throw bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
      for (const button of row as Record<string, unknown>[]) {
        if (typeof button.text !== 'string' || button.text === '') throw bad('text buttons are unallowed in the inline keyboard');
        const data = button.callback_data;
        if (data !== undefined && (typeof data !== 'string' || Buffer.byteLength(data) < 1 || Buffer.byteLength(data) > 64)) {
          throw bad('BUTTON_DATA_INVALID');
        }
        if (data === undefined && button.url === undefined) throw bad('BUTTON_TYPE_INVALID');
      }
    }
  }

  function messageResult(chat: ChatState, id: number, m: StoredMessage, thread?: number) {
    return {
      message_id: id,
      date: Math.floor(now() / 1000),
      chat: chatObject(chat.spec),
      ...(chat.spec.type === 'channel' ? { sender_chat: chatObject(chat.spec) } : { from: bot }),
      ...(thread !== undefined ? { message_thread_id: thread, is_topic_message: true } : {}),
      ...(m.kind === 'text'
        ? { text: m.plain, ...(m.entities.length ? { entities: m.entities } : {}) }
        : {
            photo: [{ file_id: `photo-${chat.spec.id}-${id}`, file_unique_id: `u${chat.spec.id}_${id}`, width: 800, height: 600 }],
            ...(m.plain ? { caption: m.plain } : {}),
            ...(m.entities.length ? { caption_entities: m.entities } : {}),
          }),
      ...(m.reply_markup ? { reply_markup: m.reply_markup } : {}),
    };
  }

  function send(method: 'sendMessage' | 'sendPhoto', p: Record<string, unknown>) {
    const chat = resolveChat(p.chat_id);
    const t = now();
    const paid = p.allow_paid_broadcast === true;
    if (paid && starTenths !== null && starTenths < 1) {
      stats.paidRefused += 1;
      throw bad('BALANCE_TOO_LOW');
    }
    const wait = rateCheck(chat, t, paid);
    if (wait !== null) {
      stats.tooMany += 1;
      throw new ApiFail(429, `Too Many Requests: retry after ${wait}`, { retry_after: wait });
    }
    assertCanPost(chat, method === 'sendMessage' ? 'text messages' : 'photos');
    assertThread(chat, p.message_thread_id);
    let body: { plain: string; entities: FakeEntity[] };
    let photo: FakeSentMessage['photo'];
    if (method === 'sendMessage') body = checkText(p);
    else {
      const ph = p.photo;
      if (typeof ph === 'string') {
        if (!isHttpUrl(ph) && !/^[A-Za-z0-9_-]{20,}$/.test(ph)) throw bad('wrong file identifier/HTTP URL specified');
        photo = ph;
      } else if (ph && typeof ph === 'object' && 'filename' in ph) {
        photo = ph as { filename: string; size: number };
        if (photo.size === 0) throw bad('IMAGE_PROCESS_FAILED');
      } else throw bad('there is no photo in the request');
      body = checkCaption(p);
    }
    checkMarkup(p.reply_markup);
    const id = chat.nextMessageId++;
    const stored: StoredMessage = {
      kind: method === 'sendMessage' ? 'text' : 'photo',
      ...(method === 'sendMessage' ? { text: p.text as string } : { caption: p.caption as string | undefined }),
      plain: body.plain,
      entities: body.entities,
      ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}),
    };
    chat.messages.set(id, stored);
    rateRecord(chat, t, paid);
    if (paid) {
      stats.paid += 1;
      if (starTenths !== null) starTenths -= 1;
    }
    const thread = typeof p.message_thread_id === 'number' ? p.message_thread_id : undefined;
    const record: FakeSentMessage = {
      method,
      chat_id: chat.spec.id,
      chat_ref: p.chat_id as string | number,
      message_id: id,
      ...(thread !== undefined ? { message_thread_id: thread } : {}),
      ...(typeof p.text === 'string' ? { text: p.text } : {}),
      ...(typeof p.caption === 'string' ? { caption: p.caption } : {}),
      ...(typeof p.parse_mode === 'string' ? { parse_mode: p.parse_mode } : {}),
      ...(photo !== undefined ? { photo } : {}),
      ...(p.reply_markup !== undefined ? { reply_markup: p.reply_markup } : {}),
      ...(p.link_preview_options !== undefined ? { link_preview_options: p.link_preview_options } : {}),
      ...(p.disable_notification !== undefined ? { disable_notification: Boolean(p.disable_notification) } : {}),
      ...(paid ? { allow_paid_broadcast: true } : {}),
      plain: body.plain,
      entities: body.entities,
      time: t,
    };
    sent.push(record);
    return messageResult(chat, id, stored, thread);
  }

  function findMessage(p: Record<string, unknown>): { chat: ChatState; id: number; m: StoredMessage } {
    if (p.inline_message_id !== undefined) throw bad('inline messages are not supported by the fake');
    const chat = resolveChat(p.chat_id);
    const id = p.message_id;
    if (typeof id !== 'number') throw bad('message identifier is not specified');
    const m = chat.messages.get(id);
    if (!m) throw bad('message to edit not found');
    return { chat, id, m };
  }

  const sameMarkup = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const notModified = () =>
    bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');

  function edit(method: FakeEdit['method'], p: Record<string, unknown>) {
    const { chat, id, m } = findMessage(p);
    checkMarkup(p.reply_markup);
    const t = now();
    const record: FakeEdit = { method, chat_id: chat.spec.id, message_id: id, time: t };
    if (method === 'editMessageText') {
      if (m.kind !== 'text') throw bad('there is no text in the message to edit');
      const body = checkText(p);
      if (body.plain === m.plain && JSON.stringify(body.entities) === JSON.stringify(m.entities) && sameMarkup(p.reply_markup, m.reply_markup)) {
        throw notModified();
      }
      Object.assign(m, { text: p.text, plain: body.plain, entities: body.entities, reply_markup: p.reply_markup });
      Object.assign(record, { text: p.text, plain: body.plain });
    } else if (method === 'editMessageCaption') {
      if (m.kind !== 'photo') throw bad('there is no caption in the message to edit');
      const body = checkCaption(p);
      if (body.plain === m.plain && JSON.stringify(body.entities) === JSON.stringify(m.entities) && sameMarkup(p.reply_markup, m.reply_markup)) {
        throw notModified();
      }
      Object.assign(m, { caption: p.caption, plain: body.plain, entities: body.entities, reply_markup: p.reply_markup });
      Object.assign(record, { caption: p.caption, plain: body.plain });
    } else {
      if (sameMarkup(p.reply_markup, m.reply_markup)) throw notModified();
      m.reply_markup = p.reply_markup;
    }
    if (typeof p.parse_mode === 'string') record.parse_mode = p.parse_mode;
    if (p.reply_markup !== undefined) record.reply_markup = p.reply_markup;
    edits.push(record);
    return messageResult(chat, id, m);
  }

  async function getUpdates(p: Record<string, unknown>, res: http.ServerResponse) {
    if (webhook.url) throw new ApiFail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const offset = typeof p.offset === 'number' ? p.offset : 0;
    const limit = typeof p.limit === 'number' ? Math.min(100, Math.max(1, p.limit)) : 100;
    const timeoutMs = Math.min(maxPollMs, Math.max(0, typeof p.timeout === 'number' ? p.timeout : 0) * 1000);
    if (Array.isArray(p.allowed_updates)) webhook.allowedUpdates = p.allowed_updates.length ? (p.allowed_updates as string[]) : null;
    if (offset > 0) {
      while (updates.length > 0 && (updates[0]!.update_id as number) < offset) updates.shift();
    }
    const ready = () => {
      const allowed = webhook.allowedUpdates;
      return updates.filter((u) => !allowed || Object.keys(u).some((k) => k !== 'update_id' && allowed.includes(k))).slice(0, limit);
    };
    if (ready().length > 0 || timeoutMs === 0) return ready();
    poller?.wake('conflict');
    const outcome = await new Promise<'update' | 'conflict' | 'timeout' | 'closed'>((resolve) => {
      const me = {
        wake: (reason: 'update' | 'conflict') => {
          finish(reason);
        },
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const onClose = () => finish('closed');
      res.on('close', onClose);
      function finish(reason: 'update' | 'conflict' | 'timeout' | 'closed') {
        clearTimeout(timer);
        res.off('close', onClose);
        if (poller === me) poller = null;
        resolve(reason);
      }
      poller = me;
    });
    if (outcome === 'conflict') {
      throw new ApiFail(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
    }
    return ready();
  }

  function setWebhook(p: Record<string, unknown>) {
    const url = typeof p.url === 'string' ? p.url : '';
    if (url && !/^https?:\/\//.test(url)) throw bad('bad webhook: An HTTPS URL must be provided for webhook');
    const secret = typeof p.secret_token === 'string' ? p.secret_token : null;
    if (secret !== null && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw bad('secret token contains unallowed characters');
    webhook.url = url;
    webhook.secretToken = url ? secret : null;
    if (Array.isArray(p.allowed_updates)) webhook.allowedUpdates = p.allowed_updates as string[];
    if (p.drop_pending_updates === true) updates.length = 0;
    if (url) poller?.wake('conflict');
    return true;
  }

  function setMyCommands(p: Record<string, unknown>) {
    const list = p.commands;
    if (!Array.isArray(list)) throw bad('parameter "commands" is required');
    if (list.length > 100) throw bad('too many commands');
    for (const c of list as Record<string, unknown>[]) {
      if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw bad('BOT_COMMAND_INVALID');
      if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) throw bad('BOT_COMMAND_DESCRIPTION_INVALID');
    }
    const lang = typeof p.language_code === 'string' ? p.language_code : '';
    if (lang && !/^[a-z]{2}$/.test(lang)) throw bad('invalid language code specified');
    commands.set(lang, (list as { command: string; description: string }[]).map((c) => ({ command: c.command, description: c.description })));
    return true;
  }

  const methods: Record<string, (p: Record<string, unknown>, res: http.ServerResponse) => unknown> = {
    getme: () => ({ ...bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }),
    getchat: (p) => {
      const chat = resolveChat(p.chat_id);
      const spec = chat.spec;
      if (spec.type !== 'private' && botStatus(spec) === 'kicked') throw new ApiFail(403, `Forbidden: bot was kicked from the ${spec.type} chat`);
      return {
        ...chatObject(spec),
        ...(spec.type === 'group' || spec.type === 'supergroup'
          ? { permissions: { can_send_messages: spec.membersCanSend !== false, can_send_photos: spec.membersCanSend !== false } }
          : {}),
      };
    },
    getchatmember: (p) => {
      const chat = resolveChat(p.chat_id);
      if (typeof p.user_id !== 'number') throw bad('invalid user_id specified');
      if (p.user_id === bot.id) return memberObject(chat.spec);
      if (chat.spec.type === 'private' && p.user_id === chat.spec.id) {
        return { status: 'member', user: { id: chat.spec.id, is_bot: false, first_name: chat.spec.firstName ?? 'User' } };
      }
      return { status: 'left', user: { id: p.user_id, is_bot: false, first_name: 'User' } };
    },
    getchatadministrators: (p) => {
      const chat = resolveChat(p.chat_id);
      if (chat.spec.type === 'private') throw bad('there are no administrators in the private chat');
      const owner = { status: 'creator', user: { id: 1, is_bot: false, first_name: 'Owner' }, is_anonymous: false };
      const status = botStatus(chat.spec);
      return status === 'administrator' || status === 'creator' ? [owner, memberObject(chat.spec)] : [owner];
    },
    sendmessage: (p) => send('sendMessage', p),
    sendphoto: (p) => send('sendPhoto', p),
    editmessagetext: (p) => edit('editMessageText', p),
    editmessagecaption: (p) => edit('editMessageCaption', p),
    editmessagereplymarkup: (p) => edit('editMessageReplyMarkup', p),
    deletewebhook: (p) => {
      webhook.url = '';
      webhook.secretToken = null;
      if (p.drop_pending_updates === true) updates.length = 0;
      return true;
    },
    setwebhook: (p) => setWebhook(p),
    getwebhookinfo: () => ({
      url: webhook.url,
      has_custom_certificate: false,
      pending_update_count: updates.length,
      ...(webhook.allowedUpdates ? { allowed_updates: webhook.allowedUpdates } : {}),
    }),
    setmycommands: (p) => setMyCommands(p),
    getmycommands: (p) => commands.get(typeof p.language_code === 'string' ? p.language_code : '') ?? [],
    getupdates: (p, res) => getUpdates(p, res),
    answercallbackquery: (p) => {
      const id = String(p.callback_query_id ?? '');
      if (!knownCallbacks.has(id)) throw bad('query is too old and response timeout expired or query ID is invalid');
      knownCallbacks.delete(id);
      callbackAnswers.push({
        callback_query_id: id,
        ...(typeof p.text === 'string' ? { text: p.text } : {}),
        ...(typeof p.show_alert === 'boolean' ? { show_alert: p.show_alert } : {}),
      });
      return true;
    },
    sendchataction: (p) => {
      resolveChat(p.chat_id);
      return true;
    },
  };

  function takeScripted(method: string, params: Record<string, unknown>): FakeReply | null {
    for (const fn of scripts) {
      const r = fn({ method, params });
      if (r) return r;
    }
    const q = queued.find((x) => x.method === '*' || x.method.toLowerCase() === method.toLowerCase());
    if (!q) return null;
    q.left -= 1;
    if (q.left <= 0) queued.splice(queued.indexOf(q), 1);
    return q.reply;
  }

  function injectedFault(method: string): FakeReply | null {
    if (!faults) return null;
    const eligible = faults.methods ?? FAULT_METHODS;
    if (!eligible.some((m) => m.toLowerCase() === method.toLowerCase())) return null;
    const r = random();
    const p429 = faults.rate429 ?? 0;
    if (r < p429) {
      stats.injected429 += 1;
      return TG_ERRORS.tooMany(faults.retryAfter ?? 1);
    }
    if (r < p429 + (faults.rate5xx ?? 0)) {
      stats.injected5xx += 1;
      return TG_ERRORS.serverError;
    }
    return null;
  }

  async function readBody(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function writeJson(res: http.ServerResponse, status: number, body: unknown) {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z]+)$/.exec(url.pathname);
    const raw = await readBody(req);
    if (!m) {
      writeJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const token = decodeURIComponent(m[1]!);
    const method = m[2]!;
    stats.requests += 1;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
    const record: FakeCall = { method, params: {}, token, status: 200, time: now() };
    calls.push(record);
    const answer = (status: number, body: unknown) => {
      record.status = status;
      if (status !== 200 && body && typeof body === 'object' && 'description' in body) record.description = String(body.description);
      writeJson(res, status, body);
      events.emit('change');
    };
    try {
      let params: Record<string, unknown> = Object.fromEntries(url.searchParams);
      const contentType = req.headers['content-type'] ?? '';
      const type = contentType.toLowerCase();
      if (raw.length > 0) {
        if (type.startsWith('application/json')) {
          const parsed: unknown = JSON.parse(raw.toString('utf8'));
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('the request body must be a JSON object');
          params = { ...params, ...(parsed as Record<string, unknown>) };
        } else if (type.startsWith('application/x-www-form-urlencoded')) {
          params = { ...params, ...Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) };
        } else if (type.startsWith('multipart/form-data')) {
          const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
          if (!boundary) throw bad('multipart body without boundary');
          params = { ...params, ...parseMultipart(raw, boundary) };
        }
      }
      record.params = coerce(params);
      events.emit('change');
      if (opts.token !== undefined && token !== opts.token) {
        answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
        return;
      }
      const scripted = takeScripted(method, record.params);
      if (scripted) stats.scripted += 1;
      const override = scripted ?? injectedFault(method);
      if (override) {
        replyScripted(override, res, answer);
        return;
      }
      const handler = methods[method.toLowerCase()];
      if (!handler) {
        answer(404, { ok: false, error_code: 404, description: 'Not Found' });
        return;
      }
      const result = await handler(record.params, res);
      answer(200, { ok: true, result });
    } catch (err) {
      if (err instanceof ApiFail) {
        answer(err.code, {
          ok: false,
          error_code: err.code,
          description: err.description,
          ...(err.parameters ? { parameters: err.parameters } : {}),
        });
      } else if (err instanceof SyntaxError) {
        answer(400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
      } else {
        answer(500, { ok: false, error_code: 500, description: `Internal Server Error (fake: ${(err as Error).message})` });
      }
    }
  }

  function replyScripted(reply: FakeReply, res: http.ServerResponse, answer: (status: number, body: unknown) => void) {
    if ('hang' in reply) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      events.emit('change');
      return;
    }
    if ('reset' in reply) {
      res.socket?.destroy();
      events.emit('change');
      return;
    }
    if ('raw' in reply) {
      if (!res.destroyed) {
        res.writeHead(reply.raw.status, { 'content-type': reply.raw.contentType ?? 'text/html' });
        res.end(reply.raw.body);
      }
      events.emit('change');
      return;
    }
    if ('ok' in reply) {
      answer(200, { ok: true, result: reply.result });
      return;
    }
    answer(reply.error_code, { ok: false, ...reply });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) writeJson(res, 500, { ok: false, error_code: 500, description: String(err) });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const apiRoot = `http://127.0.0.1:${port}`;

  function pushUpdate(update: Record<string, unknown>): number {
    const id = typeof update.update_id === 'number' ? update.update_id : nextUpdateId;
    nextUpdateId = Math.max(nextUpdateId, id + 1);
    const full: Record<string, unknown> = { ...update, update_id: id };
    const cq = full.callback_query as { id?: unknown } | undefined;
    if (cq && typeof cq.id === 'string') knownCallbacks.add(cq.id);
    updates.push(full);
    poller?.wake('update');
    return id;
  }

  function userFor(chatId: number, from?: { id: number; first_name?: string; username?: string; language_code?: string; is_bot?: boolean }) {
    const spec = chats.get(chatId)?.spec;
    const id = from?.id ?? chatId;
    return {
      id,
      is_bot: from?.is_bot ?? false,
      first_name: from?.first_name ?? spec?.firstName ?? `User ${id}`,
      ...(from?.username ? { username: from.username } : {}),
      ...((from?.language_code ?? spec?.languageCode) ? { language_code: from?.language_code ?? spec?.languageCode } : {}),
    };
  }

  let nextIncomingId = 1_000_000;

  const fake: FakeTelegram = {
    apiRoot,
    port,
    bot,
    sent,
    edits,
    calls,
    stats,
    commands,
    callbackAnswers,
    webhook,
    addChat,
    updateChat(id, change) {
      const chat = chats.get(id);
      if (!chat) throw new Error(`fake Telegram: no chat ${id}; addChat it first`);
      Object.assign(chat.spec, change);
      if (change.username) usernames.set(change.username.toLowerCase(), id);
    },
    sentTo(ref) {
      const id = typeof ref === 'string' && ref.startsWith('@') ? usernames.get(ref.slice(1).toLowerCase()) : Number(ref);
      return sent.filter((s) => s.chat_id === id);
    },
    message(chatId, messageId) {
      const m = chats.get(chatId)?.messages.get(messageId);
      if (!m) return undefined;
      return {
        ...(m.text !== undefined ? { text: m.text } : {}),
        ...(m.caption !== undefined ? { caption: m.caption } : {}),
        plain: m.plain,
        ...(m.reply_markup !== undefined ? { reply_markup: m.reply_markup } : {}),
      };
    },
    pushUpdate,
    pushMessage({ chatId, text, from, threadId }) {
      if (!chats.has(chatId)) {
        if (chatId > 0) addChat({ id: chatId, type: 'private', ...(from?.first_name ? { firstName: from.first_name } : {}) });
        else throw new Error(`fake Telegram: no chat ${chatId}; addChat it first`);
      }
      const chat = chats.get(chatId)!;
      const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
      const message = {
        message_id: nextIncomingId++,
        date: Math.floor(now() / 1000),
        chat: chatObject(chat.spec),
        ...(chat.spec.type === 'channel' ? { sender_chat: chatObject(chat.spec) } : { from: userFor(chatId, from) }),
        ...(threadId !== undefined ? { message_thread_id: threadId, is_topic_message: true } : {}),
        text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
      };
      return pushUpdate(chat.spec.type === 'channel' ? { channel_post: message } : { message });
    },
    pushCallback({ chatId, messageId, data, from }) {
      const chat = chats.get(chatId);
      if (!chat) throw new Error(`fake Telegram: no chat ${chatId}; addChat it first`);
      const stored = chat.messages.get(messageId);
      const user = userFor(chatId, from);
      return pushUpdate({
        callback_query: {
          id: `cb${nextIncomingId++}`,
          from: user,
          chat_instance: `ci${chatId}`,
          data,
          message: stored
            ? messageResult(chat, messageId, stored)
            : { message_id: messageId, date: Math.floor(now() / 1000), chat: chatObject(chat.spec), text: '' },
        },
      });
    },
    pendingUpdates: () => updates.length,
    async deliverWebhook(update, o = {}) {
      if (!webhook.url) throw new Error('fake Telegram: no webhook set (setWebhook was not called)');
      const id = typeof update.update_id === 'number' ? update.update_id : nextUpdateId++;
      const full: Record<string, unknown> = { ...update, update_id: id };
      const cq = full.callback_query as { id?: unknown } | undefined;
      if (cq && typeof cq.id === 'string') knownCallbacks.add(cq.id);
      const secret = o.secret === undefined ? webhook.secretToken : o.secret;
      const res = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
        body: JSON.stringify(full),
      });
      return { status: res.status, body: await res.text() };
    },
    failNext(method, n, reply) {
      queued.push({ method, left: n, reply });
    },
    script(fn) {
      scripts.add(fn);
      return () => scripts.delete(fn);
    },
    setLimits(next) {
      limits = next === false ? { ...limits, enabled: false } : { ...limits, enabled: true, ...next };
    },
    setStars(next) {
      starTenths = next === null ? null : Math.round(next * 10);
    },
    stars: () => (starTenths === null ? null : starTenths / 10),
    setFaults(next) {
      faults = next;
      random = prng(next?.seed ?? 1);
    },
    waitFor(predicate, timeoutMs = 5000, what = 'condition') {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onChange = () => {
          if (predicate()) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`fake Telegram: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        // Also poll: the predicate may depend on the client's state, which changes after the last request.
        const tick = setInterval(onChange, 10);
        function cleanup() {
          clearTimeout(timer);
          clearInterval(tick);
          events.off('change', onChange);
        }
        events.on('change', onChange);
      });
    },
    async refuseConnections() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await closed;
      events.emit('change');
    },
    async acceptConnections() {
      if (server.listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      events.emit('change');
    },
    async close() {
      if (!server.listening) return;
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
