/**
 * Feed text to the one ParsedFeed shape, whatever the format: RSS 0.9x/1.0/2.0, Atom 0.3/1.0, RDF,
 * JSON Feed 1.0/1.1, and WordPress REST posts. feedsmith does the XML/JSON reading (it tolerates the
 * bare `&`, `&nbsp;` and unescaped `<br>` real feeds contain); this module maps its per-format objects
 * onto FeedItem, picks the best link and image, and resolves relative URLs.
 *
 * Pure: text in, value out. Dates stay raw strings (the articles stage parses them). Anything that is
 * not a usable feed becomes a SourceError whose message says what the text is and what to do.
 */
import { parseFeed as feedsmithParse, DetectError, MalformedError, ParseError } from 'feedsmith';
import { detectAtomFeed, detectRdfFeed, detectRssFeed } from 'feedsmith';
import type { AnyFeed, AtomFeed, JsonFeed, MediaNs, RdfFeed, RssFeed } from 'feedsmith';
import { findFeedLinks, looksLikeHtml } from './discover.js';
import { isWordPressPosts, parseWordPressPosts } from './wordpress.js';
import { SourceError } from './types.js';
import type { FeedItem, ParsedFeed } from './types.js';

type Image = NonNullable<FeedItem['image']>;
type Enclosure = FeedItem['enclosures'][number];

/**
 * Parse a feed. `baseUrl` is where the text came from (the final URL after redirects, or a file:// URL):
 * it names the feed in errors and is the last resort for resolving relative links.
 *
 * @throws SourceError kind 'not-a-feed' for an HTML page (with the feeds it advertises in `alternates`)
 *   or a document in no feed format; kind 'parse' for malformed or truncated XML/JSON.
 */
export function parseFeed(text: string, baseUrl: string): ParsedFeed {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body === '') {
    throw new SourceError(`feed ${baseUrl} is empty: there is no content to read`, baseUrl, { kind: 'parse' });
  }
  if (body[0] === '{' || body[0] === '[') return parseJson(body, baseUrl);
  if (looksLikeHtml(body)) throw htmlError(body, baseUrl);
  checkRootClosed(body, baseUrl);

  let parsed: AnyFeed<string>;
  try {
    parsed = feedsmithParse<string>(body);
  } catch (err) {
    // feedsmith reports a well-formed feed with nothing in it as a ParseError: that is an empty feed.
    const format = err instanceof ParseError ? xmlFormat(body) : null;
    if (format) return emptyFeed(format);
    throw feedsmithError(err, body, baseUrl);
  }
  return mapParsed(parsed, baseUrl, channelBase(body));
}

/** feedsmith reads xml:base on the root element only; RSS feeds also put it on <channel>. */
function channelBase(body: string): string | undefined {
  const m = /<channel\b[^>]*?\sxml:base\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(body.slice(0, 8192));
  return m ? (m[1] ?? m[2]) : undefined;
}

function xmlFormat(body: string): ParsedFeed['format'] | null {
  if (detectRssFeed(body)) return 'rss';
  if (detectAtomFeed(body)) return 'atom';
  if (detectRdfFeed(body)) return 'rdf';
  return null;
}

function emptyFeed(format: ParsedFeed['format']): ParsedFeed {
  return { format, title: null, link: null, language: null, ttlMinutes: null, items: [] };
}

function mapParsed(parsed: AnyFeed<string>, baseUrl: string, channelXmlBase?: string): ParsedFeed {
  try {
    switch (parsed.format) {
      case 'rss':
        return mapRss(parsed.feed, baseUrl, channelXmlBase);
      case 'atom':
        return mapAtom(parsed.feed, baseUrl);
      case 'rdf':
        return mapRdf(parsed.feed, baseUrl);
      case 'json':
        return mapJson(parsed.feed, baseUrl);
    }
  } catch (cause) {
    // A shape feedsmith let through that the mapping did not expect: still one clear error, never a crash.
    throw new SourceError(`feed ${baseUrl} has an unexpected structure: ${oneLine(cause)}`, baseUrl, { kind: 'parse', cause });
  }
}

// ---------------------------------------------------------------------------------------------------
// Errors

function htmlError(html: string, baseUrl: string): SourceError {
  const alternates = findFeedLinks(html, baseUrl);
  const [first, ...rest] = alternates;
  const message = first
    ? `${baseUrl} is an HTML page, not a feed; it advertises ${first}${rest.length ? ` (and ${rest.join(', ')})` : ''} — use that URL`
    : `${baseUrl} is an HTML page, not a feed, and it advertises none; look for the site's RSS link (often /feed or /rss)`;
  return new SourceError(message, baseUrl, { kind: 'not-a-feed', alternates });
}

function feedsmithError(err: unknown, body: string, baseUrl: string): SourceError {
  if (err instanceof DetectError) {
    const root = rootElement(body);
    const what = root ? `its root element is <${root}>` : `it starts with "${body.slice(0, 40).replace(/\s+/g, ' ')}"`;
    return new SourceError(`${baseUrl} is not a feed: ${what}, not RSS, Atom, RDF or JSON Feed`, baseUrl, {
      kind: 'not-a-feed',
      cause: err,
    });
  }
  if (err instanceof MalformedError) {
    const reason = err.cause ? oneLine(err.cause) : 'the parser rejected it';
    return new SourceError(`feed ${baseUrl} is not valid XML: ${reason}`, baseUrl, { kind: 'parse', cause: err });
  }
  return new SourceError(`feed ${baseUrl} could not be parsed: ${oneLine(err)}`, baseUrl, { kind: 'parse', cause: err });
}

/** The name of the first element after the prolog (declaration, comments, doctype), or null. */
function rootElement(body: string): string | null {
  const m = /^(?:\s*(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>))*\s*<([A-Za-z_][\w.:-]*)/.exec(
    body.slice(0, 8192),
  );
  return m ? m[1]! : null;
}

/**
 * A download cut short still parses "fine" in a lenient parser, silently losing items. A feed whose root
 * element is never closed is reported instead.
 */
function checkRootClosed(body: string, baseUrl: string): void {
  const root = rootElement(body);
  if (!root) return;
  const start = body.indexOf(`<${root}`);
  const tagEnd = body.indexOf('>', start);
  if (tagEnd < 0) {
    throw new SourceError(`feed ${baseUrl} is not valid XML: it ends inside the <${root}> tag (truncated download?)`, baseUrl, {
      kind: 'parse',
    });
  }
  if (body[tagEnd - 1] === '/') return;
  // Some generators forget only the final </rss>: a document that ends right after </channel> is whole.
  // Looked for from the end, where it is: a feed is large and its root closes last.
  if (body.lastIndexOf(`</${root}`) < tagEnd && !/<\/channel>\s*$/.test(body)) {
    throw new SourceError(
      `feed ${baseUrl} is not valid XML: it ends before </${root}> (the document is truncated or malformed)`,
      baseUrl,
      { kind: 'parse' },
    );
  }
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split('\n')[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

// ---------------------------------------------------------------------------------------------------
// JSON: JSON Feed or WordPress REST

function parseJson(body: string, baseUrl: string): ParsedFeed {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new SourceError(`feed ${baseUrl} is not valid JSON: ${oneLine(cause)}`, baseUrl, { kind: 'parse', cause });
  }
  if (isWordPressPosts(json)) return parseWordPressPosts(json, baseUrl);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SourceError(`${baseUrl} is JSON but neither a JSON Feed nor a list of WordPress posts`, baseUrl, { kind: 'not-a-feed' });
  }
  // Some JSON Feeds write "version": "1.0" instead of the spec's URL; their shape says what they are.
  const items = (json as { items?: unknown }).items;
  const input = Array.isArray(items) && !isJsonFeedVersion(json) ? { ...json, version: 'https://jsonfeed.org/version/1.1' } : json;
  let parsed: AnyFeed<string>;
  try {
    parsed = feedsmithParse<string>(input);
  } catch (cause) {
    if (cause instanceof ParseError) return emptyFeed('json');
    if (cause instanceof DetectError) {
      throw new SourceError(
        `${baseUrl} is JSON but not a JSON Feed (no "version": "https://jsonfeed.org/version/1.1" and no "items" list)`,
        baseUrl,
        { kind: 'not-a-feed', cause },
      );
    }
    throw new SourceError(`feed ${baseUrl} is an invalid JSON Feed: ${oneLine(cause)}`, baseUrl, { kind: 'parse', cause });
  }
  return mapParsed(parsed, baseUrl);
}

function isJsonFeedVersion(json: object): boolean {
  const v = (json as { version?: unknown }).version;
  return typeof v === 'string' && v.includes('jsonfeed.org/version/');
}

// ---------------------------------------------------------------------------------------------------
// RSS 0.9x / 2.0

function mapRss(feed: RssFeed.Feed<string>, baseUrl: string, channelXmlBase: string | undefined): ParsedFeed {
  const rootBase = resolveUrl(feed.xml?.base, baseUrl);
  const xmlBase = resolveUrl(channelXmlBase, rootBase ?? baseUrl) ?? rootBase;
  const channelLink = resolveUrl(feed.link, xmlBase ?? baseUrl) ?? alternateLink(feed.atom?.links, xmlBase ?? baseUrl);
  const feedBase = xmlBase ?? httpOnly(channelLink) ?? baseUrl;
  const ttl = typeof feed.ttl === 'number' && Number.isFinite(feed.ttl) && feed.ttl > 0 ? feed.ttl : null;
  return {
    format: 'rss',
    title: clean(feed.title) ?? clean(feed.dc?.titles?.[0]),
    link: channelLink,
    language: clean(feed.language) ?? clean(feed.dc?.languages?.[0]),
    ttlMinutes: ttl,
    items: (feed.items ?? []).map((item) => mapRssItem(item, feedBase)),
  };
}

function mapRssItem(item: RssFeed.Item<string>, feedBase: string): FeedItem {
  const base = resolveUrl(item.xml?.base, feedBase) ?? feedBase;
  const guid = clean(item.guid?.value);
  const isPermalink = guid ? (item.guid?.isPermaLink ?? true) : null;
  const permalinkGuid = guid && isPermalink && /^https?:\/\//i.test(guid) ? guid : null;
  const atom = item.atom;
  const contentHtml = html(item.content?.encoded, base) ?? atomContent(atom?.content, base);
  const summaryHtml =
    html(item.description ?? item.dc?.descriptions?.[0] ?? item.itunes?.summary ?? item.itunes?.subtitle, base) ??
    atomText(atom?.summary, base) ??
    mediaSummary(item.media, base);
  const rssList = rssEnclosures(item.enclosures, base);
  const atomList = atomEnclosures(atom?.links, base);
  const enclosures = atomList.length === 0 ? rssList : [...rssList, ...atomList];
  return {
    guid,
    guidIsPermalink: isPermalink,
    link: resolveUrl(item.link, base) ?? alternateLink(atom?.links, base) ?? permalinkGuid,
    title: clean(item.title) ?? clean(item.dc?.titles?.[0]) ?? clean(atom?.title?.value),
    summaryHtml,
    contentHtml,
    categories: unique(
      (item.categories ?? []).map((c) => c.name),
      item.dc?.subjects,
      atomCategories(atom?.categories),
    ),
    authors: unique(
      (item.authors ?? []).map(personName),
      item.dc?.creators,
      item.itunes?.author ? [item.itunes.author] : undefined,
      (atom?.authors ?? []).map((a) => a.name ?? a.email),
    ),
    published:
      clean(item.pubDate) ??
      clean(item.dc?.dates?.[0]) ??
      clean(item.dcterms?.issued?.[0]) ??
      clean(item.dcterms?.created?.[0]) ??
      clean(atom?.published),
    updated: clean(atom?.updated) ?? clean(item.dcterms?.modified?.[0]),
    image: pickImage({
      media: item.media,
      enclosures,
      itunesImage: item.itunes?.image,
      html: [contentHtml, summaryHtml],
      base,
    }),
    enclosures,
  };
}

function rssEnclosures(list: RssFeed.Item<string>['enclosures'], base: string): Enclosure[] {
  const out: Enclosure[] = [];
  for (const e of list ?? []) {
    const url = resolveUrl(e.url, base);
    if (url) out.push({ url, type: clean(e.type), length: positive(e.length) });
  }
  return out;
}

function personName(p: RssFeed.Person): string | undefined {
  return p.name ?? p.email ?? p.link;
}

// ---------------------------------------------------------------------------------------------------
// Atom 0.3 / 1.0

function mapAtom(feed: AtomFeed.Feed<string>, baseUrl: string): ParsedFeed {
  const xmlBase = resolveUrl(feed.xml?.base, baseUrl);
  // Atom resolves against xml:base, else the document's own URL; the alternate link only helps local files.
  const docBase = xmlBase ?? httpOnly(baseUrl);
  const link = alternateLink(feed.links, docBase ?? baseUrl);
  const feedBase = docBase ?? httpOnly(link) ?? baseUrl;
  return {
    format: 'atom',
    title: clean(feed.title?.value),
    link,
    language: clean(feed.xml?.lang) ?? clean(feed.dc?.languages?.[0]),
    ttlMinutes: null,
    items: (feed.entries ?? []).map((entry) => mapAtomEntry(entry, feedBase, feed.authors)),
  };
}

function mapAtomEntry(entry: AtomFeed.Entry<string>, feedBase: string, feedAuthors: AtomFeed.Person[] | undefined): FeedItem {
  const base = resolveUrl(entry.xml?.base, feedBase) ?? feedBase;
  const id = clean(entry.id);
  const contentHtml = atomContent(entry.content, base);
  const summaryHtml = atomText(entry.summary, base) ?? html(entry.dc?.descriptions?.[0], base) ?? mediaSummary(entry.media, base);
  const enclosures = atomEnclosures(entry.links, base);
  const authors = (entry.authors?.length ? entry.authors : (entry.source?.authors ?? feedAuthors ?? [])).map((a) => a.name ?? a.email);
  return {
    guid: id,
    guidIsPermalink: null,
    link: alternateLink(entry.links, base) ?? (id && /^https?:\/\//i.test(id) ? id : null),
    title: clean(entry.title?.value) ?? clean(entry.dc?.titles?.[0]),
    summaryHtml,
    contentHtml,
    categories: unique(atomCategories(entry.categories), entry.dc?.subjects),
    authors: unique(authors, entry.dc?.creators),
    published:
      clean(entry.published) ??
      clean(entry.dc?.dates?.[0]) ??
      clean(entry.dcterms?.issued?.[0]) ??
      clean(entry.dcterms?.created?.[0]),
    updated: clean(entry.updated) ?? clean(entry.dcterms?.modified?.[0]),
    image: pickImage({
      media: entry.media,
      enclosures,
      itunesImage: entry.itunes?.image,
      html: [contentHtml, summaryHtml],
      base,
    }),
    enclosures,
  };
}

/** Atom links: rel="alternate" (or no rel) preferring text/html; never self, edit, enclosure or replies. */
function alternateLink(links: AtomFeed.Link<string>[] | undefined, base: string): string | null {
  if (!links?.length) return null;
  const alternates = links.filter((l) => (l.rel ?? 'alternate').toLowerCase() === 'alternate' && l.href);
  const best =
    alternates.find((l) => !l.type || /html/i.test(l.type)) ??
    alternates[0] ??
    links.find((l) => l.href && !/^(self|edit|enclosure|replies|hub|next|previous|first|last|license)$/i.test(l.rel ?? ''));
  return best ? resolveUrl(best.href, base) : null;
}

function atomEnclosures(links: AtomFeed.Link<string>[] | undefined, base: string): Enclosure[] {
  const out: Enclosure[] = [];
  for (const l of links ?? []) {
    if ((l.rel ?? '').toLowerCase() !== 'enclosure') continue;
    const url = resolveUrl(l.href, base);
    if (url) out.push({ url, type: clean(l.type), length: positive(l.length) });
  }
  return out;
}

function atomCategories(list: AtomFeed.Category[] | undefined): string[] {
  return (list ?? []).map((c) => c.label ?? c.term ?? '');
}

/** Atom text constructs: HTML for type html/xhtml, escaped for plain text (unless it plainly holds markup). */
function atomText(t: AtomFeed.Text | undefined, base: string): string | null {
  if (!t) return null;
  return textOrHtml(t.value, t.type, resolveUrl(t.xml?.base, base) ?? base);
}

function atomContent(c: AtomFeed.Content | undefined, base: string): string | null {
  if (!c?.value) return null;
  const type = c.type?.toLowerCase();
  // Binary or non-text media types (Atom allows any MIME type) are not article text.
  if (type && type.includes('/') && !type.startsWith('text/') && !type.includes('xml') && !type.includes('html')) return null;
  return textOrHtml(c.value, c.type, resolveUrl(c.xml?.base, base) ?? base);
}

function textOrHtml(value: string | undefined, type: string | undefined, base: string): string | null {
  const t = (type ?? 'text').toLowerCase();
  if (t === 'text' || t === 'text/plain') return plainToHtml(value, base);
  return html(value, base);
}

// ---------------------------------------------------------------------------------------------------
// RDF (RSS 1.0)

function mapRdf(feed: RdfFeed.Feed<string>, baseUrl: string): ParsedFeed {
  const xmlBase = resolveUrl(feed.xml?.base, baseUrl);
  const link = resolveUrl(feed.link, xmlBase ?? baseUrl);
  const feedBase = xmlBase ?? httpOnly(link) ?? baseUrl;
  return {
    format: 'rdf',
    title: clean(feed.title) ?? clean(feed.dc?.titles?.[0]),
    link,
    language: clean(feed.dc?.languages?.[0]),
    ttlMinutes: null,
    items: (feed.items ?? []).map((item) => mapRdfItem(item, feedBase)),
  };
}

function mapRdfItem(item: RdfFeed.Item<string>, feedBase: string): FeedItem {
  const base = resolveUrl(item.xml?.base, feedBase) ?? feedBase;
  const contentHtml = html(item.content?.encoded, base);
  const summaryHtml = html(item.description ?? item.dc?.descriptions?.[0], base);
  const about = clean(item.rdf?.about);
  return {
    guid: clean(item.dc?.identifiers?.[0]) ?? about,
    guidIsPermalink: null,
    link: resolveUrl(item.link, base) ?? (about && /^https?:\/\//i.test(about) ? about : null),
    title: clean(item.title) ?? clean(item.dc?.titles?.[0]),
    summaryHtml,
    contentHtml,
    categories: unique(item.dc?.subjects ?? []),
    authors: unique(item.dc?.creators ?? []),
    published: clean(item.dc?.dates?.[0]) ?? clean(item.dcterms?.issued?.[0]) ?? clean(item.dcterms?.created?.[0]),
    updated: clean(item.dcterms?.modified?.[0]),
    image: pickImage({ media: item.media, enclosures: [], html: [contentHtml, summaryHtml], base }),
    enclosures: [],
  };
}

// ---------------------------------------------------------------------------------------------------
// JSON Feed 1.0 / 1.1

function mapJson(feed: JsonFeed.Feed<string>, baseUrl: string): ParsedFeed {
  const home = resolveUrl(feed.home_page_url, baseUrl);
  const feedBase = httpOnly(baseUrl) ?? httpOnly(home) ?? baseUrl;
  return {
    format: 'json',
    title: clean(feed.title),
    link: home,
    language: clean(feed.language),
    ttlMinutes: null,
    items: (feed.items ?? []).map((item) => mapJsonItem(item, feedBase, feed.authors)),
  };
}

function mapJsonItem(item: JsonFeed.Item<string>, base: string, feedAuthors: JsonFeed.Author[] | undefined): FeedItem {
  const contentHtml = html(item.content_html, base) ?? plainToHtml(item.content_text, base);
  // JSON Feed's summary is plain text by the spec.
  const summaryHtml = plainToHtml(item.summary, base);
  const enclosures: Enclosure[] = [];
  for (const a of item.attachments ?? []) {
    const url = resolveUrl(a.url, base);
    if (url) enclosures.push({ url, type: clean(a.mime_type), length: positive(a.size_in_bytes) });
  }
  const imageUrl = resolveUrl(item.image, base) ?? resolveUrl(item.banner_image, base);
  const id = item.id === undefined || item.id === null ? null : clean(String(item.id));
  return {
    guid: id,
    guidIsPermalink: null,
    link: resolveUrl(item.url, base) ?? resolveUrl(item.external_url, base),
    title: clean(item.title),
    summaryHtml,
    contentHtml,
    categories: unique(item.tags ?? []),
    authors: unique((item.authors?.length ? item.authors : (feedAuthors ?? [])).map((a) => a.name ?? a.url)),
    published: clean(item.date_published),
    updated: clean(item.date_modified),
    image: imageUrl
      ? { url: imageUrl, caption: null, credit: null }
      : pickImage({ enclosures, html: [contentHtml, summaryHtml], base }),
    enclosures,
  };
}

// ---------------------------------------------------------------------------------------------------
// Images

interface ImageSources {
  media?: MediaNs.ItemOrFeed | undefined;
  enclosures: Enclosure[];
  itunesImage?: string | undefined;
  html: (string | null)[];
  base: string;
}

/**
 * The best picture for an item, in order: media:content images (the default one, else the widest),
 * media:group contents, media:thumbnail, an image enclosure, itunes:image, then the first real `<img>`
 * of the content or summary (tracking pixels and emoji skipped).
 */
function pickImage(s: ImageSources): Image | null {
  const m = s.media;
  const itemCredit = firstCredit(m?.credits);
  const direct = imageFromContents(m?.contents, undefined, s.base, itemCredit);
  if (direct) return direct;
  for (const g of m?.groups ?? []) {
    const found = imageFromContents(g.contents, g, s.base, itemCredit);
    if (found) return found;
  }
  const thumbs = [
    ...(m?.thumbnails ?? []),
    ...(m?.contents ?? []).flatMap((c) => c.thumbnails ?? []),
    ...(m?.groups ?? []).flatMap((g) => [...(g.thumbnails ?? []), ...(g.contents ?? []).flatMap((c) => c.thumbnails ?? [])]),
  ];
  const thumb = widest(thumbs);
  const thumbUrl = thumb && resolveUrl(thumb.url, s.base);
  if (thumbUrl) {
    const caption = clean(m?.description?.value) ?? clean(m?.groups?.[0]?.description?.value);
    return { url: thumbUrl, caption: caption && caption.length <= 300 ? caption : null, credit: itemCredit };
  }
  const enclosure = s.enclosures.find((e) => (e.type ? e.type.toLowerCase().startsWith('image/') : IMAGE_EXT.test(e.url)));
  if (enclosure) return { url: enclosure.url, caption: null, credit: itemCredit };
  const itunes = resolveUrl(s.itunesImage, s.base);
  if (itunes) return { url: itunes, caption: null, credit: null };
  for (const h of s.html) {
    const img = h ? firstImageInHtml(h, s.base) : null;
    if (img) return { url: img, caption: null, credit: null };
  }
  return null;
}

/** The default image of media:content elements (else the widest), with its caption and credit. */
function imageFromContents(
  contents: MediaNs.Content[] | undefined,
  group: MediaNs.Group | undefined,
  base: string,
  itemCredit: string | null,
): Image | null {
  const images = (contents ?? []).filter(isImageContent);
  const best = images.find((c) => c.isDefault) ?? widest(images);
  const url = best && resolveUrl(best.url, base);
  if (!best || !url) return null;
  return {
    url,
    caption: clean(best.description?.value) ?? clean(best.title?.value) ?? clean(group?.description?.value) ?? null,
    credit: firstCredit(best.credits) ?? firstCredit(group?.credits) ?? itemCredit,
  };
}

const IMAGE_EXT = /\.(jpe?g|png|gif|webp|avif)(?:[?#]|$)/i;

function isImageContent(c: MediaNs.Content): boolean {
  if (!c.url) return false;
  if (c.medium) return c.medium.toLowerCase() === 'image';
  if (c.type) return c.type.toLowerCase().startsWith('image/');
  return IMAGE_EXT.test(c.url);
}

function widest<T extends { width?: number }>(list: T[]): T | undefined {
  let best: T | undefined;
  for (const x of list) if (!best || (x.width ?? 0) > (best.width ?? 0)) best = x;
  return best;
}

function firstCredit(credits: MediaNs.Credit[] | undefined): string | null {
  for (const c of credits ?? []) {
    const v = clean(c.value);
    if (v) return v;
  }
  return null;
}

function mediaSummary(m: MediaNs.ItemOrFeed | undefined, base: string): string | null {
  const d = m?.description ?? m?.groups?.[0]?.description;
  return d ? textOrHtml(d.value, d.type === 'html' ? 'html' : 'text', base) : null;
}

/** The first `<img src>` that is a picture and not a tracking pixel, a feed-service beacon or an emoji. */
function firstImageInHtml(html: string, base: string): string | null {
  if (!html.includes('<img') && !html.includes('<IMG')) return null;
  for (const m of html.matchAll(/<img\b([^<>]*)>/gi)) {
    const attrs = m[1]!;
    const src = /\ssrc\s*=\s*(?:"([^"]+)"|'([^']+)'|([^\s>"']+))/i.exec(` ${attrs}`);
    const value = src?.[1] ?? src?.[2] ?? src?.[3];
    if (!value || /^data:/i.test(value)) continue;
    if (/\s(?:width|height)\s*=\s*["']?[01]["'\s/>]/i.test(` ${attrs} `)) continue;
    if (/wp-smiley|emoji|feeds\.feedburner\.com|feedsportal|\/pixel|doubleclick|gravatar\.com\/avatar|stats\.wordpress/i.test(`${attrs}`)) continue;
    const url = resolveUrl(value, base);
    if (url) return url;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/** Trimmed string without control characters (illegal in XML, and in chat messages), or null when blank. */
function clean(v: unknown): string | null {
  if (typeof v !== 'string') return typeof v === 'number' ? String(v) : null;
  const t = (CONTROL.test(v) ? v.replace(CONTROLS, '') : v).trim();
  return t === '' ? null : t;
}

function positive(n: unknown): number | null {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
}

/** The cleaned, non-blank values of the lists, in order, each once. */
function unique(...lists: (readonly (string | undefined | null)[] | undefined)[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const values of lists) {
    for (const v of values ?? []) {
      const t = clean(v);
      if (t && !seen.has(t)) {
        seen.add(t);
        out.push(t);
      }
    }
  }
  return out;
}

/**
 * Absolute URL of `value` against `base`; the trimmed value itself when it cannot be resolved. A relative
 * URL in a local file with no web base (no xml:base, no http feed link) stays relative: resolving it to
 * `file:///…` would invent an address.
 */
function resolveUrl(value: string | undefined | null, base: string): string | null {
  const v = clean(value);
  if (!v) return null;
  if (ABSOLUTE.test(v)) {
    if (isSerializedUrl(v)) return v;
    try {
      return new URL(v).href;
    } catch {
      return v;
    }
  }
  if (!/^https?:/i.test(base)) return v;
  try {
    return new URL(v, base).href;
  } catch {
    return v;
  }
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * An absolute http(s) address already written as the URL parser writes it: lowercase ASCII host
 * without port, a path, and only characters the parser leaves as they are in the path, query and
 * fragment. Most feed links are; for them `new URL(v).href` is `v`, and the parse is skipped.
 */
const SERIALIZED_URL_RE =
  /^https?:\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)+)\/[\w\-.~!$&'()*+,;=:@/%]*(?:\?[\w\-.~!$&()*+,;=:@/?%]*)?(?:#[\w\-.~!$&'()*+,;=:@/?%]*)?$/;
/** Hosts the parser rewrites or checks: a last label it reads as a number (IPv4), an IDNA label. */
const PARSED_HOST_RE = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$|(?:^|\.)xn--/;

function isSerializedUrl(v: string): boolean {
  const m = SERIALIZED_URL_RE.exec(v);
  // Dot segments ("/./", "/../", also written %2e) are resolved by the parser.
  return m !== null && !PARSED_HOST_RE.test(m[1]!) && !v.includes('/.') && !/%2e/i.test(v);
}

/** `url` when it is http(s), else null: a file:// or unresolvable base is a poor base for a site's links. */
function httpOnly(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

/** HTML from the feed, with relative `href`/`src` made absolute so later stages can use them as they are. */
function html(value: string | undefined | null, base: string): string | null {
  const v = clean(value);
  if (!v) return null;
  return absolutiseHtml(v, base);
}

/** Plain text as HTML: escaped, blank lines as paragraphs, line breaks kept. Markup a feed mislabels as text is kept. */
function plainToHtml(value: string | undefined | null, base: string): string | null {
  const v = clean(value);
  if (!v) return null;
  if (/<\/?(p|br|a|div|span|img|b|i|em|strong|ul|ol|li|h[1-6]|blockquote|figure)\b[^>]*>/i.test(v)) return absolutiseHtml(v, base);
  const escaped = v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (!/\n/.test(escaped)) return escaped;
  return escaped
    .split(/\n\s*\n/)
    .map((p) => `<p>${p.trim().replace(/\n/g, '<br>')}</p>`)
    .join('');
}

const RELATIVE_ATTR = /(\s(?:href|src|poster)\s*=\s*)(["'])(?![a-z][a-z0-9+.-]*:|#)([^"']*)\2/gi;

function absolutiseHtml(value: string, base: string): string {
  if (!/^https?:/i.test(base)) return value;
  return value.replace(RELATIVE_ATTR, (whole, prefix: string, quote: string, url: string) => {
    if (url === '') return whole;
    try {
      return `${prefix}${quote}${new URL(url.replace(/&amp;/g, '&'), base).href.replace(/&/g, '&amp;')}${quote}`;
    } catch {
      return whole;
    }
  });
}
