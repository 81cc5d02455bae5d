/**
 * Feed item → Article: the one place where a parsed feed item becomes the normalised model every later
 * stage reads. Pure and fast (regex-based text extraction, no DOM): it runs on every item of every poll.
 */
import type { FeedItem } from '../sources/types.js';
import type { Article } from './article.js';
import { stripBoilerplate } from './boilerplate.js';
import { canonicalUrl, dedupKey, isWebUrl } from './canonical.js';
import { parseDate } from './dates.js';
import { summarize } from './summary.js';
import { collapseWhitespace, decodeEntities, htmlToText, inlineText } from './text.js';

/** What normalisation needs to know besides the item. */
export interface NormalizeContext {
  /** The feed the item came from (null for items that did not come from a feed). */
  feedUrl: string | null;
  /** Longest lead, in UTF-16 code units (SUMMARY_MAX_CHARS). */
  summaryMaxChars: number;
  /** The feed's own boilerplate patterns, added to the defaults. */
  boilerplate?: readonly RegExp[];
}

/** The outcome of normalising one item: the article, or why the item was skipped. */
export type NormalizeResult = { ok: true; article: Article } | { ok: false; reason: string };

/** A lead needs at least this many characters of its own text to count as a lead. */
export const MIN_LEAD_CHARS = 40;

/** Lowercase, accents and punctuation folded: for comparing a summary with the title. */
function fold(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The title, and its folded form once something needed it (folding costs an NFD pass). */
interface TitleForms {
  title: string;
  folded?: string;
}

/**
 * The part of `text` that is not the title: feeds often repeat the title at the start of the
 * description, or make the description the title alone.
 */
function withoutTitle(text: string, t: TitleForms): string {
  const { title } = t;
  if (!title || !text) return text;
  // Cheap test first: folding (NFD) costs more than comparing two letters.
  if (text.slice(0, 2).toLowerCase() !== title.slice(0, 2).toLowerCase()) return text;
  const foldedTitle = (t.folded ??= fold(title));
  if (!foldedTitle || !fold(text.slice(0, title.length + 16)).startsWith(foldedTitle)) return text;
  // Cut the repeated title: find where its folded form ends in the original text.
  for (let end = Math.max(1, title.length - 4); end <= Math.min(text.length, title.length + 16); end++) {
    if (fold(text.slice(0, end)) === foldedTitle && !/[\p{L}\p{N}]/u.test(text[end] ?? '')) {
      return text.slice(end).replace(/^[\s.:–—|-]+/u, '');
    }
  }
  return text;
}

/** A lead candidate with substance: enough text of its own once the title is set aside. */
function substantial(text: string, t: TitleForms): string | null {
  const own = withoutTitle(text, t);
  // Only the first few hundred characters matter to decide: a long body is not collapsed in full.
  return collapseWhitespace(own.slice(0, MIN_LEAD_CHARS * 4)).length >= MIN_LEAD_CHARS ? own : null;
}

/** `joe@example.com (Joe Bloggs)` → `Joe Bloggs`; other author strings are cleaned up as text. */
function cleanAuthor(raw: string): string {
  const text = inlineText(raw);
  const rss = /^\S+@\S+\s*\(([^)]+)\)$/.exec(text);
  if (rss) return rss[1]!.trim();
  return text.replace(/^(?:por|by)\s+/i, '');
}

const IMG_TAG_RE = /<img\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
const ATTR_RE = /([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g;

function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  ATTR_RE.lastIndex = 0;
  for (let m = ATTR_RE.exec(tag); m; m = ATTR_RE.exec(tag)) {
    attrs.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

function resolveUrl(raw: string, base: string | null): string | null {
  const value = raw.trim();
  if (!value || /^(?:data|javascript|about|blob):/i.test(value)) return null;
  try {
    return new URL(value, base ?? undefined).href;
  } catch {
    return null;
  }
}

/**
 * The first real image in an HTML fragment: lazy-loading attributes are preferred over a placeholder
 * `src`, tracking pixels (1×1) and data: URLs are skipped, relative URLs resolved against `base`.
 */
export function firstImage(html: string | null | undefined, base: string | null): string | null {
  if (!html || !html.includes('<img')) return null;
  IMG_TAG_RE.lastIndex = 0;
  for (let m = IMG_TAG_RE.exec(html); m; m = IMG_TAG_RE.exec(html)) {
    const attrs = attributes(m[0]);
    if (attrs.get('width') === '1' || attrs.get('height') === '1') continue;
    for (const name of ['data-src', 'data-lazy-src', 'data-original', 'src']) {
      const url = resolveUrl(attrs.get(name) ?? '', base);
      if (url && /^https?:/i.test(url)) return url;
    }
  }
  return null;
}

const IMAGE_EXT_RE = /\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)/i;

function pickImage(item: FeedItem, base: string | null): { url: string; caption: string | null; credit: string | null } | null {
  if (item.image?.url) {
    return {
      url: item.image.url,
      caption: item.image.caption ? inlineText(item.image.caption) || null : null,
      credit: item.image.credit ? inlineText(item.image.credit) || null : null,
    };
  }
  const enclosure = item.enclosures.find((e) =>
    e.type ? e.type.toLowerCase().startsWith('image/') : IMAGE_EXT_RE.test(e.url),
  );
  if (enclosure) return { url: enclosure.url, caption: null, credit: null };
  const inline = firstImage(item.contentHtml, base) ?? firstImage(item.summaryHtml, base);
  return inline ? { url: inline, caption: null, credit: null } : null;
}

function sectionAndTags(categories: readonly string[]): { section: string | null; tags: string[] } {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const raw of categories) {
    const name = inlineText(raw);
    const key = name.toLowerCase();
    if (!name || seen.has(key)) continue;
    seen.add(key);
    names.push(name);
  }
  return { section: names[0] ?? null, tags: names.slice(1) };
}

/**
 * Normalises one feed item into an Article, or says why it cannot (an item with neither a link nor a
 * title). Title: tags stripped, entities decoded, whitespace collapsed. Lead: the summary/description
 * when it has substance (≥ 40 characters of text once boilerplate and a repeated title are removed),
 * else content:encoded, else empty (see `isThin`), summarised to `summaryMaxChars`. Body: content
 * text with boilerplate removed (the description's when there is no content). Section: the first
 * category; tags: the others, deduplicated case-insensitively. Image: the item's image, else the first
 * image enclosure, else the first `<img>` of the content. Published time falls back to the updated
 * time (Atom feeds often carry only `updated`); an unparseable date is null.
 */
export function normalizeItemResult(item: FeedItem, ctx: NormalizeContext): NormalizeResult {
  const title = inlineText(item.title);
  const guid = item.guid?.trim() || null;
  const permalink = guid && item.guidIsPermalink !== false && isWebUrl(guid) ? guid : null;
  const link = item.link?.trim() || permalink;
  if (!link && !title) {
    return {
      ok: false,
      reason: `feed item${guid ? ` with guid "${guid.slice(0, 120)}"` : ''} has neither a link nor a title; skipped`,
    };
  }
  const url = link ? canonicalUrl(link) : '';
  const extra = ctx.boilerplate ?? [];

  const summaryText = item.summaryHtml ? stripBoilerplate(htmlToText(item.summaryHtml), extra) : '';
  const contentText = item.contentHtml ? stripBoilerplate(htmlToText(item.contentHtml), extra) : '';
  // The title is folded only if a candidate lead starts like it (rarely).
  const titleForms: TitleForms = { title };
  const leadSource = substantial(summaryText, titleForms) ?? substantial(contentText, titleForms) ?? '';
  const lead = leadSource ? summarize(leadSource, ctx.summaryMaxChars) : '';

  const { section, tags } = sectionAndTags(item.categories);
  const image = pickImage(item, link);
  const author = item.authors.map(cleanAuthor).find((a) => a.length > 0) ?? null;
  const updatedAt = parseDate(item.updated);

  const article: Article = {
    id: dedupKey({ guid, guidIsPermalink: item.guidIsPermalink, link, title, summary: summaryText }),
    url,
    title,
    lead,
    body: contentText || summaryText,
    section,
    tags,
    imageUrl: image?.url ?? null,
    imageCaption: image?.caption ?? null,
    imageCredit: image?.credit ?? null,
    author,
    publishedAt: parseDate(item.published) ?? updatedAt,
    updatedAt,
    feedUrl: ctx.feedUrl,
  };
  return { ok: true, article };
}

/** `normalizeItemResult` for callers that only need the article: null when the item was skipped. */
export function normalizeItem(item: FeedItem, ctx: NormalizeContext): Article | null {
  const result = normalizeItemResult(item, ctx);
  return result.ok ? result.article : null;
}

/**
 * Whether the article is too thin to post as it is: its lead has under `MIN_LEAD_CHARS` characters.
 * The pipeline then fetches the article page and fills the gaps with `enrichArticle`.
 */
export function isThin(article: Pick<Article, 'lead'>): boolean {
  return collapseWhitespace(article.lead).length < MIN_LEAD_CHARS;
}
