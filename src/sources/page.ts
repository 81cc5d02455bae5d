/**
 * Article pages → article data: for a thin feed item, an editor's `/push <url>`, or `manchete preview
 * <article-url>`. Metadata comes from the page's own tags (Open Graph, `article:*`, meta description,
 * link rel=canonical, JSON-LD NewsArticle); the body from @mozilla/readability over linkedom, with
 * site boilerplate removed twice: share/newsletter/related boxes by class and id before Readability
 * (it keeps promo blocks otherwise), and promotional lines from the text after it.
 *
 * Pure: takes the HTML already fetched (`fetchPage` in fetch.ts does the network) and its URL.
 */
import { createRequire } from 'node:module';
import type { Readability as ReadabilityType } from '@mozilla/readability';
import type { parseHTML as ParseHTML } from 'linkedom';
import type { Article } from '../articles/article.js';
import { fetchPage, type FetchOptions } from './fetch.js';
import { stripBoilerplate } from '../articles/boilerplate.js';
import { canonicalUrl, dedupKey } from '../articles/canonical.js';
import { parseDate } from '../articles/dates.js';
import { isThin, MIN_LEAD_CHARS } from '../articles/normalize.js';
import { summarize } from '../articles/summary.js';
import { collapseWhitespace, decodeEntities, htmlToText } from '../articles/text.js';

/**
 * linkedom and Readability are about 13 MB of a running process, and most feeds never need a page read:
 * they are loaded (synchronously, so extractPage stays a plain function) the first time a page is.
 */
const lazyRequire = createRequire(import.meta.url);
const parseHTML: typeof ParseHTML = (...args) => (lazyRequire('linkedom') as { parseHTML: typeof ParseHTML }).parseHTML(...args);
const loadReadability = () => (lazyRequire('@mozilla/readability') as { Readability: typeof ReadabilityType }).Readability;

/** What a page says about its article. Every field may be missing on a real page. */
export interface PageArticle {
  /** The URL the page was fetched from (after redirects). */
  url: string;
  /** link rel=canonical, else og:url, resolved and canonicalised; null when the page names none. */
  canonical: string | null;
  /** og:title (site name suffix removed), else `<title>` without " - Site", else the first `<h1>`. */
  title: string | null;
  /** og:description / meta description (boilerplate out), else a summary of the body. May be empty. */
  lead: string;
  /** article:section (or JSON-LD articleSection). */
  section: string | null;
  /** article:tag values (or JSON-LD keywords / news_keywords), deduplicated. */
  tags: string[];
  /** og:image (or twitter:image / JSON-LD image), resolved against the page URL. */
  imageUrl: string | null;
  /** meta author, article:author (when not a URL), JSON-LD author, or Readability's byline. */
  author: string | null;
  publishedAt: Date | null;
  updatedAt: Date | null;
  siteName: string | null;
  /** Readable body text, boilerplate removed, paragraphs separated by blank lines. */
  body: string;
}

/** What `extractPage` needs besides the page. */
export interface ExtractPageOptions {
  summaryMaxChars: number;
  /** The feed's (or site's) own boilerplate patterns, added to the defaults. */
  boilerplate?: readonly RegExp[];
}

// The few DOM members used here. linkedom's own typings lean on the DOM lib, which this project does not
// load; these keep the extraction typed without it.
interface DomElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly innerHTML: string;
  readonly children: ArrayLike<DomElement>;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  remove(): void;
}
interface DomDocument {
  readonly body: DomElement | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

/**
 * Class or id tokens of page furniture removed before Readability: share bars, newsletter and
 * WhatsApp/Telegram calls, related/"leia também" boxes, ads, comments, breadcrumbs, tag lists.
 * Matched against each class token (or the id) as a whole word between `-`/`_` separators.
 */
export const BOILERPLATE_CLASS_RE =
  /(?:^|[-_])(?:share|sharing|sharebar|social|newsletter|related|relacionad[ao]s?|leia-?tambem|veja-?tambem|saiba-?mais|read-?more|recommend\w*|recomendad\w*|promo\w*|ads?|advert\w*|publicidade|banner|subscribe|subscription|assine|assinatura|paywall|whatsapp|telegram|comments?|comentarios|breadcrumbs?|tags|author-?box|outbrain|taboola|sponsored|patrocinado|most-?read|mais-?lidas)(?:$|[-_])/i;

/** Elements that never hold the article text. */
const FURNITURE_SELECTOR = 'aside, nav, form, iframe, [role="complementary"], [role="navigation"]';

function textLength(el: DomElement): number {
  return collapseWhitespace(el.textContent ?? '').length;
}

/** Removes boilerplate boxes, but never one that holds most of the page's text (a mis-named wrapper). */
function removeBoilerplateBoxes(document: DomDocument): void {
  const body = document.body;
  if (!body) return;
  const total = Math.max(1, textLength(body));
  const isBox = (el: DomElement): boolean => {
    const id = el.getAttribute('id') ?? '';
    if (id && BOILERPLATE_CLASS_RE.test(id)) return true;
    const cls = el.getAttribute('class') ?? '';
    return cls !== '' && cls.split(/\s+/).some((token) => token !== '' && BOILERPLATE_CLASS_RE.test(token));
  };
  const candidates = [
    ...Array.from(body.querySelectorAll(FURNITURE_SELECTOR)),
    ...Array.from(body.querySelectorAll('[class], [id]')).filter(isBox),
  ];
  for (const el of candidates) {
    if (/^(?:html|body|main|article)$/i.test(el.tagName)) continue;
    if (textLength(el) > total * 0.4) continue;
    el.remove();
  }
}

/**
 * Readability walks every node's text for every candidate, which turns quadratic on deeply nested
 * markup (a page of unclosed `<p>`s: 3.5 s for 110 KB). Past this depth it is not run.
 */
const MAX_READABLE_DEPTH = 200;

/** Whether the tree under `root` is deeper than `limit` levels. */
function deeperThan(root: DomElement, limit: number): boolean {
  const stack: [DomElement, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [el, depth] = stack.pop()!;
    if (depth > limit) return true;
    const children = el.children;
    for (let i = 0; i < children.length; i++) stack.push([children[i]!, depth + 1]);
  }
  return false;
}

/** Meta values by lowercased property/name/itemprop, in document order. */
function readMeta(document: DomDocument): Map<string, string[]> {
  const meta = new Map<string, string[]>();
  const metas = document.querySelectorAll('meta');
  for (let i = 0; i < metas.length; i++) {
    const el = metas[i]!;
    const content = el.getAttribute('content');
    if (content === null) continue;
    const value = collapseWhitespace(decodeEntities(content));
    if (!value) continue;
    const keys = `${el.getAttribute('property') ?? ''} ${el.getAttribute('name') ?? ''} ${el.getAttribute('itemprop') ?? ''}`;
    for (const key of keys.toLowerCase().split(/\s+/)) {
      if (!key) continue;
      const list = meta.get(key);
      if (list) list.push(value);
      else meta.set(key, [value]);
    }
  }
  return meta;
}

/** The interesting parts of a JSON-LD NewsArticle/Article/BlogPosting block. */
interface JsonLdArticle {
  headline?: string;
  description?: string;
  datePublished?: string;
  dateModified?: string;
  author?: string;
  section?: string;
  keywords: string[];
  image?: string;
  publisher?: string;
}

const ARTICLE_TYPES = /^(?:NewsArticle|Article|ReportageNewsArticle|AnalysisNewsArticle|OpinionNewsArticle|BlogPosting|LiveBlogPosting|WebPage|Report)$/;

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return collapseWhitespace(decodeEntities(value)) || undefined;
  if (Array.isArray(value)) return str(value[0]);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return str(o['name']) ?? str(o['url']) ?? str(o['@id']);
  }
  return undefined;
}

function readJsonLd(document: DomDocument): JsonLdArticle | null {
  const scripts = document.querySelectorAll('script[type="application/ld+json"]');
  for (let i = 0; i < scripts.length; i++) {
    let data: unknown;
    try {
      data = JSON.parse(scripts[i]!.textContent ?? '');
    } catch {
      continue;
    }
    const queue: unknown[] = [data];
    while (queue.length > 0) {
      const node = queue.shift();
      if (Array.isArray(node)) {
        queue.push(...node);
        continue;
      }
      if (!node || typeof node !== 'object') continue;
      const o = node as Record<string, unknown>;
      if (Array.isArray(o['@graph'])) queue.push(...(o['@graph'] as unknown[]));
      const types = ([] as unknown[]).concat(o['@type'] ?? []).filter((t): t is string => typeof t === 'string');
      if (!types.some((t) => ARTICLE_TYPES.test(t)) || types.includes('WebPage') && !o['headline']) continue;
      const keywords = o['keywords'];
      return {
        headline: str(o['headline']),
        description: str(o['description']),
        datePublished: str(o['datePublished']),
        dateModified: str(o['dateModified']),
        author: str(o['author']),
        section: str(o['articleSection']),
        keywords: (Array.isArray(keywords) ? keywords : typeof keywords === 'string' ? keywords.split(',') : [])
          .map((k) => (typeof k === 'string' ? collapseWhitespace(k) : ''))
          .filter(Boolean),
        image: str(o['image']),
        publisher: str(o['publisher']),
      };
    }
  }
  return null;
}

function resolve(raw: string | null | undefined, base: string): string | null {
  if (!raw) return null;
  try {
    const url = new URL(raw.trim(), base);
    return /^https?:$/.test(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const TITLE_SEPARATOR_RE = /\s+(?:[|\-–—·»:]{1,2}|::)\s+/g;
/** Separators at the end of a title; the lookbehind tries each run once (not once per character: quadratic). */
const TRAILING_SEPARATORS_RE = /(?<![\s|\-–—·»:])[\s|\-–—·»:]+$/u;

/**
 * Removes a site name from a title: "Story - BBC News" → "Story" when the site is called "BBC News".
 * With `loose` (a `<title>`), short trailing segments ("LA NACION", "07.12.2017", "Medium") go too, as
 * long as at least three words remain.
 */
function stripSiteName(title: string, siteName: string | null, loose: boolean): string {
  let t = collapseWhitespace(title);
  const site = siteName ? fold(siteName) : '';
  const parts = t.split(TITLE_SEPARATOR_RE);
  if (parts.length < 2) return t;
  if (site) {
    if (fold(parts[parts.length - 1]!) === site) return t.slice(0, t.lastIndexOf(parts[parts.length - 1]!)).replace(TRAILING_SEPARATORS_RE, '');
    if (fold(parts[0]!) === site) return t.slice(parts[0]!.length).replace(/^[\s|\-–—·»:]+/u, '');
  }
  if (!loose) return t;
  while (parts.length > 1) {
    const tail = parts[parts.length - 1]!;
    const head = parts.slice(0, -1).join(' ');
    if (tail.split(/\s+/).length > 4 || head.split(/\s+/).length < 3) break;
    t = t.slice(0, t.lastIndexOf(tail)).replace(TRAILING_SEPARATORS_RE, '');
    parts.pop();
  }
  return t;
}

function fold(text: string): string {
  return text.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^\p{L}\p{N}]+/gu, ' ').trim().replace(/^the /, '');
}

function dedupe(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = v.toLowerCase();
    if (!v || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Reads an article page: metadata from its tags, body through Readability with boilerplate removed
 * before and after, lead from the description or else the body (summarised to `summaryMaxChars`).
 * Never throws on bad HTML: a page with nothing usable gives empty fields.
 */
export function extractPage(html: string, url: string, opts: ExtractPageOptions): PageArticle {
  // linkedom builds no document element for a fragment: give it one.
  const source = /<html[\s>]/i.test(html) ? html : `<!DOCTYPE html><html><head></head><body>${html}</body></html>`;
  const { document } = parseHTML(source) as unknown as { document: DomDocument };
  const meta = readMeta(document);
  const first = (...keys: string[]): string | null => {
    for (const key of keys) {
      const value = meta.get(key)?.[0];
      if (value) return value;
    }
    return null;
  };
  const ld = readJsonLd(document);
  const extra = opts.boilerplate ?? [];

  const canonicalHref = document.querySelector('link[rel~="canonical"]')?.getAttribute('href');
  const canonicalRaw = resolve(canonicalHref, url) ?? resolve(first('og:url'), url);
  const siteName = first('og:site_name', 'application-name') ?? ld?.publisher ?? null;
  const docTitle = collapseWhitespace(document.querySelector('title')?.textContent ?? '');
  const h1 = collapseWhitespace(document.querySelector('h1')?.textContent ?? '');
  const metaTitle = first('og:title', 'twitter:title', 'dc.title') ?? ld?.headline ?? null;
  const descriptions = [
    ...['og:description', 'twitter:description', 'description', 'dc.description'].map((k) => meta.get(k)?.[0]),
    ld?.description,
  ].filter((d): d is string => !!d);
  const metaAuthor = [first('author', 'dc.creator', 'parsely-author', 'sailthru.author'), first('article:author')]
    .find((a) => a && !/^https?:\/\//i.test(a)) ?? ld?.author ?? null;
  const published =
    first('article:published_time', 'og:published_time', 'published_time', 'date', 'pubdate', 'publishdate', 'dc.date', 'dc.date.issued', 'parsely-pub-date', 'sailthru.date') ??
    ld?.datePublished ??
    null;
  const modified = first('article:modified_time', 'og:updated_time', 'modified_time', 'dc.date.modified') ?? ld?.dateModified ?? null;
  const articleTags = meta.get('article:tag') ?? [];
  const tags = dedupe(
    (articleTags.length > 0 ? articleTags : ld?.keywords.length ? ld.keywords : (first('news_keywords') ?? '').split(','))
      .map(collapseWhitespace),
  );

  // Readability changes the document: metadata is read above, boxes are removed just before it.
  let readable: ReturnType<ReadabilityType['parse']> = null;
  let fallbackHtml = '';
  try {
    removeBoilerplateBoxes(document);
    const root = document.body;
    if (root && !deeperThan(root, MAX_READABLE_DEPTH)) readable = new (loadReadability())(document as never).parse();
    // No article found (a tiny page) or too deep to look for one: the page's remaining text.
    if (!readable && root) fallbackHtml = root.innerHTML;
  } catch {
    readable = null; // a document linkedom or Readability cannot walk: metadata only
  }
  let body = stripBoilerplate(htmlToText(readable?.content ?? fallbackHtml), extra);

  let title: string | null = null;
  if (metaTitle) title = stripSiteName(metaTitle, siteName, false);
  else if (docTitle) title = stripSiteName(docTitle, siteName, true);
  else if (h1) title = h1;
  else if (readable?.title) title = collapseWhitespace(readable.title);
  // Readability keeps the headline when it cannot tell it from the title: drop it from the body.
  if (title) {
    const firstBreak = body.indexOf('\n');
    const firstLine = firstBreak < 0 ? body : body.slice(0, firstBreak);
    if (fold(firstLine) === fold(title)) body = body.slice(firstLine.length).trimStart();
  }

  const cleaned = descriptions.map((d) => stripBoilerplate(d, extra)).filter(Boolean);
  const ownLead = cleaned.find((d) => d.length >= MIN_LEAD_CHARS);
  const bodyLead = leadFromBody(body, title);
  const leadSource = ownLead ?? (bodyLead.length > (cleaned[0]?.length ?? 0) ? bodyLead : (cleaned[0] ?? ''));
  const author = metaAuthor ?? (readable?.byline ? collapseWhitespace(readable.byline) : null);

  return {
    url,
    canonical: canonicalRaw ? canonicalUrl(canonicalRaw) : null,
    title: title || null,
    lead: leadSource ? summarize(leadSource, opts.summaryMaxChars) : '',
    section: first('article:section') ?? ld?.section ?? null,
    tags,
    imageUrl: resolve(first('og:image', 'og:image:url', 'og:image:secure_url', 'twitter:image', 'twitter:image:src') ?? ld?.image, url),
    author: author ? author.replace(/^(?:por|by)\s+/i, '') : null,
    publishedAt: parseDate(published ?? readable?.publishedTime),
    updatedAt: parseDate(modified),
    siteName: siteName ?? (readable?.siteName ? collapseWhitespace(readable.siteName) : null),
    body,
  };
}

/**
 * The body from its first real paragraph on: headings, kickers ("Photo", "Análise") and the title
 * repeated above the text are skipped, as a reader's eye skips them.
 */
function leadFromBody(body: string, title: string | null): string {
  const paragraphs = body.split(/\n{2,}/);
  const foldedTitle = title ? fold(title) : '';
  const start = paragraphs.findIndex((p) => {
    const text = collapseWhitespace(p);
    return text.length >= MIN_LEAD_CHARS && fold(text) !== foldedTitle;
  });
  return start < 0 ? body : paragraphs.slice(start).join('\n\n');
}

/** What `pageToArticle` needs besides the page. */
export interface PageToArticleContext {
  /** The feed this page belongs to, if any (null for an editor push or a preview). */
  feedUrl?: string | null;
  /** When given, a lead longer than this is cut again (the page may have been read with a larger limit). */
  summaryMaxChars?: number;
}

/**
 * An Article built from a page alone (an editor's push, a preview of an article URL). Its id is the
 * `url:` dedup key of the canonical URL, so pushing the same story twice is recognised.
 */
export function pageToArticle(page: PageArticle, ctx: PageToArticleContext = {}): Article {
  const url = page.canonical ?? canonicalUrl(page.url);
  const title = page.title ?? '';
  const max = ctx.summaryMaxChars;
  const lead = max !== undefined && page.lead.length > max ? summarize(page.lead, max) : page.lead;
  return {
    id: dedupKey({ guid: null, guidIsPermalink: null, link: url, title, summary: lead }),
    url,
    title,
    lead,
    body: page.body,
    section: page.section,
    tags: [...page.tags],
    imageUrl: page.imageUrl,
    imageCaption: null,
    imageCredit: null,
    author: page.author,
    publishedAt: page.publishedAt,
    updatedAt: page.updatedAt,
    feedUrl: ctx.feedUrl ?? null,
  };
}

/** Below this many characters a feed body is only a teaser, and the page's body replaces it. */
const THIN_BODY_CHARS = 280;

/**
 * Fills the gaps of a thin feed article from its page: the lead when the feed's is thin, the body when
 * the feed gave little, and the image, section, tags, author and dates when the feed had none. The
 * article keeps its id, URL and title (they identify it), except that an empty title is filled.
 */
export function enrichArticle(article: Article, page: PageArticle): Article {
  const pageBodyBetter = page.body.length > article.body.length && article.body.length < THIN_BODY_CHARS;
  return {
    ...article,
    title: article.title || page.title || '',
    url: article.url || page.canonical || canonicalUrl(page.url),
    lead: isThin(article) && page.lead.length > article.lead.length ? page.lead : article.lead,
    body: pageBodyBetter ? page.body : article.body,
    section: article.section ?? page.section,
    tags: article.tags.length > 0 ? article.tags : [...page.tags],
    imageUrl: article.imageUrl ?? page.imageUrl,
    author: article.author ?? page.author,
    publishedAt: article.publishedAt ?? page.publishedAt,
    updatedAt: article.updatedAt ?? page.updatedAt,
  };
}

/**
 * An article page read from the web for a push: fetched within PAGE_MAX_BYTES, extracted, and turned
 * into an Article. Null when the page has no article title (nothing worth pushing). Fetch failures
 * throw the fetcher's SourceError. The URL is hostile (an editor's chat message) unless `fetch.trusted`
 * says it came from the operator's command line.
 */
export async function readArticlePage(
  url: string,
  opts: { fetch: Omit<FetchOptions, 'maxBytes'> & { pageMaxBytes: number }; summaryMaxChars: number },
): Promise<Article | null> {
  const page = await fetchPage(url, { ...opts.fetch, maxBytes: opts.fetch.pageMaxBytes });
  const extracted = extractPage(page.text, page.finalUrl, { summaryMaxChars: opts.summaryMaxChars });
  return extracted.title ? pageToArticle(extracted, { summaryMaxChars: opts.summaryMaxChars }) : null;
}
