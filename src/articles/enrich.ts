import type { Article } from './article.js';
import { isThin } from './normalize.js';
import { fetchPage } from '../sources/fetch.js';
import { enrichArticle, extractPage } from '../sources/page.js';
import { SourceError } from '../sources/types.js';
import type { Logger } from '../log.js';

/**
 * Enrichment: a thin feed item (no real lead) gets its page fetched and read; a page that fails leaves
 * the item as the feed gave it. Posting and `manchete preview` both come through here, so the preview
 * shows the lead that would be posted.
 */

export interface EnrichOptions {
  /** `allowPrivate`: FETCH_ALLOW_PRIVATE (what thin items' pages and redirects may reach). */
  fetch: { timeoutMs: number; maxBytes: number; pageMaxBytes: number; userAgent: string; fetchPages: boolean; allowPrivate?: readonly string[]; fetch?: typeof fetch };
  summaryMaxChars: number;
  /** The feed's own boilerplate patterns (routes file). */
  boilerplate: readonly RegExp[];
  /** Without one, failures are silent (the preview). */
  logger?: Logger;
  /** Pages read at once. */
  parallel?: number;
}

/** Returns a list of the same length and order; enriched items are new objects, the others the same ones. */
export async function enrichThin(list: readonly Article[], o: EnrichOptions): Promise<Article[]> {
  const out = [...list];
  if (!o.fetch.fetchPages) return out;
  // The link is feed content: hostile (http(s) only, public addresses unless FETCH_ALLOW_PRIVATE).
  const thin = out.map((a, i) => ({ a, i })).filter(({ a }) => isThin(a));
  let k = 0;
  const worker = async () => {
    while (k < thin.length) {
      const { a, i } = thin[k++]!;
      try {
        const page = await fetchPage(a.url, { ...o.fetch, maxBytes: o.fetch.pageMaxBytes, trusted: false });
        out[i] = enrichArticle(a, extractPage(page.text, page.finalUrl, { summaryMaxChars: o.summaryMaxChars, boilerplate: [...o.boilerplate] }));
      } catch (err) {
        if (err instanceof SourceError && err.details.kind === 'blocked') {
          o.logger?.warn({ event: 'fetch.blocked', url: a.url, feed: a.feedUrl, reason: err.message }, `${err.message}; posting the item as the feed gave it`);
          continue;
        }
        o.logger?.info({ event: 'page.failed', url: a.url, reason: (err as Error).message }, `could not read the page of a thin item; posting it as the feed gave it`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel ?? 4, thin.length) }, worker));
  return out;
}
