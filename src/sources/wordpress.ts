/**
 * WordPress REST posts (`/wp-json/wp/v2/posts?_embed`) as a feed. Many Brazilian newsrooms run
 * WordPress; the REST answer carries what RSS often lacks (featured image with caption and credit,
 * categories and tags by name, GMT dates) and is not cut to the RSS excerpt length.
 *
 * Only `_embed`ded names are used: without `_embed`, authors and terms are bare ids and are left out
 * rather than fetched one by one.
 */
import { z } from 'zod';
import { decodeBasicEntities } from './discover.js';
import { SourceError } from './types.js';
import type { FeedItem, ParsedFeed } from './types.js';

const rendered = z.object({ rendered: z.string() }).partial().nullish();

const term = z.object({ name: z.string().optional(), taxonomy: z.string().optional() });

const media = z.object({
  source_url: z.string().optional(),
  alt_text: z.string().nullish(),
  caption: rendered,
  media_type: z.string().nullish(),
  mime_type: z.string().nullish(),
  media_details: z
    .object({
      image_meta: z.object({ credit: z.string().nullish(), caption: z.string().nullish() }).partial().nullish(),
    })
    .partial()
    .nullish(),
});

const post = z.object({
  id: z.union([z.number(), z.string()]).optional(),
  link: z.string().nullish(),
  guid: rendered,
  title: z.object({ rendered: z.string() }),
  excerpt: rendered,
  content: rendered,
  date: z.string().nullish(),
  date_gmt: z.string().nullish(),
  modified: z.string().nullish(),
  modified_gmt: z.string().nullish(),
  jetpack_featured_media_url: z.string().nullish(),
  _embedded: z
    .object({
      // Entries can be error objects ({ code: 'rest_user_invalid_id' }) when an author is private.
      author: z.array(z.object({ name: z.string().optional() }).passthrough()).nullish(),
      'wp:featuredmedia': z.array(media.passthrough()).nullish(),
      'wp:term': z.array(z.array(term.passthrough()).nullish()).nullish(),
    })
    .partial()
    .nullish(),
});

type Post = z.infer<typeof post>;

/**
 * True when `json` looks like a WordPress REST answer: one post, or an array of objects with `title.rendered`.
 * An empty array is not claimed (it could be anything).
 */
export function isWordPressPosts(json: unknown): boolean {
  const first = Array.isArray(json) ? json[0] : json;
  if (typeof first !== 'object' || first === null) return false;
  const title = (first as { title?: unknown }).title;
  return typeof title === 'object' && title !== null && typeof (title as { rendered?: unknown }).rendered === 'string';
}

/**
 * Map WordPress REST posts onto the feed model, format 'wordpress'. Accepts the array of a posts
 * listing or a single post object. Posts that do not have the REST shape are skipped; if none has it,
 * a SourceError of kind 'parse' says so. Dates come from the `*_gmt` fields with a `Z` added (WordPress
 * leaves the zone out of them), falling back to the site-local `date` as written.
 */
export function parseWordPressPosts(json: unknown, baseUrl: string): ParsedFeed {
  const list: unknown[] = Array.isArray(json) ? json : [json];
  const items: FeedItem[] = [];
  for (const entry of list) {
    const parsed = post.safeParse(entry);
    if (parsed.success) items.push(toItem(parsed.data, baseUrl));
  }
  if (items.length === 0 && list.length > 0) {
    throw new SourceError(`feed ${baseUrl} is JSON but not a list of WordPress posts (no title.rendered)`, baseUrl, { kind: 'parse' });
  }
  return { format: 'wordpress', title: null, link: siteHome(baseUrl), language: null, ttlMinutes: null, items };
}

function toItem(p: Post, baseUrl: string): FeedItem {
  const embedded = p._embedded ?? {};
  const terms = (embedded['wp:term'] ?? []).flat().filter((t): t is NonNullable<typeof t> => !!t);
  const named = (taxonomy: string) =>
    terms.filter((t) => t.taxonomy === taxonomy && t.name).map((t) => decodeBasicEntities(t.name!).trim());
  return {
    guid: text(p.guid?.rendered) ?? (p.id !== undefined ? String(p.id) : null),
    guidIsPermalink: false,
    link: url(p.link, baseUrl),
    title: text(decodeBasicEntities(p.title.rendered)),
    summaryHtml: text(p.excerpt?.rendered),
    contentHtml: text(p.content?.rendered),
    categories: unique([...named('category'), ...named('post_tag')]),
    authors: unique((embedded.author ?? []).map((a) => (a.name ?? '').trim())),
    published: gmt(p.date_gmt) ?? text(p.date),
    updated: gmt(p.modified_gmt) ?? text(p.modified),
    image: featuredImage(embedded['wp:featuredmedia']?.[0], p.jetpack_featured_media_url, baseUrl),
    enclosures: [],
  };
}

function featuredImage(
  m: z.infer<typeof media> | undefined,
  jetpack: string | null | undefined,
  baseUrl: string,
): FeedItem['image'] {
  const src = url(m?.source_url, baseUrl) ?? url(jetpack, baseUrl);
  if (!src) return null;
  const caption = text(stripTags(m?.caption?.rendered ?? '')) ?? text(m?.media_details?.image_meta?.caption) ?? text(m?.alt_text);
  return { url: src, caption, credit: text(m?.media_details?.image_meta?.credit) };
}

/** WordPress writes GMT dates without a zone: `2019-03-11T11:46:53`. */
function gmt(value: string | null | undefined): string | null {
  const v = text(value);
  if (!v) return null;
  return /(?:Z|[+-]\d\d:?\d\d)$/i.test(v) ? v : `${v}Z`;
}

/** `https://site/wp-json/wp/v2/posts?_embed` → `https://site/`. */
function siteHome(baseUrl: string): string | null {
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    const i = u.pathname.indexOf('/wp-json');
    return new URL(i >= 0 ? u.pathname.slice(0, i + 1) : '/', u.origin).href;
  } catch {
    return null;
  }
}

function stripTags(html: string): string {
  return decodeBasicEntities(html.replace(/<[^<>]*>/g, ' ')).replace(/\s+/g, ' ');
}

function text(v: string | null | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

function url(v: string | null | undefined, base: string): string | null {
  const t = text(v);
  if (!t) return null;
  try {
    return new URL(t, base).href;
  } catch {
    return t;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}
