import { generateOpml, parseOpml, type Opml } from 'feedsmith';

/**
 * OPML 2.0, the subscription-list format every feed reader imports and exports, read and written with
 * feedsmith (never by hand: its parser copes with the entity and namespace oddities real exports carry,
 * and its generator escapes attributes). Manchete keeps two things of its own per feed as outline
 * attributes: `category` (the section; an OPML 2.0 attribute) and `interval` (one other readers ignore).
 */

/** One feed of an OPML file. */
export interface OpmlFeed {
  url: string;
  title: string | null;
  /** The outline's `category`, else the folder (parent outline) it sits in. */
  section: string | null;
  /** `interval` as written (`5m`); the caller parses it. */
  interval: string | null;
}

/** What an OPML file is not (the message names the file's problem in one line). */
export class OpmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpmlError';
  }
}

const EXTRA = ['interval'] as const;
/** Outlines deeper than this are not read: a hostile file cannot recurse the reader to a stack overflow. */
const MAX_DEPTH = 32;

type Outline = Opml.Outline<string, typeof EXTRA>;

/**
 * Every feed outline (one with `xmlUrl`) of an OPML document, nested folders included, in document
 * order and without repeats (the first occurrence wins). Throws OpmlError for what is not OPML.
 */
export function readOpml(text: string): OpmlFeed[] {
  let doc: Opml.Document<string, typeof EXTRA>;
  try {
    doc = parseOpml(text.replace(/^\uFEFF/, ''), { extraOutlineAttributes: EXTRA });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'MalformedError') throw new OpmlError('the file is not well-formed XML (a tag or an attribute is broken or cut short)');
    throw new OpmlError('the file is not OPML (there is no <opml> document with a <body>)');
  }
  const out: OpmlFeed[] = [];
  const seen = new Set<string>();
  const walk = (outlines: readonly Outline[] | undefined, folder: string | null, depth: number) => {
    if (!outlines || depth > MAX_DEPTH) return;
    for (const o of outlines) {
      const url = o.xmlUrl?.trim();
      if (url) {
        if (!seen.has(url)) {
          seen.add(url);
          out.push({
            url,
            // An untitled feed is written with its URL as its text (OPML requires one): that is no title.
            title: [o.title, o.text].map((t) => t?.trim()).find((t) => t && t !== url) ?? null,
            section: firstCategory(o.category) ?? folder,
            interval: typeof o.interval === 'string' ? o.interval.trim() || null : null,
          });
        }
      }
      // A feed outline may hold children too (some readers nest); a folder names their section.
      walk(o.outlines, url ? folder : ((o.title ?? o.text)?.trim() || folder), depth + 1);
    }
  };
  walk(doc.body?.outlines as Outline[] | undefined, null, 0);
  return out;
}

/** OPML's `category` is a comma-separated list of slash paths: `/Política,/Brasil/SP` → `Política`. */
function firstCategory(category: string | undefined): string | null {
  const first = category?.split(',')[0]?.trim().replace(/^\/+|\/+$/g, '');
  if (!first) return null;
  return first.split('/').pop()!.trim() || null;
}

/** One feed to write. */
export interface OpmlOut {
  url: string;
  title: string | null;
  section: string | null;
  /** As the operator gave it (`5m`), or null. */
  interval: string | null;
}

/** An OPML 2.0 document of the feeds, flat (one outline per feed, the section as `category`). */
export function writeOpml(feeds: readonly OpmlOut[], opts: { title: string; now?: Date }): string {
  const outlines: Outline[] = feeds.map((f) => ({
    text: f.title ?? f.url,
    ...(f.title ? { title: f.title } : {}),
    type: 'rss',
    xmlUrl: f.url,
    ...(f.section ? { category: f.section } : {}),
    ...(f.interval ? { interval: f.interval } : {}),
  }));
  // OPML 2.0's <body> holds one or more outlines (feedsmith refuses an empty one): with no feed, a
  // comment outline says so, and reading the file back finds no feed in it.
  if (outlines.length === 0) outlines.push({ text: 'no feeds', isComment: true });
  return generateOpml({ head: { title: opts.title, dateCreated: opts.now ?? new Date() }, body: { outlines } }, { extraOutlineAttributes: EXTRA });
}
