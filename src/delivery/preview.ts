import type { Article } from '../articles/article.js';
import { enrichThin } from '../articles/enrich.js';
import { fetchFeed } from '../sources/fetch.js';
import { articlesFromFeed } from '../sources/poller.js';
import { extractPage, pageToArticle } from '../sources/page.js';
import { SourceError } from '../sources/types.js';
import type { Renderer } from '../render/renderer.js';
import type { OutboundMessage, Platform } from '../render/types.js';
import type { RouteFeed } from './routes-file.js';
import type { DestinationOptions } from './types.js';
import { explainRouting, type RoutingExplanation } from './filters.js';

/**
 * `manchete preview`: what each platform would receive for a feed, a file or an article page, without
 * sending anything and without touching the database. It reads, enriches and renders through the same
 * functions as posting (sources/poller.ts, articles/enrich.ts, the renderer with the destination's
 * options), with the routes file's settings for the feed, so what it shows is what would be posted.
 */

export interface PreviewOptions {
  renderer: Renderer;
  platforms: Platform[];
  limit: number;
  summaryMaxChars: number;
  fetch: { timeoutMs: number; maxBytes: number; pageMaxBytes: number; userAgent: string; fetchPages: boolean; allowPrivate?: readonly string[]; fetch?: typeof fetch };
  boilerplate?: RegExp[];
  /** The routes file's feeds: a feed listed there is read with its section default and boilerplate. */
  feedSettings?: ReadonlyMap<string, RouteFeed>;
  /**
   * The configured destinations, in configuration order: each platform is rendered with the options of
   * its first destination (locale, UTM tags, template), as that destination would receive it.
   */
  destinations?: readonly { id?: string; platform: Platform; options: DestinationOptions }[];
  /** `--explain`: say for each destination whether each article would go there, and why (delivery/filters.ts). */
  explain?: boolean;
  /** ITEM_HTML_MAX_BYTES. */
  itemHtmlMaxBytes?: number;
  /** Take the newest articles by date instead of the first in feed order. */
  newestFirst?: boolean;
}

export interface PreviewItem {
  article: Article;
  /** What the source was read as. */
  via: 'feed' | 'page';
  telegram?: OutboundMessage[];
  whatsapp?: OutboundMessage[];
  /** With `explain`: one verdict per configured destination, in configuration order. */
  explain?: RoutingExplanation[];
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
  const enriched =
    via === 'feed'
      ? await enrichThin(chosen, { fetch: o.fetch, summaryMaxChars: o.summaryMaxChars, boilerplate: settingsFor(o, chosen[0]?.feedUrl ?? input).boilerplate ?? [] })
      : chosen;
  return enriched.map((article) => {
    const item: PreviewItem = { article, via };
    for (const p of o.platforms) item[p] = o.renderer.render(article, p, o.destinations?.find((d) => d.platform === p)?.options ?? {});
    // The same decision routing makes when the article is posted (feeds, sections, include/exclude).
    if (o.explain) item.explain = explainRouting(article, (o.destinations ?? []).map((d) => ({ id: d.id ?? d.platform, options: d.options })));
    return item;
  });
}

/** What the routes file says about a feed, with the preview's own boilerplate when it names none. */
function settingsFor(o: PreviewOptions, feedUrl: string): { boilerplate?: RegExp[]; section?: string | null } {
  const f = o.feedSettings?.get(feedUrl);
  return { boilerplate: [...(o.boilerplate ?? []), ...(f?.boilerplate ?? [])], section: f?.section ?? null };
}

function itemsToArticles(text: string, baseUrl: string, feedUrl: string, o: PreviewOptions): Article[] {
  return articlesFromFeed(text, baseUrl, feedUrl, {
    summaryMaxChars: o.summaryMaxChars,
    ...settingsFor(o, feedUrl),
    ...(o.itemHtmlMaxBytes ? { itemHtmlMaxBytes: o.itemHtmlMaxBytes } : {}),
  }).articles;
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
    ...(item.explain ? { explain: item.explain.map((e) => ({ destination: e.destination, pass: e.pass, reason: e.reason })) } : {}),
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
  if (item.explain) {
    if (item.explain.length === 0) lines.push('[routing] no destination is configured (TELEGRAM_CHATS, WHATSAPP_CHATS, ROUTES_FILE)', '');
    for (const e of item.explain) lines.push(`[routing] ${e.destination}: ${e.pass ? 'goes' : 'does not go'} (${e.reason})`);
    if (item.explain.length) lines.push('');
  }
  return lines.join('\n');
}

/**
 * The destinations a preview renders for, from the configuration alone (no platform is loaded): each
 * platform's env chats in order, then the routes file's entries; a routes entry for a chat the env also
 * names gives that chat its options, as the platform modules do when they build their destinations.
 */
export function previewDestinations(
  env: { telegram: readonly string[]; whatsapp: readonly string[] },
  routes: readonly { platform: Platform; chat: string; options: DestinationOptions }[],
): { id: string; platform: Platform; options: DestinationOptions }[] {
  const out: { id: string; platform: Platform; options: DestinationOptions }[] = [];
  for (const platform of ['telegram', 'whatsapp'] as const) {
    const own = routes.filter((r) => r.platform === platform);
    // `platform:chat` is the destination id (`telegram:-1001234:42` for a topic), as /status names it.
    for (const chat of env[platform]) out.push({ id: `${platform}:${chat}`, platform, options: own.find((r) => r.chat === chat)?.options ?? {} });
    for (const r of own) if (!env[platform].includes(r.chat)) out.push({ id: `${platform}:${r.chat}`, platform, options: r.options });
  }
  return out;
}
