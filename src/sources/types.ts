/**
 * What the feed parser hands to normalisation: one shape for RSS 0.9x/1.0/2.0, Atom 0.3/1.0, RDF and
 * JSON Feed 1.0/1.1 (and WordPress REST posts). Strings are as the feed gave them (HTML kept in
 * `summaryHtml` / `contentHtml`), URLs already resolved against the feed's base; dates are the raw strings.
 */
export interface FeedItem {
  guid: string | null;
  /** Whether the guid is a permalink (RSS isPermaLink); null when unknown. */
  guidIsPermalink: boolean | null;
  link: string | null;
  title: string | null;
  /** description / summary / JSON Feed summary (may hold HTML). */
  summaryHtml: string | null;
  /** content:encoded / Atom content / JSON Feed content_html (or content_text escaped). */
  contentHtml: string | null;
  categories: string[];
  authors: string[];
  /** pubDate / published / issued / dc:date / date_published, raw. */
  published: string | null;
  /** Atom updated / modified / dc:modified / date_modified, raw. */
  updated: string | null;
  /** Best image: media:content/thumbnail, enclosure image/*, JSON Feed image/banner_image, itunes:image. */
  image: { url: string; caption: string | null; credit: string | null } | null;
  enclosures: { url: string; type: string | null; length: number | null }[];
}

export interface ParsedFeed {
  format: 'rss' | 'atom' | 'rdf' | 'json' | 'wordpress';
  title: string | null;
  /** The site's home page. */
  link: string | null;
  language: string | null;
  /** RSS `<ttl>` in minutes, when given: a floor between polls. */
  ttlMinutes: number | null;
  items: FeedItem[];
}

/** The polling state of one feed that fetching reads and updates. */
export interface FeedState {
  url: string;
  etag: string | null;
  lastModified: string | null;
}

export type FetchOutcome =
  | { status: 'not-modified'; finalUrl: string; maxAgeS: number | null }
  | {
      status: 'ok';
      /** The URL the body came from, after redirects. */
      finalUrl: string;
      /** Set when every redirect on the way was permanent (301/308): poll this URL from now on. */
      permanentUrl: string | null;
      /** Decoded text. */
      text: string;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
      /** Cache-Control max-age in seconds, when given. */
      maxAgeS: number | null;
      /** The HTTP Link header, raw (WebSub hub discovery reads it); null when absent. */
      link: string | null;
    };

/** Any failure to get a usable feed: the message says what happened, to which URL, and what to do. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly details: {
      status?: number;
      /** For an HTML page given as a feed: the feeds it advertises. */
      alternates?: string[];
      cause?: unknown;
      /** 'blocked': refused by the fetch guard (a local file or a private address from hostile input). */
      kind?: 'http' | 'timeout' | 'too-large' | 'network' | 'not-a-feed' | 'parse' | 'file' | 'blocked';
    } = {},
  ) {
    super(message);
    this.name = 'SourceError';
  }
}
