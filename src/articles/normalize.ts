/**
 * Feed item → Article: the one place where a parsed feed item becomes the normalised model every later
 * stage reads. Pure and fast (regex-based text extraction, no DOM): it runs on every item of every poll.
 */
import type { FeedItem } from '../sources/types.js';
import type { Article } from './article.js';
import { stripBoilerplate } from './boilerplate.js';
import { canonicalUrl, dedupKey, httpUrl, isWebUrl } from './canonical.js';
import { parseDate } from './dates.js';
import { summarize } from './summary.js';
import { TagScanner } from './scan.js';
import { collapseWhitespace, decodeEntities, htmlToText, inlineText } from './text.js';

/** What normalisation needs to know besides the item. */
export interface NormalizeContext {
  /** The feed the item came from (null for items that did not come from a feed). */
  feedUrl: string | null;
  /** Longest lead, in UTF-16 code units (SUMMARY_MAX_CHARS). */
  summaryMaxChars: number;
  /** The feed's own boilerplate patterns, added to the defaults. */
  boilerplate?: readonly RegExp[];
  /**
   * Longest summary or content HTML read from one item, in UTF-8 bytes (ITEM_HTML_MAX_BYTES); the rest
   * is cut before text extraction. Default `DEFAULT_ITEM_HTML_MAX_BYTES`.
   */
  itemHtmlMaxBytes?: number;
}

/** 256 KB: far more than any article's prose, little enough that no item can hold up a poll. */
export const DEFAULT_ITEM_HTML_MAX_BYTES = 256 * 1024;

/**
 * `html` cut to at most `maxBytes` UTF-8 bytes, at a character boundary. A cut tag or element is
 * harmless: the text scanners treat unclosed markup as text or drop it.
 */
export function capHtml(html: string, maxBytes: number): string {
  // Three bytes per UTF-16 unit at most: a string this short always fits, without encoding it.
  if (html.length * 3 <= maxBytes) return html;
  const buf = new Uint8Array(Math.max(0, Math.floor(maxBytes)));
  const { read } = new TextEncoder().encodeInto(html, buf);
  return read >= html.length ? html : html.slice(0, read);
}

/** The outcome of normalising one item: the article, or why the item was skipped. */
export type NormalizeResult = { ok: true; article: Article } | { ok: false; reason: string };

/**
 * How many characters of its own a page's description needs to be preferred to its body (see
 * sources/page.ts). Feed leads have no length floor: a one-line deck is a lead (see `addsWords`).
 */
export const MIN_LEAD_CHARS = 40;

/** Lowercase, accents and punctuation folded: for comparing a summary with the title. Exported for tests. */
export function fold(text: string): string {
  return foldByTable(text) ?? foldReference(text);
}

/**
 * `fold` by its definition: lower case, NFD, combining accents dropped, other runs of non-letters a
 * space. Exported so that tests can hold the table-driven path to it.
 */
export function foldReference(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * What `foldReference` makes of each BMP character on its own, learnt on first sight: its folded letters
 * (a string), SEPARATOR for a character that becomes part of a space, or SLOW for one whose fold
 * depends on its neighbours (combining marks, which NFD reorders; Σ, which lowercases to ς at the end
 * of a word; surrogates). For every other character the fold of a text is the folds of its characters
 * with the separator runs made single spaces and trimmed: lowercasing is per character apart from Σ,
 * and NFD decomposes each character on its own when no combining mark follows it in the text.
 */
const FOLDS: (string | undefined)[] = new Array<string | undefined>(0x10000).fill(undefined);
const SEPARATOR = ' ';
const SLOW = '';

function foldOf(c: number): string {
  const ch = String.fromCharCode(c);
  if (c === 0x3a3 || (c >= 0xd800 && c <= 0xdfff) || /\p{M}/u.test(ch)) return SLOW;
  const folded = ch.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  if (/^[\p{L}\p{N}]+$/u.test(folded)) return folded;
  return /^[^\p{L}\p{N}]+$/u.test(folded) ? SEPARATOR : SLOW;
}

/** `foldReference(text)` character by character (see FOLDS), or null when a character needs the reference. */
function foldByTable(text: string): string | null {
  let out = '';
  let space = false;
  // Runs of characters that fold to themselves (a-z, 0-9) are copied as slices, not one by one.
  let run = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
      if (run < 0) {
        if (space) {
          if (out !== '') out += ' ';
          space = false;
        }
        run = i;
      }
      continue;
    }
    if (run >= 0) {
      out += text.slice(run, i);
      run = -1;
    }
    let f = FOLDS[c];
    if (f === undefined) f = FOLDS[c] = foldOf(c);
    if (f === SLOW) return null;
    if (f === SEPARATOR) {
      space = true;
      continue;
    }
    if (space) {
      if (out !== '') out += ' ';
      space = false;
    }
    out += f;
  }
  return run >= 0 ? out + text.slice(run) : out;
}

/** The title, and its folded form once something needed it (folding costs an NFD pass). */
interface TitleForms {
  title: string;
  folded?: string;
  /** The words of `folded`. */
  words?: Set<string>;
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

/** How much of a candidate lead is compared with the title: enough to tell a lead from a repeat. */
const LEAD_CHECK_CHARS = 400;

/**
 * Whether `text` has a word the title does not: "Vêm coisas feias e perigosas por aí." under any title
 * does, the title again (in any case, accents or punctuation, or a few of its words) does not.
 */
function addsWords(text: string, t: TitleForms): boolean {
  const folded = fold(text.slice(0, LEAD_CHECK_CHARS));
  // Folded text is words joined by single spaces: empty when there are none.
  if (folded === '') return false;
  if (!t.title) return true;
  const titleWords = (t.words ??= new Set((t.folded ??= fold(t.title)).split(' ')));
  for (let start = 0; start <= folded.length; ) {
    let end = folded.indexOf(' ', start);
    if (end < 0) end = folded.length;
    if (!titleWords.has(folded.slice(start, end))) return true;
    start = end + 1;
  }
  return false;
}

/**
 * A lead candidate with substance: once a repeated title is set aside, it says something the title
 * does not, however short (news decks are often one short sentence).
 */
function substantial(text: string, t: TitleForms): string | null {
  const own = withoutTitle(text, t);
  return addsWords(own, t) ? own : null;
}

/** `joe@example.com (Joe Bloggs)` → `Joe Bloggs`; other author strings are cleaned up as text. */
function cleanAuthor(raw: string): string {
  const text = inlineText(raw);
  // Classes that cannot overlap, so that a string of "@"s or of brackets is read once, not retried.
  const rss = /^[^\s@()]+@[^\s()]+\s*\(([^)]+)\)$/.exec(text);
  if (rss) return rss[1]!.trim();
  return text.replace(/^(?:por|by)\s+/i, '');
}

/** Where an `<img` opener starts; where it ends is the tag scanner's business (linear, see scan.ts). */
const IMG_OPEN_RE = /<img\b/gi;
/**
 * One attribute. The lookbehind lets a name start only at the start of a word: without it, a long
 * run of name characters with no "=" would be retried from each of its characters (quadratic).
 */
const ATTR_RE = /(?<![\w:-])([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g;

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
  if (!html || !/<img/i.test(html)) return null;
  const scanner = new TagScanner(html);
  IMG_OPEN_RE.lastIndex = 0;
  for (let m = IMG_OPEN_RE.exec(html); m; m = IMG_OPEN_RE.exec(html)) {
    const end = scanner.attrEnd(m.index + 4);
    if (end < 0) continue;
    IMG_OPEN_RE.lastIndex = end + 1;
    const attrs = attributes(html.slice(m.index, end + 1));
    if (attrs.get('width') === '1' || attrs.get('height') === '1') continue;
    for (const name of ['data-src', 'data-lazy-src', 'data-original', 'src']) {
      const url = resolveUrl(attrs.get(name) ?? '', base);
      if (url && httpUrl(url)) return url;
    }
  }
  return null;
}

const IMAGE_EXT_RE = /\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)/i;

function pickImage(item: FeedItem, base: string | null, maxBytes: number): { url: string; caption: string | null; credit: string | null } | null {
  // Only http(s) pictures: a data:, file: or javascript: address is dropped (the next candidate counts).
  if (item.image?.url && httpUrl(item.image.url)) {
    return {
      url: item.image.url,
      caption: item.image.caption ? inlineText(item.image.caption) || null : null,
      credit: item.image.credit ? inlineText(item.image.credit) || null : null,
    };
  }
  const enclosure = item.enclosures.find(
    (e) => (e.type ? e.type.toLowerCase().startsWith('image/') : IMAGE_EXT_RE.test(e.url)) && httpUrl(e.url) !== null,
  );
  if (enclosure) return { url: enclosure.url, caption: null, credit: null };
  const inline =
    firstImage(item.contentHtml && capHtml(item.contentHtml, maxBytes), base) ??
    firstImage(item.summaryHtml && capHtml(item.summaryHtml, maxBytes), base);
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
  // A link a chat could not open safely (javascript:, data:, file:, tg:, relative) is no article link:
  // the item is skipped, with the reason for the caller to log.
  if (link && !httpUrl(link)) {
    return {
      ok: false,
      reason: `feed item${title ? ` "${title.slice(0, 120)}"` : ''} has a link that is not http(s) ("${link.slice(0, 120)}"); skipped`,
    };
  }
  const url = link ? canonicalUrl(link) : '';
  const extra = ctx.boilerplate ?? [];
  const maxBytes = ctx.itemHtmlMaxBytes ?? DEFAULT_ITEM_HTML_MAX_BYTES;

  const summaryText = item.summaryHtml ? stripBoilerplate(htmlToText(capHtml(item.summaryHtml, maxBytes)), extra) : '';
  const contentText = item.contentHtml ? stripBoilerplate(htmlToText(capHtml(item.contentHtml, maxBytes)), extra) : '';
  // The title is folded only if a candidate lead starts like it (rarely).
  const titleForms: TitleForms = { title };
  const leadSource = substantial(summaryText, titleForms) ?? substantial(contentText, titleForms) ?? '';
  const lead = leadSource ? summarize(leadSource, ctx.summaryMaxChars) : '';

  const { section, tags } = sectionAndTags(item.categories);
  const image = pickImage(item, link, maxBytes);
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
 * Whether the article is too thin to post as it is: it has no lead. A short lead is a lead (a deck of
 * one sentence says what the title does not), so only an empty one sends the pipeline to the article
 * page to fill the gaps with `enrichArticle`.
 */
export function isThin(article: Pick<Article, 'lead'>): boolean {
  return collapseWhitespace(article.lead).length === 0;
}
