/**
 * Getting feed and page bytes, politely and within bounds: conditional GET (ETag / Last-Modified),
 * redirects followed by hand (so permanent moves can be remembered), a timeout covering the whole
 * exchange, and a body limit enforced while streaming (a runaway response never fills memory).
 * Local files (a path or a `file://` URL) go through the same limits, so `manchete preview ./feed.xml`
 * and the bundled example feed behave like any other feed.
 *
 * Everything Manchete takes from outside comes through here: feed polls, article pages, images,
 * redirects and editors' URLs. A URL is hostile unless the caller says the operator configured it
 * (`trusted`): a hostile URL must be http(s) and every hop connects only to public addresses (or ones
 * FETCH_ALLOW_PRIVATE allows), checked at connect time by guard.ts. An operator-configured URL may be a
 * local file or a private address, but its redirects are hostile again: a redirect is the remote
 * side's word, not the operator's.
 *
 * It does not parse, retry or back off: that is the caller's policy. Every failure is a SourceError
 * with a kind to branch on and a message fit for an operator's log.
 */
import { stat, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { decodeBody } from './decode.js';
import { blockedRange, findBlocked, guardedDispatcher, loadedUndici, loadUndici, parseAllowList, trustedDispatcher } from './guard.js';
import { SourceError } from './types.js';
import type { FeedState, FetchOutcome } from './types.js';

/** How to fetch. Sizes and times come from configuration (FETCH_TIMEOUT, FEED_MAX_BYTES, PAGE_MAX_BYTES). */
export interface FetchOptions {
  /**
   * The fetch implementation; undici's by default. Tests and proxies inject their own; it receives the
   * guarding `dispatcher` in its init and should pass it on (IP-literal hosts are refused before it is called).
   */
  fetch?: typeof fetch;
  /**
   * Whether the URL is operator-configured (FEED_URLS, the routes file, a command-line argument): then a
   * local file or a private address is allowed for it, though not for its redirects. False (hostile) by default.
   */
  trusted?: boolean;
  /** CIDRs a hostile URL may still reach (FETCH_ALLOW_PRIVATE): `127.0.0.1/32`, `10.1.2.0/24`. Empty by default. */
  allowPrivate?: readonly string[];
  /** Budget for the whole exchange: every redirect hop, the headers and the body. */
  timeoutMs: number;
  /** Largest body accepted, after decompression. The download stops as soon as it is passed. */
  maxBytes: number;
  userAgent: string;
  /** Accept header; a feed-friendly (or, for pages, HTML) default otherwise. */
  accept?: string;
  /** Aborts the request from outside (shutdown). The error is then a SourceError of kind 'network'. */
  signal?: AbortSignal;
}

/** An article page as {@link fetchPage} returns it. */
export interface FetchedPage {
  /** The URL the page came from, after redirects: the base for its relative links. */
  finalUrl: string;
  text: string;
  contentType: string | null;
}

/** Redirect hops followed before giving up. */
export const MAX_REDIRECTS = 5;

const FEED_ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, ' +
  'application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5';
const PAGE_ACCEPT = 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5';
const IMAGE_ACCEPT = 'image/avif, image/webp, image/png, image/jpeg, image/*;q=0.8';

type Noun = 'feed' | 'page' | 'image';

interface Received {
  status: 'ok' | 'not-modified';
  finalUrl: string;
  permanentUrl: string | null;
  bytes: Uint8Array;
  headers: { get(name: string): string | null };
}

/**
 * Fetch one feed. `state` carries the validators of the previous successful fetch: when the server
 * answers 304 the outcome is `not-modified` and there is no body. A local file answers `not-modified`
 * when its modification time equals `state.lastModified`.
 */
export async function fetchFeed(state: FeedState, opts: FetchOptions): Promise<FetchOutcome> {
  const got = await receive(state.url, 'feed', { ...opts, accept: opts.accept ?? FEED_ACCEPT }, state);
  const maxAgeS = parseMaxAge(got.headers.get('cache-control'));
  if (got.status === 'not-modified') return { status: 'not-modified', finalUrl: got.finalUrl, maxAgeS };
  const contentType = got.headers.get('content-type');
  return {
    status: 'ok',
    finalUrl: got.finalUrl,
    permanentUrl: got.permanentUrl,
    text: decodeBody(got.bytes, contentType),
    contentType,
    etag: got.headers.get('etag'),
    lastModified: got.headers.get('last-modified'),
    maxAgeS,
    link: got.headers.get('link'),
  };
}

/**
 * Fetch an article page (for og: tags and readability) under the same timeout and size rules as feeds.
 * No conditional GET: pages are fetched once per article.
 */
export async function fetchPage(url: string, opts: FetchOptions): Promise<FetchedPage> {
  const got = await receive(url, 'page', { ...opts, accept: opts.accept ?? PAGE_ACCEPT }, null);
  const contentType = got.headers.get('content-type');
  return { finalUrl: got.finalUrl, text: decodeBody(got.bytes, contentType), contentType };
}

/** An image as {@link fetchImage} returns it: bytes within the limit, never more in memory. */
export interface FetchedImage {
  finalUrl: string;
  bytes: Uint8Array;
  contentType: string | null;
}

/**
 * Fetch an image (WhatsApp uploads and link-preview thumbnails) under the same guard, timeout and
 * streaming byte limit as pages; compressed bodies are counted after decompression, while streaming.
 */
export async function fetchImage(url: string, opts: FetchOptions): Promise<FetchedImage> {
  const got = await receive(url, 'image', { ...opts, accept: opts.accept ?? IMAGE_ACCEPT }, null);
  return { finalUrl: got.finalUrl, bytes: got.bytes, contentType: got.headers.get('content-type') };
}

/**
 * `max-age` of a Cache-Control header in seconds, or null when absent or when the response must not
 * be cached (`no-store`, `no-cache`): callers use it as a floor between polls.
 */
export function parseMaxAge(cacheControl: string | null): number | null {
  if (!cacheControl) return null;
  let maxAge: number | null = null;
  for (const part of cacheControl.split(',')) {
    const [rawName, rawValue] = part.split('=', 2);
    const name = rawName!.trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') return null;
    if (name === 'max-age' && rawValue !== undefined) {
      const n = Number(rawValue.trim().replace(/^"|"$/g, ''));
      if (Number.isInteger(n) && n >= 0) maxAge = n;
    }
  }
  return maxAge;
}

/**
 * The file-system path a source designates, or null when it is a URL with a scheme (http, https…).
 * `file://` URLs and plain paths (relative ones against the working directory) are local.
 */
export function localPath(source: string): string | null {
  if (/^file:/i.test(source)) {
    try {
      return fileURLToPath(source);
    } catch {
      return resolvePath(source.replace(/^file:(\/\/)?/i, ''));
    }
  }
  // A scheme (but not a Windows drive letter such as C:\) means a URL.
  if (/^[a-z][a-z0-9+.-]+:/i.test(source)) return null;
  return resolvePath(source);
}

async function receive(url: string, noun: Noun, opts: FetchOptions, state: FeedState | null): Promise<Received> {
  const path = localPath(url);
  if (path !== null) {
    if (!opts.trusted) {
      throw new SourceError(
        `${noun} ${url} is a local file; only sources the operator configured (FEED_URLS, the routes file, the command line) may be read from disk`,
        url,
        { kind: 'blocked' },
      );
    }
    return receiveFile(url, path, noun, opts, state);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceError(`${noun} "${url}" is neither a URL nor a file path`, url, { kind: 'network' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SourceError(
      `${noun} ${url} uses the unsupported scheme ${parsed.protocol}; use an http(s) URL or a file path`,
      url,
      { kind: 'network' },
    );
  }
  return receiveHttp(url, noun, opts, state);
}

async function receiveFile(
  url: string,
  path: string,
  noun: Noun,
  opts: FetchOptions,
  state: FeedState | null,
): Promise<Received> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(cause)})`;
    throw new SourceError(`${noun} file ${path} ${why}; check the path`, url, { kind: 'file', cause });
  }
  if (!info.isFile()) {
    throw new SourceError(`${noun} ${path} is not a file; give the path of the feed file itself`, url, { kind: 'file' });
  }
  if (info.size > opts.maxBytes) {
    throw new SourceError(
      `${noun} file ${path} is larger than ${formatBytes(opts.maxBytes)} (${formatBytes(info.size)}); it was not read${limitHint(noun)}`,
      url,
      { kind: 'too-large' },
    );
  }
  const lastModified = info.mtime.toUTCString();
  const headers = new Headers({ 'last-modified': lastModified });
  const finalUrl = pathToFileURL(path).href;
  if (state?.lastModified === lastModified) {
    return { status: 'not-modified', finalUrl, permanentUrl: null, bytes: new Uint8Array(0), headers };
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new SourceError(`${noun} file ${path} cannot be read: ${String(cause)}`, url, { kind: 'file', cause });
  }
  return { status: 'ok', finalUrl, permanentUrl: null, bytes: gunzipIfNeeded(bytes, url, noun, opts.maxBytes), headers };
}

async function receiveHttp(url: string, noun: Noun, opts: FetchOptions, state: FeedState | null): Promise<Received> {
  const undici = loadedUndici() ?? (await loadUndici());
  const doFetch = opts.fetch ?? (undici.fetch as unknown as typeof fetch);
  const allow = parseAllowList(opts.allowPrivate ?? []);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onOuterAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) controller.abort();

  const headers: Record<string, string> = { 'user-agent': opts.userAgent, accept: opts.accept ?? '*/*' };
  if (state?.etag) headers['if-none-match'] = state.etag;
  if (state?.lastModified) headers['if-modified-since'] = state.lastModified;

  let current = url;
  let hops = 0;
  let allPermanent = true;
  try {
    for (;;) {
      // Only the first hop of an operator-configured URL is trusted; every redirect is hostile input.
      const hostile = hops > 0 || !opts.trusted;
      if (hostile) refuseLiteral(current, url, noun, hops, allow);
      const dispatcher: Dispatcher = hostile ? guardedDispatcher(allow, undici) : trustedDispatcher(undici);
      const init = { method: 'GET', headers, redirect: 'manual', signal: controller.signal, dispatcher } as RequestInit;
      const res = await doFetch(current, init);
      if (isRedirect(res.status)) {
        await discard(res);
        const location = res.headers.get('location');
        if (!location) {
          throw new SourceError(`${noun} ${current} answered HTTP ${res.status} without a Location header`, url, {
            kind: 'http',
            status: res.status,
          });
        }
        if (hops >= MAX_REDIRECTS) {
          throw new SourceError(
            `${noun} ${url} redirected more than ${MAX_REDIRECTS} times (last to ${location}); open it in a browser to find where it lives now`,
            url,
            { kind: 'http', status: res.status },
          );
        }
        hops++;
        if (res.status !== 301 && res.status !== 308) allPermanent = false;
        current = followLocation(location, current, url, noun, res.status);
        continue;
      }
      const permanentUrl = hops > 0 && allPermanent ? current : null;
      if (res.status === 304) {
        await discard(res);
        return { status: 'not-modified', finalUrl: current, permanentUrl, bytes: new Uint8Array(0), headers: res.headers };
      }
      if (res.status < 200 || res.status > 299) {
        await discard(res);
        throw new SourceError(httpMessage(noun, current, res.status, res.statusText), url, { kind: 'http', status: res.status });
      }
      const length = Number(res.headers.get('content-length'));
      if (Number.isFinite(length) && length > opts.maxBytes) {
        await discard(res);
        throw new SourceError(
          `${noun} ${current} is larger than ${formatBytes(opts.maxBytes)} (Content-Length ${formatBytes(length)}); the download was not started${limitHint(noun)}`,
          url,
          { kind: 'too-large' },
        );
      }
      const raw = await readLimited(res, opts.maxBytes, controller.signal, () => {
        throw new SourceError(
          `${noun} ${current} is larger than ${formatBytes(opts.maxBytes)}; the download was stopped${limitHint(noun)}`,
          url,
          { kind: 'too-large' },
        );
      });
      return { status: 'ok', finalUrl: current, permanentUrl, bytes: gunzipIfNeeded(raw, url, noun, opts.maxBytes), headers: res.headers };
    }
  } catch (err) {
    if (timedOut) {
      throw new SourceError(
        `${noun} ${current} did not answer within ${formatSeconds(opts.timeoutMs)}; the site is slow or down (FETCH_TIMEOUT sets the limit)`,
        url,
        { kind: 'timeout', cause: err },
      );
    }
    if (err instanceof SourceError) throw err;
    const blocked = findBlocked(err);
    if (blocked) throw blockedError(noun, current, url, hops, blocked.address, blocked.range);
    if (opts.signal?.aborted) {
      throw new SourceError(`fetching ${noun} ${current} was cancelled`, url, { kind: 'network', cause: err });
    }
    throw new SourceError(`${noun} ${current} could not be reached (${networkReason(err)}); check the address and the network`, url, {
      kind: 'network',
      cause: err,
    });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/**
 * An IP-literal host is judged before anything is sent (an injected fetch, which may not use the
 * guarding dispatcher, is never even called); host names are judged at connect time by the dispatcher.
 */
function refuseLiteral(current: string, original: string, noun: Noun, hops: number, allow: ReturnType<typeof parseAllowList>): void {
  const host = new URL(current).hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host)) return;
  const range = blockedRange(host, allow);
  if (range) throw blockedError(noun, current, original, hops, host, range);
}

/** "page http://10.0.0.5/x resolves to a private address (10.0.0.5); allow it with FETCH_ALLOW_PRIVATE". */
function blockedError(noun: Noun, current: string, original: string, hops: number, address: string, range: string): SourceError {
  const via = hops > 0 ? ` (redirected from ${original})` : '';
  return new SourceError(
    `${noun} ${current}${via} resolves to a ${range} address (${address}); allow it with FETCH_ALLOW_PRIVATE if it is meant to be reached`,
    original,
    { kind: 'blocked' },
  );
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function followLocation(location: string, from: string, original: string, noun: Noun, status: number): string {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new SourceError(`${noun} ${from} redirected to an invalid address "${location}"`, original, { kind: 'http', status });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new SourceError(`${noun} ${from} redirected to ${next.href}, which is not http(s)`, original, { kind: 'http', status });
  }
  return next.href;
}

/** Release the connection of a response whose body we do not want. */
async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Nothing to release.
  }
}

/** Read a body chunk by chunk, calling `tooLarge` (which throws) as soon as it passes `maxBytes`. */
async function readLimited(res: Response, maxBytes: number, signal: AbortSignal, tooLarge: () => never): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  // An injected fetch may not tie its body to the signal: cancel the reader ourselves.
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw new Error('aborted');
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Some servers (and saved files) hand out gzip bytes without saying so: unpack them, within the limit. */
function gunzipIfNeeded(bytes: Uint8Array, url: string, noun: Noun, maxBytes: number): Uint8Array {
  if (bytes.length < 3 || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 0x08) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError) {
      throw new SourceError(`${noun} ${url} unpacks to more than ${formatBytes(maxBytes)}; it was not read${limitHint(noun)}`, url, {
        kind: 'too-large',
        cause,
      });
    }
    throw new SourceError(`${noun} ${url} is gzip-compressed but damaged: ${(cause as Error).message}`, url, { kind: 'parse', cause });
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  410: 'Gone',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function httpMessage(noun: Noun, url: string, status: number, statusText: string): string {
  const text = statusText || STATUS_TEXT[status] || '';
  const head = `${noun} ${url} answered HTTP ${status}${text ? ` ${text}` : ''}`;
  if (status === 404) return `${head}; check the address`;
  if (status === 410) return `${head}; the site removed it, take it out of the configuration`;
  if (status === 401 || status === 403) return `${head}; the site refuses the request (it may need a login or block unknown clients)`;
  if (status === 429) return `${head}; the site asks for fewer requests, poll it less often`;
  if (status >= 500) return `${head}; the site is failing, it should recover by itself`;
  return `${head}; unexpected answer`;
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof AggregateError ? cause.errors[0] : cause;
  const code = (inner as { code?: unknown } | undefined)?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be resolved right now',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    UND_ERR_SOCKET: 'the connection broke',
  };
  if (typeof code === 'string') return known[code] ? `${code}: ${known[code]}` : code;
  if (inner instanceof Error && inner.message) return inner.message;
  return err instanceof Error ? err.message : String(err);
}

function limitHint(noun: Noun): string {
  return noun === 'feed' ? ' (FEED_MAX_BYTES sets the limit)' : ' (PAGE_MAX_BYTES sets the limit)';
}

/** `5 MB`, `512 KB`, `1.5 MB`, `900 bytes`. */
export function formatBytes(n: number): string {
  const MB = 1024 * 1024;
  if (n >= MB) return `${+(n / MB).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function formatSeconds(ms: number): string {
  return `${+(ms / 1000).toFixed(1)} s`;
}
