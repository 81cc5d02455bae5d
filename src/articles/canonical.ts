/**
 * Canonical URLs and dedup keys: how Manchete recognises an article it has already seen, across polls,
 * restarts, tracking parameters and feeds that change their markup.
 */
import { createHash } from 'node:crypto';
import normalizeUrl from 'normalize-url';
import { collapseWhitespace, decodeEntities } from './text.js';

/**
 * Query parameters that only track the reader and never select content: campaign tags (utm_*),
 * ad click ids (Facebook, Google, Microsoft, Yandex, Instagram), Mailchimp and HubSpot ids.
 */
export const TRACKING_PARAMETERS: readonly (RegExp | string)[] = [
  /^utm_\w+/i,
  'fbclid',
  'gclid',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'igshid',
  'mc_cid',
  'mc_eid',
  '_hsenc',
  '_hsmi',
  'mkt_tok',
];

const NORMALIZE_OPTIONS = {
  defaultProtocol: 'https',
  normalizeProtocol: true,
  stripHash: true,
  stripTextFragment: true,
  // "www." is part of the site's own address: some sites serve different things with and without it.
  stripWWW: false,
  stripAuthentication: true,
  removeQueryParameters: TRACKING_PARAMETERS,
  removeTrailingSlash: true,
  removeSingleSlash: true,
  removeExplicitPort: false,
  sortQueryParameters: true,
} as const;

/**
 * The URLs most article links are, which `fastCanonicalUrl` canonicalises without the URL parser:
 * http(s); a lowercase ASCII host without port or credentials; path segments of characters the URL
 * parser and normalize-url leave as they are (no empty segment; percent-escapes only of bytes 80–FF in
 * upper case, which normalize-url's decodeURI and the parser's re-encoding give back as they were, or
 * leave alone when they are not UTF-8); at most one trailing slash; an optional query of `name=value`
 * pairs in plain characters; an optional fragment. Canonicalising runs on every item of every poll, and
 * normalize-url costs several microseconds a link.
 */
const FAST_URL_RE =
  /^(https?:\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)+))((?:\/(?:[\w\-.~!$&'()*+,;=@]|%[89A-F][0-9A-F])+)*)\/?(?:\?([\w.~*-]+=[\w.~*-]+(?:&[\w.~*-]+=[\w.~*-]+)*))?(?:#[^]*)?$/;
/**
 * A last host label the URL parser reads as a number (the host is then an IPv4 address, rewritten or
 * refused), or an IDNA label it checks and may refuse: such hosts take normalize-url's path.
 */
const SPECIAL_HOST_RE = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$|(?:^|\.)xn--/;

/** The name of a `name=value` pair. */
function parameterName(pair: string): string {
  return pair.slice(0, pair.indexOf('='));
}

/** Orders pairs by name, comparing UTF-16 code units as URLSearchParams#sort does (Array#sort is stable, as it is). */
function byParameterName(a: string, b: string): number {
  const x = parameterName(a);
  const y = parameterName(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** TRACKING_PARAMETERS tested as normalize-url tests them (a regex's g and y flags are ignored). */
function isTrackingParameter(name: string): boolean {
  for (const filter of TRACKING_PARAMETERS) {
    if (typeof filter === 'string') {
      if (filter === name) return true;
    } else if (filter.global || filter.sticky ? new RegExp(filter.source, filter.flags.replace(/[gy]/g, '')).test(name) : filter.test(name)) {
      return true;
    }
  }
  return false;
}

/**
 * What normalize-url (with NORMALIZE_OPTIONS) returns for a URL of the FAST_URL_RE shape, built by hand:
 * the fragment and one trailing slash dropped, tracking parameters removed and the rest sorted by name
 * (stably, as URLSearchParams sorts). Null for any other URL. `canonicalUrlReference` is the slow path
 * this must always agree with; the tests compare the two on many URLs.
 */
function fastCanonicalUrl(url: string): string | null {
  const m = FAST_URL_RE.exec(url);
  if (!m || SPECIAL_HOST_RE.test(m[2]!) || url.includes('/.')) return null;
  const origin = m[1]!;
  const path = m[3]!;
  let query = '';
  if (m[4] !== undefined) {
    const pairs = m[4].split('&').filter((pair) => !isTrackingParameter(parameterName(pair)));
    if (pairs.length > 1) pairs.sort(byParameterName);
    query = pairs.join('&');
  }
  if (query === '') return `${origin}${path}`;
  return `${origin}${path || '/'}?${query}`;
}

/** Web addresses we normalise; anything else (urn:, tag:, mailto:, relative paths) is left as written. */
const WEB_URL_RE = /^(?:https?:)?\/\/[^\s/]|^www\.[^\s]/i;

/** Whether `value` looks like an absolute web address (http, https, protocol-relative or `www.`). */
export function isWebUrl(value: string): boolean {
  return WEB_URL_RE.test(value.trim());
}

/**
 * `value` (trimmed) when it is an absolute http or https address with a host, else null. The URL
 * parser decides, as a browser or a chat app would: it strips the tabs and newlines that hide a
 * `java\tscript:` and reads the scheme case-insensitively. Entities are decoded first, so
 * `java&#x09;script:` cannot slip through as text that a later stage decodes. Protocol-relative
 * (`//host`) and relative addresses have no scheme of their own and are refused: resolve them first.
 */
export function httpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  const plain = parseHttp(value.trim());
  // Written with entities, it must be http(s) both as written and as a later stage may decode it.
  if (plain === null || !value.includes('&')) return plain;
  return parseHttp(decodeEntities(value).trim()) === null ? null : plain;
}

/**
 * An http(s) address the URL parser always accepts as it is written: lowercase scheme, a host of
 * lowercase ASCII labels (no empty label, no port, no credentials), then the end or a path, query or
 * fragment. Nothing after the host can make the parser fail (it percent-encodes what it must); a host
 * that SPECIAL_HOST_RE names (IPv4-like or IDNA) still takes the parser. Most links are of this shape,
 * and `new URL` costs a microsecond or more each: links are checked several times per article and render.
 */
const PLAIN_HTTP_RE = /^https?:\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?:[/?#]|$)/;

/** Whether `trimmed` is a PLAIN_HTTP_RE address without hidden characters: `parseHttp` returns it unchanged. */
export function isPlainHttpUrl(trimmed: string): boolean {
  const m = PLAIN_HTTP_RE.exec(trimmed);
  return m !== null && !SPECIAL_HOST_RE.test(m[1]!) && !/[\t\n\r]/.test(trimmed);
}

function parseHttp(trimmed: string): string | null {
  if (isPlainHttpUrl(trimmed)) return trimmed;
  const hidden = /[\t\n\r]/.test(trimmed);
  if (!/^[a-z][a-z0-9+.-]*:/i.test(hidden ? trimmed.replace(/[\t\n\r]/g, '') : trimmed)) return null;
  try {
    const url = new URL(trimmed);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
    // What the parser read, not what was written, when the two differ by hidden characters.
    return hidden ? url.href : trimmed;
  } catch {
    return null;
  }
}

/**
 * The canonical form of an article URL: tracking parameters (utm_*, fbclid, gclid, mc_cid/mc_eid…),
 * fragments, default ports, authentication and trailing slashes removed, query parameters sorted,
 * the host lowercased; `www.` and the protocol are kept. Never throws: a string that is not a web URL,
 * or that the URL parser refuses, comes back trimmed and otherwise untouched.
 */
export function canonicalUrl(url: string): string {
  const trimmed = url.trim();
  return fastCanonicalUrl(trimmed) ?? canonicalUrlReference(trimmed);
}

/**
 * `canonicalUrl` always through normalize-url, without the fast path for common links. Exported so that
 * tests can hold the fast path to it; everything else should call `canonicalUrl`.
 */
export function canonicalUrlReference(url: string): string {
  const trimmed = url.trim();
  if (!isWebUrl(trimmed)) return trimmed;
  try {
    return normalizeUrl(trimmed, NORMALIZE_OPTIONS);
  } catch {
    return trimmed;
  }
}

/**
 * A guid is stable enough to identify an article on its own when it is a URL, a URN/tag URI, or a
 * longer opaque string. A short or purely numeric guid ("123") is only unique inside one feed (two
 * WordPress sites both have post 123), so the URL is preferred over it.
 */
export function isStableGuid(guid: string): boolean {
  const g = guid.trim();
  if (g.length === 0) return false;
  if (isWebUrl(g) || /^(urn|tag):/i.test(g)) return true;
  return g.length >= 8 && !/^\d+$/.test(g);
}

/**
 * A short fingerprint of an article's visible content: the first 32 hex digits of the SHA-256 of the
 * title and lead with whitespace collapsed. Used as the last-resort dedup key and to notice that an
 * article came back with a changed title or lead.
 */
export function contentHash(title: string | null | undefined, lead: string | null | undefined): string {
  const text = `${collapseWhitespace(title ?? '')}\n${collapseWhitespace(lead ?? '')}`;
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}

/** What `dedupKey` needs from a feed item. */
export interface DedupInput {
  guid: string | null;
  guidIsPermalink: boolean | null;
  link: string | null;
  title: string | null;
  /** Summary text (or HTML): only used for the content-hash fallback. */
  summary: string | null;
}

/**
 * The key that identifies an article across polls and restarts, with a prefix saying where it came from:
 * `guid:<guid>` for a stable guid (canonicalised when it is a URL), else `url:<canonical link>`, else
 * `guid:<guid>` for a short guid, else `hash:<contentHash(title, summary)>`. Deterministic: the same input always
 * gives the same key.
 */
export function dedupKey(item: DedupInput): string {
  const guid = item.guid?.trim() ?? '';
  if (guid && isStableGuid(guid)) return `guid:${isWebUrl(guid) ? canonicalUrl(guid) : guid}`;
  const link = item.link?.trim() ?? '';
  if (link) return `url:${canonicalUrl(link)}`;
  // A short guid still beats a content hash, which would change with every edit of the title.
  if (guid) return `guid:${guid}`;
  return `hash:${contentHash(item.title, item.summary)}`;
}
