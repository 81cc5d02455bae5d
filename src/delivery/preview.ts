import type { Article } from '../articles/article.js';
import { isThin, normalizeItem } from '../articles/normalize.js';
import { fetchFeed, fetchPage } from '../sources/fetch.js';
import { parseFeed } from '../sources/parse.js';
import { enrichArticle, extractPage, pageToArticle } from '../sources/page.js';
import { SourceError } from '../sources/types.js';
import type { Renderer } from '../render/renderer.js';
import type { OutboundMessage, Platform } from '../render/types.js';

/**
 * `manchete preview`: what each platform would receive for a feed, a file or an article page, without
 * sending anything and without touching the database.
 */

export interface PreviewOptions {
  renderer: Renderer;
  platforms: Platform[];
  limit: number;
  summaryMaxChars: number;
  fetch: { timeoutMs: number; maxBytes: number; pageMaxBytes: number; userAgent: string; fetchPages: boolean; allowPrivate?: readonly string[]; fetch?: typeof fetch };
  boilerplate?: RegExp[];
  /** Take the newest articles by date instead of the first in feed order. */
  newestFirst?: boolean;
}

export interface PreviewItem {
  article: Article;
  /** What the source was read as. */
  via: 'feed' | 'page';
  telegram?: OutboundMessage[];
  whatsapp?: OutboundMessage[];
}

/** An HTML page that is an article (not a home page listing feeds). */
function looksLikeArticle(html: string): boolean {
  // Each <meta> is read once, attributes by name: a pattern with two unbounded runs inside one tag
  // backtracks quadratically on a page of unclosed or attribute-stuffed <meta> tags.
  for (const m of html.matchAll(/<meta\b([^<>]*)>/gi)) {
    const attrs = new Map<string, string>();
    for (const a of m[1]!.matchAll(/(?<![\w:-])([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))/g)) {
      attrs.set(a[1]!.toLowerCase(), (a[2] ?? a[3] ?? a[4] ?? '').toLowerCase());
    }
    const key = attrs.get('property') ?? attrs.get('name') ?? '';
    if (key === 'article:published_time') return true;
    if (key === 'og:type' && (attrs.get('content') ?? '').startsWith('article')) return true;
  }
  return false;
}

export async function preview(input: string, o: PreviewOptions): Promise<PreviewItem[]> {
  // The input is the operator's (a CLI argument or FEED_URLS): trusted. What it links to is not.
  const fetchOpts = { ...o.fetch, trusted: false };
  const first = await fetchFeed({ url: input, etag: null, lastModified: null }, { ...fetchOpts, trusted: true });
  if (first.status !== 'ok') throw new SourceError(`${input} answered 304 Not Modified to a request without validators`, input);
  let articles: Article[];
  let via: PreviewItem['via'] = 'feed';
  try {
    articles = itemsToArticles(first.text, first.finalUrl, input, o);
  } catch (err) {
    if (!(err instanceof SourceError) || err.details.kind !== 'not-a-feed') throw err;
    const alternates = err.details.alternates ?? [];
    if (alternates.length > 0 && !looksLikeArticle(first.text)) {
      const feedUrl = alternates[0]!;
      const second = await fetchFeed({ url: feedUrl, etag: null, lastModified: null }, fetchOpts);
      if (second.status !== 'ok') throw new SourceError(`${feedUrl} answered 304 Not Modified`, feedUrl);
      articles = itemsToArticles(second.text, second.finalUrl, feedUrl, o);
    } else {
      const page = extractPage(first.text, first.finalUrl, { summaryMaxChars: o.summaryMaxChars, boilerplate: o.boilerplate ?? [] });
      if (!page.title) throw new SourceError(`${input} is an HTML page without an article title or a feed`, input, { kind: 'not-a-feed' });
      articles = [pageToArticle(page, { summaryMaxChars: o.summaryMaxChars })];
      via = 'page';
    }
  }
  if (o.newestFirst)
    articles = articles
      .map((a, i) => ({ a, i }))
      .sort((x, y) => (y.a.publishedAt?.getTime() ?? -Infinity) - (x.a.publishedAt?.getTime() ?? -Infinity) || x.i - y.i)
      .map(({ a }) => a);
  const chosen = articles.slice(0, o.limit);
  if (via === 'feed' && o.fetch.fetchPages) {
    for (let i = 0; i < chosen.length; i++) {
      const a = chosen[i]!;
      if (!isThin(a) || !/^https?:/.test(a.url)) continue;
      try {
        const page = await fetchPage(a.url, { ...fetchOpts, maxBytes: o.fetch.pageMaxBytes });
        chosen[i] = enrichArticle(a, extractPage(page.text, page.finalUrl, { summaryMaxChars: o.summaryMaxChars, boilerplate: o.boilerplate ?? [] }));
      } catch {
        // A page that cannot be read leaves the feed's own text: the preview shows what would be posted.
      }
    }
  }
  return chosen.map((article) => {
    const item: PreviewItem = { article, via };
    for (const p of o.platforms) item[p] = o.renderer.render(article, p, {});
    return item;
  });
}

function itemsToArticles(text: string, baseUrl: string, feedUrl: string, o: PreviewOptions): Article[] {
  const parsed = parseFeed(text, baseUrl);
  const out: Article[] = [];
  for (const item of parsed.items) {
    const a = normalizeItem(item, { feedUrl, summaryMaxChars: o.summaryMaxChars, boilerplate: o.boilerplate ?? [] });
    if (a) out.push(a);
  }
  return out;
}

/** The `--json` line for one article: the shape documented in the README. */
export function previewJson(item: PreviewItem): string {
  const a = item.article;
  const msgs = (list: OutboundMessage[] | undefined) =>
    list?.map((m) => ({ kind: m.kind, text: m.text, ...(m.imageUrl ? { imageUrl: m.imageUrl } : {}) }));
  return JSON.stringify({
    article: {
      id: a.id,
      url: a.url,
      title: a.title,
      lead: a.lead,
      section: a.section,
      imageUrl: a.imageUrl,
      author: a.author,
      publishedAt: a.publishedAt?.toISOString() ?? null,
    },
    ...(item.telegram ? { telegram: msgs(item.telegram) } : {}),
    ...(item.whatsapp ? { whatsapp: msgs(item.whatsapp) } : {}),
  });
}

/** A human-readable block for one article, as the console shows it. */
export function previewText(item: PreviewItem, width = 72): string {
  const a = item.article;
  const head = `── ${a.section ? `${a.section} · ` : ''}${a.publishedAt ? a.publishedAt.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : 'no date'} `;
  const lines = [head + '─'.repeat(Math.max(3, width - head.length))];
  for (const p of ['telegram', 'whatsapp'] as const) {
    const list = item[p];
    if (!list) continue;
    list.forEach((m, i) => {
      lines.push(`[${p}${list.length > 1 ? ` ${i + 1}/${list.length}` : ''}] ${m.kind}${m.imageUrl ? ` + image ${m.imageUrl}` : ''}`);
      lines.push(m.text, '');
    });
  }
  return lines.join('\n');
}
