import { PlatformSendError, type SendErrorKind } from '../../delivery/types.js';
import { scrub } from '../../log.js';

/**
 * Turns whatever telegraf throws into a PlatformSendError the dispatcher can branch on.
 *
 * telegraf 4.16 throws two families of errors:
 * - `TelegramError` (the Bot API answered `ok: false`): `response.error_code`, `response.description`,
 *   `response.parameters.retry_after` / `migrate_to_chat_id`. For HTTP 5xx telegraf ignores the body and
 *   puts the status text in `description`.
 * - node-fetch errors (`FetchError` with a system `code` such as ECONNRESET, `AbortError` when a signal
 *   fired, `invalid-json` when a proxy answered HTML). Their messages contain the request URL, which
 *   contains the bot token; telegraf redacts only the connection case, so every message here is scrubbed
 *   again, by value and by shape.
 */

/** Why a Telegram answer was classified the way it was: stable strings for logs, metrics and tests. */
export type TelegramErrorCode =
  | 'too_many_requests'
  | 'server_error'
  | 'network'
  | 'timeout'
  | 'migrated'
  | 'forbidden'
  | 'chat_not_found'
  | 'bad_markup'
  | 'bad_media'
  | 'not_modified'
  | 'too_long'
  | 'empty_text'
  | 'no_rights'
  | 'bad_topic'
  | 'message_gone'
  | 'unauthorized'
  | 'no_stars'
  | 'bad_request'
  | 'unknown';

/** Raised by the sender when its own deadline passes before Telegram answers. */
export class TelegramTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method}: no answer from Telegram within ${timeoutMs} ms`);
    this.name = 'TelegramTimeoutError';
  }
}

/** Where the failed call was going, for the error message (never the token). */
export interface TelegramCallContext {
  /** The bot token, scrubbed from every message by value. */
  token?: string | null;
  /** Bot API method, e.g. `sendMessage`. */
  method?: string;
  /** Destination as configured, e.g. `@canal` or `-1001234`. */
  chatId?: string;
}

/** A bot token's shape (`<digits>:<secret>`): scrubbed even when the value is unknown. */
const TOKEN_SHAPE = /\b(bot|user)?(\d{3,}):[A-Za-z0-9_-]{20,}/g;

/** Removes the token (by value and by shape) from any text that may reach a log or the database. */
export function scrubToken(text: string, token?: string | null): string {
  return scrub(text, [token]).replace(TOKEN_SHAPE, (_m, prefix: string | undefined, id: string) => `${prefix ?? ''}${id}:[redacted]`);
}

const GONE = [
  /chat not found/i,
  /bot was kicked/i,
  /bot was blocked/i,
  /user is deactivated/i,
  /bot is not a member/i,
  /group chat was deactivated/i,
  /chat was deleted/i,
  /peer_id_invalid/i,
  /bot can't initiate conversation/i,
];
const BAD_MEDIA = [
  /wrong file identifier/i,
  /failed to get http url content/i,
  /wrong type of the web page content/i,
  /wrong remote file/i,
  /image_process_failed/i,
  /photo_invalid/i,
  /photo_save_file_invalid/i,
  /photo_ext_invalid/i,
  /webpage_curl_failed/i,
  /webpage_media_empty/i,
  /file is too big/i,
  /wrong padding in the file/i,
  /invalid file http url/i,
];
const NO_RIGHTS = [/need administrator rights/i, /not enough rights/i, /have no rights to send/i, /chat_write_forbidden/i, /chat_admin_required/i];
const BAD_TOPIC = [/message thread not found/i, /topic_closed/i, /topic_deleted/i, /thread_id_invalid/i];
const MESSAGE_GONE = [/message to edit not found/i, /message can't be edited/i, /message_id_invalid/i, /there is no (text|caption) in the message to edit/i];
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface TelegramErrorShape {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** Duck-typed: works across copies of telegraf and for plain Bot API answers. */
function telegramResponse(err: unknown): TelegramErrorShape | null {
  if (!err || typeof err !== 'object') return null;
  const candidate = 'response' in err ? (err as { response: unknown }).response : err;
  if (!candidate || typeof candidate !== 'object') return null;
  const r = candidate as Record<string, unknown>;
  if (typeof r.error_code !== 'number') return null;
  const params = r.parameters && typeof r.parameters === 'object' ? (r.parameters as Record<string, unknown>) : undefined;
  return {
    error_code: r.error_code,
    description: typeof r.description === 'string' ? r.description : '',
    parameters: params
      ? {
          ...(typeof params.retry_after === 'number' ? { retry_after: params.retry_after } : {}),
          ...(typeof params.migrate_to_chat_id === 'number' ? { migrate_to_chat_id: params.migrate_to_chat_id } : {}),
        }
      : undefined,
  };
}

function where(ctx: TelegramCallContext): string {
  const method = ctx.method ?? 'Telegram call';
  return ctx.chatId ? `${method} to ${ctx.chatId}` : method;
}

/** What a failed Bot API call was, as data: callers branch on these fields, never on message text. */
export interface TelegramApiFailure {
  /** Bot API method, e.g. `sendMessage` (`unknown` when the caller did not say). */
  method: string;
  /**
   * The HTTP status of Telegram's answer. The Bot API sends it again as `error_code`; telegraf puts the
   * status there for 5xx answers too. Undefined when no answer came (network, timeout).
   */
  status?: number;
  /** `error_code` of the Bot API answer (same number as `status` when Telegram answered). */
  errorCode?: number;
  /** Telegram's `description` (scrubbed), or what went wrong on the way there. */
  description: string;
  /** `parameters.retry_after`, in seconds, as Telegram sent it. */
  retryAfter?: number;
  /** `parameters.migrate_to_chat_id`: the supergroup a group became. */
  migrateToChatId?: number;
}

/**
 * A failed Bot API call: a PlatformSendError (so the dispatcher needs nothing more) that also carries the
 * answer's fields. Its message, `description` and `cause` never contain the token: `cause` is a scrubbed
 * copy of what telegraf threw (name, message, system code), not the original, whose message and
 * properties may hold the request URL.
 */
export class TelegramApiError extends PlatformSendError implements TelegramApiFailure {
  readonly method: string;
  readonly status?: number;
  readonly errorCode?: number;
  readonly description: string;
  readonly retryAfter?: number;
  readonly migrateToChatId?: number;
  /** The classification (also in `details.code`). */
  readonly code: TelegramErrorCode;

  constructor(
    kind: SendErrorKind,
    code: TelegramErrorCode,
    message: string,
    failure: TelegramApiFailure,
    extra: { retryAfterMs?: number; migrateTo?: string; cause?: Error } = {},
  ) {
    super(kind, message, {
      code,
      ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
      ...(extra.migrateTo !== undefined ? { migrateTo: extra.migrateTo } : {}),
    });
    this.name = 'TelegramApiError';
    this.code = code;
    this.method = failure.method;
    this.description = failure.description;
    if (failure.status !== undefined) this.status = failure.status;
    if (failure.errorCode !== undefined) this.errorCode = failure.errorCode;
    if (failure.retryAfter !== undefined) this.retryAfter = failure.retryAfter;
    if (failure.migrateToChatId !== undefined) this.migrateToChatId = failure.migrateToChatId;
    if (extra.cause) this.cause = extra.cause;
  }
}

/** A token-free copy of what was thrown, for `cause`: name, scrubbed message, system code. */
function scrubbedCause(err: unknown, token: string | null | undefined): Error | undefined {
  if (!(err instanceof Error)) return undefined;
  const copy = new Error(scrubToken(err.message, token));
  copy.name = err.name;
  const e = err as { code?: unknown; type?: unknown; cause?: unknown };
  const sysCode = typeof e.code === 'string' ? e.code : typeof (e.cause as { code?: unknown } | undefined)?.code === 'string' ? String((e.cause as { code: string }).code) : undefined;
  if (sysCode) Object.assign(copy, { code: sysCode });
  if (typeof e.type === 'string') Object.assign(copy, { type: e.type });
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

function makeError(
  kind: SendErrorKind,
  code: TelegramErrorCode,
  message: string,
  ctx: TelegramCallContext,
  extra: { retryAfterMs?: number; migrateTo?: string } = {},
  failure: Partial<TelegramApiFailure> = {},
  raw?: unknown,
): TelegramApiError {
  const cause = scrubbedCause(raw, ctx.token);
  return new TelegramApiError(
    kind,
    code,
    scrubToken(message, ctx.token),
    { ...failure, method: ctx.method ?? 'unknown', description: scrubToken(failure.description ?? '', ctx.token) },
    { ...extra, ...(cause ? { cause } : {}) },
  );
}

/**
 * Maps a failed Bot API call onto the dispatcher's error kinds:
 * 429 → `rate_limited` (retryAfterMs from `retry_after`); 5xx, network errors and timeouts → `transient`;
 * 400 with `migrate_to_chat_id` → `migrated` (migrateTo); 403, "chat not found", kicked, deactivated →
 * `gone`; "can't parse entities" → `permanent` code `bad_markup`; refused image URL → `permanent` code
 * `bad_media`; "message is not modified" → `permanent` code `not_modified` (the sender treats it as a
 * successful edit); anything else → `permanent`. The message names the method and chat, never the token.
 * A PlatformSendError passes through (scrubbed). Everything else comes out as a TelegramApiError.
 */
export function classifyTelegramError(err: unknown, ctx: TelegramCallContext = {}): PlatformSendError {
  if (err instanceof PlatformSendError) {
    const clean = scrubToken(err.message, ctx.token);
    return clean === err.message ? err : new PlatformSendError(err.kind, clean, err.details);
  }
  const at = where(ctx);
  const api = telegramResponse(err);
  if (api) {
    const { error_code: status, description } = api;
    const said = `${status} ${description}`.trim();
    const data: Partial<TelegramApiFailure> = {
      status,
      errorCode: status,
      description,
      ...(api.parameters?.retry_after !== undefined ? { retryAfter: api.parameters.retry_after } : {}),
      ...(api.parameters?.migrate_to_chat_id !== undefined ? { migrateToChatId: api.parameters.migrate_to_chat_id } : {}),
    };
    const make = (kind: SendErrorKind, code: TelegramErrorCode, message: string, c: TelegramCallContext, extra: { retryAfterMs?: number; migrateTo?: string } = {}) =>
      makeError(kind, code, message, c, extra, data, err);
    if (status === 429) {
      const seconds = api.parameters?.retry_after ?? 1;
      return make('rate_limited', 'too_many_requests', `${at}: Telegram answered ${said}; waiting ${seconds}s`, ctx, {
        retryAfterMs: Math.max(0, seconds) * 1000,
      });
    }
    if (status >= 500) return make('transient', 'server_error', `${at}: Telegram answered ${said}; will retry`, ctx);
    const migrate = api.parameters?.migrate_to_chat_id;
    if (migrate !== undefined) {
      return make('migrated', 'migrated', `${at}: the group became a supergroup with id ${migrate}; resend there`, ctx, {
        migrateTo: String(migrate),
      });
    }
    if (status === 401) {
      return make('permanent', 'unauthorized', `${at}: Telegram rejected the bot token (${said}); check TELEGRAM_BOT_TOKEN`, ctx);
    }
    if (status === 400 && isInsufficientStars(description)) {
      return make('permanent', 'no_stars', `${at}: Telegram refused a paid broadcast (${said}): the bot's Stars balance is too low`, ctx);
    }
    if (/chat not found/i.test(description)) {
      return make('gone', 'chat_not_found', `${at}: ${said}; check the @username or id, and that the bot was added`, ctx);
    }
    if (status === 403 || GONE.some((re) => re.test(description))) {
      return make('gone', 'forbidden', `${at}: ${said}; the bot can no longer post there`, ctx);
    }
    if (/can't parse entities/i.test(description)) {
      return make('permanent', 'bad_markup', `${at}: Telegram refused the HTML (${said}); this is a template fault`, ctx);
    }
    if (/message is not modified/i.test(description)) {
      return make('permanent', 'not_modified', `${at}: ${said}`, ctx);
    }
    if (BAD_MEDIA.some((re) => re.test(description))) {
      return make('permanent', 'bad_media', `${at}: Telegram could not use the image (${said})`, ctx);
    }
    if (/too long/i.test(description)) return make('permanent', 'too_long', `${at}: ${said}; the renderer should have split it`, ctx);
    if (/text is empty|text must be non-empty/i.test(description)) return make('permanent', 'empty_text', `${at}: ${said}`, ctx);
    if (NO_RIGHTS.some((re) => re.test(description))) {
      return make('permanent', 'no_rights', `${at}: ${said}; give the bot the right to post there`, ctx);
    }
    if (BAD_TOPIC.some((re) => re.test(description))) {
      return make('permanent', 'bad_topic', `${at}: ${said}; check the topic id in TELEGRAM_CHATS`, ctx);
    }
    if (MESSAGE_GONE.some((re) => re.test(description))) return make('permanent', 'message_gone', `${at}: ${said}`, ctx);
    return make('permanent', 'bad_request', `${at}: Telegram answered ${said}`, ctx);
  }

  if (err instanceof TelegramTimeoutError) {
    return makeError('transient', 'timeout', `${at}: no answer within ${err.timeoutMs} ms; will retry`, ctx, {}, { description: err.message }, err);
  }
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; message?: unknown; code?: unknown; type?: unknown; cause?: unknown };
    const name = typeof e.name === 'string' ? e.name : '';
    const message = typeof e.message === 'string' ? e.message : String(err);
    const sysCode = typeof e.code === 'string' ? e.code : typeof (e.cause as { code?: unknown } | undefined)?.code === 'string' ? String((e.cause as { code: string }).code) : '';
    if (name === 'AbortError' || name === 'TimeoutError' || e.type === 'aborted' || e.type === 'request-timeout') {
      return makeError('transient', 'timeout', `${at}: the request was cut off before Telegram answered (${message}); will retry`, ctx, {}, { description: message }, err);
    }
    if (
      name === 'FetchError' ||
      NETWORK_CODES.has(sysCode) ||
      /socket hang up|network|ECONNRESET|ETIMEDOUT|ECONNREFUSED/i.test(message)
    ) {
      return makeError('transient', 'network', `${at}: could not reach Telegram (${message}); will retry`, ctx, {}, { description: message }, err);
    }
    return makeError('permanent', 'unknown', `${at}: unexpected error: ${message}`, ctx, {}, { description: message }, err);
  }
  return makeError('permanent', 'unknown', `${at}: unexpected error: ${String(err)}`, ctx, {}, { description: String(err) });
}

/**
 * Does a 400's description say the bot has too few Stars (for a paid broadcast)? The Bot API relays
 * Telegram's MTProto error name, `BALANCE_TOO_LOW` ("the current Telegram Stars balance is too low"), as
 * `Bad Request: BALANCE_TOO_LOW`; the wording of other clients ("not enough stars", "insufficient stars")
 * is accepted too. Plain substring tests on the first 300 characters, lowercased: no regex, bounded work.
 */
export function isInsufficientStars(description: string): boolean {
  const d = description.slice(0, 300).toLowerCase();
  if (d.includes('balance_too_low') || d.includes('balance too low') || d.includes('balance is too low')) return true;
  return d.includes('star') && (d.includes('not enough') || d.includes('insufficient'));
}

/** The classification code carried by a PlatformSendError from this module (`details.code`). */
export function telegramErrorCode(err: PlatformSendError): TelegramErrorCode | undefined {
  return typeof err.details.code === 'string' ? (err.details.code as TelegramErrorCode) : undefined;
}

/** The Bot API's error_code of a failed call (a TelegramApiError or telegraf's TelegramError), or undefined for network errors. */
export function telegramStatus(err: unknown): number | undefined {
  if (err instanceof TelegramApiError) return err.errorCode;
  return telegramResponse(err)?.error_code;
}
