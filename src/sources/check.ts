import type { Article } from '../articles/article.js';
import { fetchFeed, type FetchOptions } from './fetch.js';
import { articlesFromFeed } from './poller.js';
import { SourceError } from './types.js';

/**
 * "Does this URL work as a feed?", asked before a feed is added at run time (`manchete feeds add`,
 * `feeds import`): one guarded fetch and a parse through the same functions as polling, so a feed that
 * passes here is one the poll can read. Nothing is written.
 *
 * The URL is treated as hostile (`trusted: false`): an OPML file is often someone else's list, and a
 * feed added at run time is polled for as long as it stays, so it must be http(s) and reach only public
 * addresses (or FETCH_ALLOW_PRIVATE), on every hop.
 */

export interface FeedCheckOptions {
  fetch: Omit<FetchOptions, 'trusted' | 'accept'>;
  summaryMaxChars: number;
  itemHtmlMaxBytes?: number;
  /** The section items without one get (the feed's `--section`), so the sample shows what would be posted. */
  section?: string | null;
}

export type FeedCheck =
  | { ok: true; url: string; finalUrl: string; title: string | null; items: number; sample: Article[] }
  | { ok: false; url: string; kind: NonNullable<SourceError['details']['kind']> | 'invalid-url' | 'internal'; reason: string };

/** How many articles a check keeps to show. */
const SAMPLE = 3;

export async function checkFeed(url: string, o: FeedCheckOptions): Promise<FeedCheck> {
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    return { ok: false, url, kind: 'invalid-url', reason: `"${url}" is not a URL; give the feed's http(s) address` };
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')
    return { ok: false, url, kind: 'invalid-url', reason: `${url} is not an http(s) URL; feeds added at run time are web addresses (local files go in FEED_URLS)` };
  try {
    const got = await fetchFeed({ url, etag: null, lastModified: null }, { ...o.fetch, trusted: false });
    if (got.status !== 'ok') return { ok: false, url, kind: 'http', reason: `${url} answered 304 Not Modified to a request without validators` };
    const read = articlesFromFeed(got.text, got.finalUrl, url, {
      summaryMaxChars: o.summaryMaxChars,
      section: o.section ?? null,
      ...(o.itemHtmlMaxBytes ? { itemHtmlMaxBytes: o.itemHtmlMaxBytes } : {}),
    });
    return { ok: true, url, finalUrl: got.finalUrl, title: read.title, items: read.articles.length, sample: read.articles.slice(0, SAMPLE) };
  } catch (err) {
    if (err instanceof SourceError) return { ok: false, url, kind: err.details.kind ?? 'network', reason: oneLine(err.message) };
    return { ok: false, url, kind: 'internal', reason: oneLine(err instanceof Error ? err.message : String(err)) };
  }
}

const oneLine = (s: string) => s.split('\n')[0]!;
