import type { Article } from '../articles/article.js';
import { normalizeItemResult } from '../articles/normalize.js';
import { backoffMs } from '../lib/backoff.js';
import { parseFeed } from './parse.js';

/**
 * The poller's pure parts: a feed's text → articles (parse, normalise, the routes file's section
 * default), and when to poll next (interval, the feed's own Cache-Control/ttl floor, failure backoff).
 * Posting and `manchete preview` read feeds through `articlesFromFeed`, so both see the same articles.
 */

/** What the routes file says about one feed, as far as reading it goes. */
export interface FeedReading {
  summaryMaxChars: number;
  /** The feed's own boilerplate patterns, added to the defaults. */
  boilerplate?: readonly RegExp[];
  /** The section given to items that name none (the routes file's `section`). */
  section?: string | null;
  /** ITEM_HTML_MAX_BYTES. */
  itemHtmlMaxBytes?: number;
}

export interface FeedArticles {
  title: string | null;
  ttlMinutes: number | null;
  articles: Article[];
  /** Items that could not be read, with the reason (the caller logs them). */
  skipped: string[];
}

/** Parses a feed document and normalises its items; throws the parser's SourceError for what is not a feed. */
export function articlesFromFeed(text: string, baseUrl: string, feedUrl: string, o: FeedReading): FeedArticles {
  const parsed = parseFeed(text, baseUrl);
  const articles: Article[] = [];
  const skipped: string[] = [];
  for (const item of parsed.items) {
    const r = normalizeItemResult(item, {
      feedUrl,
      summaryMaxChars: o.summaryMaxChars,
      boilerplate: o.boilerplate ?? [],
      ...(o.itemHtmlMaxBytes ? { itemHtmlMaxBytes: o.itemHtmlMaxBytes } : {}),
    });
    if (!r.ok) {
      skipped.push(r.reason);
      continue;
    }
    if (!r.article.section && o.section) r.article.section = o.section;
    articles.push(r.article);
  }
  return { title: parsed.title ?? null, ttlMinutes: parsed.ttlMinutes ?? null, articles, skipped };
}

/** The longest a failing feed waits between tries. */
export const MAX_BACKOFF_MS = 60 * 60_000;
/** A feed's own Cache-Control/ttl is a floor between polls, but never more than this. */
export const MAX_FLOOR_MS = 60 * 60_000;

/** The feed's own floor between polls, in seconds: the larger of max-age and the RSS ttl; null for none. */
export function floorSeconds(maxAgeS: number | null, ttlMinutes: number | null): number | null {
  const v = Math.max(maxAgeS ?? 0, (ttlMinutes ?? 0) * 60);
  return v > 0 ? v : null;
}

/** When a feed that answered is polled next: its interval, or its own floor when that is longer (capped). */
export function nextPollAt(from: Date, intervalMs: number, maxAgeS: number | null, ttlMinutes: number | null): Date {
  const floor = Math.min(MAX_FLOOR_MS, (floorSeconds(maxAgeS, ttlMinutes) ?? 0) * 1000);
  return new Date(from.getTime() + Math.max(intervalMs, floor));
}

/**
 * How long a feed that failed `failures` times in a row waits: its interval × 2^failures, at most
 * an hour, jittered (lib/backoff.ts) so feeds that failed together do not come back together.
 */
export function failureWaitMs(failures: number, intervalMs: number, random: () => number = Math.random): number {
  return backoffMs(failures + 1, { baseMs: intervalMs, capMs: MAX_BACKOFF_MS }, random);
}
