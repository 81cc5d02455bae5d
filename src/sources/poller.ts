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

/**
 * Spreading polls over the interval. Every feed has a phase, a fixed place in its interval stored with
 * the feed (millionths of the interval): its polls land on a grid anchored at the epoch,
 * `k × period + phase × period`. So 10,000 feeds with a 10-minute interval poll about 17 a second instead
 * of all on the same minute, and the grid is the same after a restart: the schedule is a property of the
 * feed, not of when the process started.
 */
export const PHASE_SCALE = 1_000_000;

/** FNV-1a, 32 bits: a cheap, well-spread hash of a feed URL. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A new feed's phase: its URL's hash plus a random part, modulo one interval. The hash spreads feeds even
 * with a fixed random source (tests); the random part keeps two installations that share a popular feed
 * from polling it in step.
 */
export function pollPhase(url: string, random: () => number = Math.random): number {
  const f = (fnv1a(url) / 2 ** 32 + random()) % 1;
  return Math.min(PHASE_SCALE - 1, Math.floor(f * PHASE_SCALE));
}

/** The first slot of a feed's grid strictly after `fromMs`. */
export function slotAfter(fromMs: number, periodMs: number, phase: number): number {
  const offset = Math.floor((phase / PHASE_SCALE) * periodMs);
  return (Math.floor((fromMs - offset) / periodMs) + 1) * periodMs + offset;
}

/**
 * When a feed that answered at `fromMs` polls next: the first slot of its grid at least half a period
 * later. A poll that ran a little late (a busy host, a tick) comes back to its own slot, so lateness never
 * accumulates; a feed's first poll (at any time) joins its grid within one and a half periods.
 */
export function nextSlot(fromMs: number, periodMs: number, phase: number): number {
  return slotAfter(fromMs + periodMs / 2, periodMs, phase);
}

/** The period between a feed's polls: its interval, or its own Cache-Control/ttl floor when longer (capped). */
export function pollPeriodMs(intervalMs: number, floorS: number | null): number {
  return Math.max(intervalMs, Math.min(MAX_FLOOR_MS, (floorS ?? 0) * 1000));
}
