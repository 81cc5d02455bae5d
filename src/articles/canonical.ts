/**
 * Canonical URLs and dedup keys: how Manchete recognises an article it has already seen, across polls,
 * restarts, tracking parameters and feeds that change their markup.
 */
import { createHash } from 'node:crypto';
import normalizeUrl from 'normalize-url';
import { collapseWhitespace } from './text.js';

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
 * A URL normalize-url would return unchanged: lowercase ASCII host, no port, query, fragment, credentials,
 * percent-escape or trailing slash. Most article links look like this, and skipping the URL parser for
 * them matters: canonicalisation runs on every item of every poll.
 */
const ALREADY_CANONICAL_RE = /^https?:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:\/[\w\-.~!$&'()*+,;=@]+)*$/;

/** Web addresses we normalise; anything else (urn:, tag:, mailto:, relative paths) is left as written. */
const WEB_URL_RE = /^(?:https?:)?\/\/[^\s/]|^www\.[^\s]/i;

/** Whether `value` looks like an absolute web address (http, https, protocol-relative or `www.`). */
export function isWebUrl(value: string): boolean {
  return WEB_URL_RE.test(value.trim());
}

/**
 * The canonical form of an article URL: tracking parameters (utm_*, fbclid, gclid, mc_cid/mc_eid…),
 * fragments, default ports, authentication and trailing slashes removed, query parameters sorted,
 * the host lowercased; `www.` and the protocol are kept. Never throws: a string that is not a web URL,
 * or that the URL parser refuses, comes back trimmed and otherwise untouched.
 */
export function canonicalUrl(url: string): string {
  const trimmed = url.trim();
  if (ALREADY_CANONICAL_RE.test(trimmed) && !trimmed.includes('/.')) return trimmed;
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
