/**
 * The Article: one story, normalised from whatever source brought it (a feed item, a WordPress post,
 * a page an editor pushed, a CMS webhook). Every later stage (routing, rendering, delivery) reads
 * only this shape, never the raw feed.
 */
export interface Article {
  /** Dedup key: stable guid, else canonical URL, else a content hash. Survives restarts. */
  id: string;
  /** Canonical URL of the story (tracking parameters and fragments removed). */
  url: string;
  title: string;
  /** Chat-sized summary: boilerplate removed, cut at a sentence boundary. May be empty. */
  lead: string;
  /** Plain-text body when known (content:encoded or the page), boilerplate removed. May be empty. */
  body: string;
  /** Section or main category ("Mundo", "Política"), as the site names it. */
  section: string | null;
  tags: string[];
  imageUrl: string | null;
  imageCaption: string | null;
  imageCredit: string | null;
  author: string | null;
  /** Null when the source gave no date or one that could not be parsed: never silently "now". */
  publishedAt: Date | null;
  updatedAt: Date | null;
  /** The feed this came from, or null for a push, a webhook or a page. */
  feedUrl: string | null;
}
