import type { Telegram } from 'telegraf';
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
 *   TelegramTimeoutError; the caller's signal (e.g. the bot stopping) aborts it too.
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
export type ApiCall = (method: string, payload: Record<string, unknown>, opts: CallOptions) => Promise<unknown>;

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
  /** Bot API 7.10: pay for broadcasting past the free 30 messages per second. */
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
  /** telegraf's client (`bot.telegram`), pointed at TELEGRAM_API_ROOT. */
  telegram: Pick<Telegram, 'callApi'>;
  /** The bot token, only so it can be scrubbed by value (telegraf puts it in request URLs). */
  token: string;
  /** Default deadline of one call. Default 30 s. */
  timeoutMs?: number;
}

type CallApiSignal = NonNullable<Parameters<Telegram['callApi']>[2]>['signal'];

/** Sets a deadline on every call; the caller's signal aborts the request as well. */
export function timeoutTransformer(defaultMs: number): Transformer {
  return async (next, method, payload, opts) => {
    const ms = opts.timeoutMs ?? defaultMs;
    const ac = new AbortController();
    const outer = opts.signal;
    const onAbort = () => ac.abort();
    if (outer?.aborted) ac.abort();
    else outer?.addEventListener('abort', onAbort, { once: true });
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
      outer?.removeEventListener('abort', onAbort);
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
  const { telegram } = opts;
  const raw: ApiCall = (method, payload, o) =>
    // The one place a method name leaves our types: telegraf's callApi sends any method and payload as given.
    telegram.callApi(method as TelegrafMethod, payload as TelegrafPayload<TelegrafMethod>, {
      ...(o.signal ? { signal: o.signal as unknown as CallApiSignal } : {}),
    });
  let pipeline: ApiCall = raw;
  const use = (...transformers: Transformer[]) => {
    for (const t of transformers) {
      const next = pipeline;
      pipeline = (method, payload, o) => t(next, method, payload, o);
    }
  };
  use(timeoutTransformer(opts.timeoutMs ?? 30_000), classifyTransformer(opts.token));

  return {
    call: (method, payload, o = {}) => pipeline(method, payload as Record<string, unknown>, o) as Promise<never>,
    callNewer: (method, payload, o = {}) => pipeline(method, payload as Record<string, unknown>, o) as Promise<never>,
    use,
  };
}
