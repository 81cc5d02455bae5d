import type { Telegram } from 'telegraf';
import { Pool, errors as undiciErrors } from 'undici';
import { TelegramTimeoutError, classifyTelegramError } from './errors.js';

export { TelegramApiError, type TelegramApiFailure } from './errors.js';

/**
 * The one way Manchete calls the Telegram Bot API. The sender (send, edit, check) and the bot (polling,
 * webhook set-up, menus, replies, button answers) both go through `call`, so there is one deadline, one
 * token scrubber and one error classification, not one per caller.
 *
 * The shape follows grammY's client: a single raw call function (here telegraf's `telegram.callApi`,
 * which does the HTTP, the JSON/multipart encoding and the `ok: false` check) wrapped by transformers,
 * each a function of the next call. Ours, innermost first:
 * - `timeoutTransformer`: aborts the request past its deadline (telegraf's own is 500 s) and rejects with
 *   TelegramTimeoutError; the caller's signal (e.g. the bot stopping) aborts it too. A transport that
 *   enforces the deadline itself (`enforcesDeadline`: ours gives undici the time limits) gets the deadline
 *   as `timeoutMs` instead of an AbortSignal: an AbortController and its listeners per call cost about
 *   8 % of a fast fan-out's CPU.
 * - `classifyTransformer`: whatever came out of telegraf or the deadline becomes a TelegramApiError,
 *   whose message, description and `cause` are free of the token, with the answer's fields as data.
 * More can be added with `use` (outermost last); they see TelegramApiError, never a raw telegraf error.
 */

/** Per-call options; transformers may read and change them on the way in. */
export interface CallOptions {
  /** Aborts the request (e.g. the bot is stopping). */
  signal?: AbortSignal;
  /** This call's deadline instead of the client's (long polling waits longer). */
  timeoutMs?: number;
  /** Destination as configured (`@canal`), for error messages; default: the payload's `chat_id`. */
  chatId?: string;
}

/** The raw call every transformer ends in: method, JSON-able payload, options → Telegram's `result`. */
export type ApiCall = ((method: string, payload: Record<string, unknown>, opts: CallOptions) => Promise<unknown>) & {
  /** The transport stops a call itself once `opts.timeoutMs` has passed (no AbortSignal needed for it). */
  enforcesDeadline?: boolean;
};

/** A wrapper around the next call (grammY's "transformer"). */
export type Transformer = (next: ApiCall, method: string, payload: Record<string, unknown>, opts: CallOptions) => Promise<unknown>;

type TelegrafMethod = Parameters<Telegram['callApi']>[0];
/** Only a type anchor: `typeof callApi<M>` instantiates telegraf's generic signature for one method. */
declare const callApi: Telegram['callApi'];
type TelegrafPayload<M extends TelegrafMethod> = Parameters<typeof callApi<M>>[1];
type TelegrafResult<M extends TelegrafMethod> = Awaited<ReturnType<typeof callApi<M>>>;

/**
 * Parameters newer than telegraf 4.16's types (Bot API 7.1), typed by us. telegraf sends every payload
 * field as it is, so these need only the type.
 */
export interface NewerParams {
  /** Bot API 7.11: pay 0.1 Star per message to broadcast past the free 30 messages per second (up to 1000). */
  sendMessage: { allow_paid_broadcast?: boolean };
  sendPhoto: { allow_paid_broadcast?: boolean };
}

/** Methods newer than telegraf 4.16's types: parameters and result, typed by us from the Bot API docs. */
export interface NewerMethods {
  /** Bot API 7.5: the bot's Telegram Stars transactions. */
  getStarTransactions: {
    params: { offset?: number; limit?: number };
    result: { transactions: { id: string; amount: number; date: number }[] };
  };
}

type Extra<M> = M extends keyof NewerParams ? NewerParams[M] : unknown;

/** The client: typed calls for telegraf's methods and ours, one pipeline underneath. */
export interface TelegramApiClient {
  /** A Bot API method telegraf knows (plus our newer parameters). Rejects with TelegramApiError. */
  call<M extends TelegrafMethod>(method: M, payload: TelegrafPayload<M> & Extra<M>, opts?: CallOptions): Promise<TelegrafResult<M>>;
  /** A method newer than telegraf's types, through the same pipeline. Rejects with TelegramApiError. */
  callNewer<M extends keyof NewerMethods>(method: M, payload: NewerMethods[M]['params'], opts?: CallOptions): Promise<NewerMethods[M]['result']>;
  /** Adds transformers around the current pipeline (the last added runs first). */
  use(...transformers: Transformer[]): void;
}

export interface TelegramClientOptions {
  /** telegraf's client (`bot.telegram`), pointed at TELEGRAM_API_ROOT (unused when `transport` is given). */
  telegram?: Pick<Telegram, 'callApi'>;
  /**
   * The raw call underneath the transformers. Default: telegraf's `callApi`. The app passes
   * `createBotApiTransport` (keep-alive connection pool, several times cheaper per call than telegraf's
   * node-fetch path, which is what limits a fan-out past a few hundred messages per second).
   */
  transport?: ApiCall;
  /** The bot token, only so it can be scrubbed by value (telegraf puts it in request URLs). */
  token: string;
  /** Default deadline of one call. Default 30 s. */
  timeoutMs?: number;
}

type CallApiSignal = NonNullable<Parameters<Telegram['callApi']>[2]>['signal'];

/**
 * Sets a deadline on every call; the caller's signal aborts the request as well. With `transportEnforces`
 * the request itself is stopped by the transport (it is handed the deadline as `timeoutMs`), and this only
 * makes the call reject on time with TelegramTimeoutError.
 */
export function timeoutTransformer(defaultMs: number, o: { transportEnforces?: boolean } = {}): Transformer {
  return async (next, method, payload, opts) => {
    const ms = opts.timeoutMs ?? defaultMs;
    if (o.transportEnforces) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TelegramTimeoutError(method, ms)), ms);
      });
      try {
        return await Promise.race([next(method, payload, { ...opts, timeoutMs: ms }), deadline]);
      } finally {
        clearTimeout(timer);
      }
    }
    const ac = linkedAbort(opts.signal);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new TelegramTimeoutError(method, ms));
        ac.abort();
      }, ms);
    });
    try {
      return await Promise.race([next(method, payload, { ...opts, signal: ac.signal }), deadline]);
    } finally {
      clearTimeout(timer);
      ac.release();
    }
  };
}

/** Turns every failure into a token-free TelegramApiError naming the method and the chat. */
export function classifyTransformer(token: string): Transformer {
  return async (next, method, payload, opts) => {
    try {
      return await next(method, payload, opts);
    } catch (err) {
      const chat = opts.chatId ?? (typeof payload.chat_id === 'string' || typeof payload.chat_id === 'number' ? String(payload.chat_id) : undefined);
      throw classifyTelegramError(err, { token, method, ...(chat ? { chatId: chat } : {}) });
    }
  };
}

/** Creates the client with the deadline and classification in place. Nothing is contacted until a call. */
export function createTelegramClient(opts: TelegramClientOptions): TelegramApiClient {
  if (!opts.transport && !opts.telegram) throw new Error('createTelegramClient needs telegraf\'s client or a transport');
  const raw: ApiCall = opts.transport ?? telegrafTransport(opts.telegram!);
  let pipeline: ApiCall = raw;
  const use = (...transformers: Transformer[]) => {
    for (const t of transformers) {
      const next = pipeline;
      pipeline = (method, payload, o) => t(next, method, payload, o);
    }
  };
  use(timeoutTransformer(opts.timeoutMs ?? 30_000, { transportEnforces: raw.enforcesDeadline === true }), classifyTransformer(opts.token));

  return {
    call: (method, payload, o = {}) => pipeline(method, payload as Record<string, unknown>, o) as Promise<never>,
    callNewer: (method, payload, o = {}) => pipeline(method, payload as Record<string, unknown>, o) as Promise<never>,
    use,
  };
}

/** telegraf's `callApi` as a raw call (JSON, or multipart when a payload carries a file to upload). */
export function telegrafTransport(telegram: Pick<Telegram, 'callApi'>): ApiCall {
  return (method, payload, o) =>
    // The one place a method name leaves our types: telegraf's callApi sends any method and payload as given.
    telegram.callApi(method as TelegrafMethod, payload as TelegrafPayload<TelegrafMethod>, {
      ...(o.signal ? { signal: o.signal as unknown as CallApiSignal } : {}),
    });
}

export interface BotApiTransportOptions {
  /** TELEGRAM_API_ROOT (`https://api.telegram.org`, a self-hosted server, a fake on loopback). */
  apiRoot: string;
  token: string;
  /**
   * Connections kept open to the Bot API server. Each carries one request at a time, so this bounds the
   * sends in flight; it should be at least the dispatcher's concurrency. Default 64.
   */
  connections?: number;
  /** Used for payloads that upload a file (multipart), which this transport does not encode. */
  fallback?: ApiCall;
  /** An answer longer than this fails the call (transient). Default 32 MB, far above any Bot API answer. */
  maxAnswerBytes?: number;
}

/** A Bot API answer with `ok: false`, in the shape `classifyTelegramError` reads (`response.error_code`…). */
class BotApiAnswer extends Error {
  constructor(readonly response: { error_code: number; description: string; parameters?: Record<string, unknown> }) {
    super(response.description);
    this.name = 'BotApiAnswer';
  }
}

/** Does a payload carry something to upload (telegraf's `{ source }` input files)? Those go multipart. */
function hasUpload(payload: Record<string, unknown>): boolean {
  for (const v of Object.values(payload)) if (v && typeof v === 'object' && 'source' in v) return true;
  return false;
}

/**
 * The raw call over an undici connection pool to one Bot API server: JSON body, keep-alive connections
 * (TLS and TCP set up once, not per message), no per-call URL parsing. Errors come out in the shapes the
 * classifier already knows: an `ok: false` answer as `{ response }`, an answer that is not JSON (a proxy's
 * HTML page) as a `FetchError`-named error (transient, as with telegraf), network errors as undici throws
 * them (`ECONNREFUSED`, `UND_ERR_SOCKET`…), an abort as `AbortError`. Messages never contain the token
 * (undici does not put the URL in them; the classifier scrubs anyway).
 */
export function createBotApiTransport(opts: BotApiTransportOptions): ApiCall & { close(): Promise<void> } {
  const base = new URL(`./bot${opts.token}/`, opts.apiRoot.endsWith('/') ? opts.apiRoot : `${opts.apiRoot}/`);
  const pool = new Pool(base.origin, { connections: opts.connections ?? 64, keepAliveTimeout: 30_000, pipelining: 1 });
  const prefix = base.pathname;
  const maxAnswer = opts.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  const call = async (method: string, payload: Record<string, unknown>, o: CallOptions): Promise<unknown> => {
    if (opts.fallback && hasUpload(payload)) return withDeadline(opts.fallback, method, payload, o);
    const res = await post(pool, `${prefix}${method}`, JSON.stringify(payload, dropNulls), o, maxAnswer);
    let data: { ok?: unknown; result?: unknown; error_code?: unknown; description?: unknown; parameters?: unknown };
    try {
      data = JSON.parse(res.text) as typeof data;
    } catch {
      if (res.status >= 500) throw new BotApiAnswer({ error_code: res.status, description: `HTTP ${res.status}` });
      throw Object.assign(new Error(`${method}: HTTP ${res.status}, and the answer is not JSON (a proxy in the way?)`), { name: 'FetchError' });
    }
    if (data.ok === true) return data.result;
    throw new BotApiAnswer({
      error_code: typeof data.error_code === 'number' ? data.error_code : res.status,
      description: typeof data.description === 'string' ? data.description : `HTTP ${res.status}`,
      ...(data.parameters && typeof data.parameters === 'object' ? { parameters: data.parameters as Record<string, unknown> } : {}),
    });
  };
  return Object.assign(call, { close: () => pool.close(), enforcesDeadline: true });
}

/** telegraf's encoding: a null field is left out rather than sent as `null`. */
const dropNulls = (_k: string, v: unknown) => (v === null ? undefined : v);

/** More than any Bot API answer (a full getUpdates page is well under 1 MB). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * One POST through undici's dispatcher interface, the answer collected as text. `pool.request` would
 * wrap every answer in a readable stream and every call in its own handler classes: at a thousand
 * messages a second that machinery, not the network, was most of the transport's CPU. The deadline is
 * undici's own (`headersTimeout`/`bodyTimeout`, which free the connection when they pass); the caller's
 * signal aborts the request with undici's `AbortError`.
 */
function post(pool: Pool, path: string, body: string, o: CallOptions, maxBytes: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const signal = o.signal;
    if (signal?.aborted) return reject(new undiciErrors.RequestAbortedError());
    let abortRequest: ((err: Error) => void) | null = null;
    let status = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    const onAbort = () => abortRequest?.(new undiciErrors.RequestAbortedError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    pool.dispatch(
      {
        path,
        method: 'POST',
        headers: JSON_HEADERS,
        body,
        ...(o.timeoutMs ? { headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs } : {}),
      },
      {
        onConnect(abort) {
          abortRequest = abort;
          if (signal?.aborted) abort(new undiciErrors.RequestAbortedError());
        },
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData(chunk) {
          size += chunk.length;
          if (size > maxBytes) {
            abortRequest?.(Object.assign(new Error(`the Bot API answer is over ${maxBytes} bytes (a proxy in the way?)`), { name: 'FetchError' }));
            return false;
          }
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          done();
          resolve({ status, text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8') });
        },
        onError(err) {
          done();
          reject(err);
        },
      },
    );
  });
}

/** An upload through the fallback (telegraf, which knows only signals): aborted once `timeoutMs` passes. */
async function withDeadline(fallback: ApiCall, method: string, payload: Record<string, unknown>, o: CallOptions): Promise<unknown> {
  if (!o.timeoutMs) return fallback(method, payload, o);
  const ac = linkedAbort(o.signal);
  const timer = setTimeout(() => ac.abort(), o.timeoutMs);
  try {
    return await fallback(method, payload, { ...o, signal: ac.signal });
  } finally {
    clearTimeout(timer);
    ac.release();
  }
}

/** An AbortController that the caller's signal (if any) aborts too; `release` unhooks it from that signal. */
function linkedAbort(outer: AbortSignal | undefined): AbortController & { release(): void } {
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  if (outer?.aborted) ac.abort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return Object.assign(ac, { release: () => outer?.removeEventListener('abort', onAbort) });
}
