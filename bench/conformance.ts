/**
 * `npm run conformance -- <dir> [--verbose]`: how Manchete's feed parsing compares with gofeed's expected
 * outputs. It walks `<dir>` for `X.xml` beside `X.json` (and JSON Feeds as `X.json` beside
 * `X_expected.json`), parses each feed with `parseFeed`, and compares the fields Manchete uses: feed title
 * and link, item count, and per item the title, link, guid, published instant, content and description
 * presence, categories, authors, enclosures and image.
 *
 * gofeed writes three kinds of oracle: its universal model (`feedType` present: translator/, extensions/),
 * and its RSS and Atom parser models (parser/rss, parser/atom), which name fields as the formats do.
 * Fields a model does not carry are not compared. A check counts when either side has a value.
 *
 * It is a report: the exit code is 0 whatever the score, 1 only when the folder is missing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDate } from '../src/articles/dates.js';
import { decodeBody } from '../src/sources/decode.js';
import { parseFeed } from '../src/sources/parse.js';
import type { FeedItem, ParsedFeed } from '../src/sources/types.js';

type Json = Record<string, unknown>;

/** What an oracle asserts about one item; undefined means the oracle's model has no such field. */
interface ExpectedItem {
  title?: string | null;
  link?: string | null;
  guid?: string | null;
  /** An instant, null for none, or 'unparsed' when gofeed kept a raw date it could not read. */
  published?: Date | null | 'unparsed';
  content?: boolean;
  description?: boolean;
  categories?: string[];
  authors?: string[];
  enclosures?: string[];
  image?: string | null;
}

interface Expected {
  model: 'universal' | 'rss' | 'atom' | 'json';
  title?: string | null;
  link?: string | null;
  items: ExpectedItem[];
}

const FIELDS = [
  'parse',
  'feed.title',
  'feed.link',
  'item count',
  'title',
  'link',
  'guid',
  'published',
  'content',
  'description',
  'categories',
  'authors',
  'enclosures',
  'image',
] as const;
type Field = (typeof FIELDS)[number];

interface Tally {
  pass: number;
  fail: number;
}

interface Failure {
  file: string;
  field: Field;
  where: string;
  expected: unknown;
  actual: unknown;
}

function main(): void {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose') || args.includes('-v');
  const dirArg = args.find((a) => !a.startsWith('-'));
  if (!dirArg) {
    console.error('usage: npm run conformance -- <dir> [--verbose]   (e.g. ../shared/corpora/gofeed/testdata)');
    process.exit(1);
  }
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    console.error(`conformance: folder ${dir} does not exist; give the folder holding X.xml beside X.json`);
    process.exit(1);
  }

  const tallies = new Map<Field, Tally>(FIELDS.map((f) => [f, { pass: 0, fail: 0 }]));
  const failures: Failure[] = [];
  const cases = findCases(dir);
  let perfect = 0;
  for (const c of cases) {
    const before = failures.length;
    runCase(c, dir, tallies, failures);
    if (failures.length === before) perfect++;
  }

  printTable(tallies, cases.length, perfect, dir);
  if (verbose) {
    console.log('\nFailures:');
    for (const f of failures) {
      console.log(`  ${f.file}  ${f.field}${f.where}\n      expected ${show(f.expected)}\n      got      ${show(f.actual)}`);
    }
  } else if (failures.length) {
    console.log('\n(--verbose lists each failure)');
  }
}

interface Case {
  feed: string;
  oracle: string;
}

function findCases(dir: string): Case[] {
  const out: Case[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        walk(p);
      } else if (name.endsWith('.xml')) {
        const oracle = p.slice(0, -4) + '.json';
        if (existsSync(oracle)) out.push({ feed: p, oracle });
      } else if (name.endsWith('.json') && !name.endsWith('_expected.json')) {
        const oracle = p.slice(0, -5) + '_expected.json';
        if (existsSync(oracle)) out.push({ feed: p, oracle });
      }
    }
  };
  walk(dir);
  return out;
}

function runCase(c: Case, dir: string, tallies: Map<Field, Tally>, failures: Failure[]): void {
  const file = relative(dir, c.feed);
  const count = (field: Field, ok: boolean, where: string, expected: unknown, actual: unknown) => {
    const t = tallies.get(field)!;
    if (ok) t.pass++;
    else {
      t.fail++;
      failures.push({ file, field, where, expected, actual });
    }
  };

  let oracleJson: Json;
  try {
    oracleJson = JSON.parse(readFileSync(c.oracle, 'utf8')) as Json;
  } catch {
    return; // Not an oracle we can read: not a case.
  }
  let parsed: ParsedFeed;
  try {
    parsed = parseFeed(decodeBody(readFileSync(c.feed), null), pathToFileURL(c.feed).href);
    count('parse', true, '', 'a feed', 'a feed');
  } catch (err) {
    count('parse', false, '', 'a feed', err instanceof Error ? err.message : String(err));
    return;
  }
  const expected = readOracle(oracleJson, parsed.format);

  const compare = (field: Field, where: string, exp: unknown, act: unknown, equal: (a: never, b: never) => boolean) => {
    if (exp === undefined) return; // The oracle's model has no such field.
    const expEmpty = isEmpty(exp);
    const actEmpty = isEmpty(act);
    if (expEmpty && actEmpty) return;
    count(field, !expEmpty && !actEmpty && equal(exp as never, act as never), where, exp, act);
  };

  compare('feed.title', '', expected.title, parsed.title, sameText);
  compare('feed.link', '', expected.link, parsed.link, sameUrl);
  count('item count', expected.items.length === parsed.items.length, '', expected.items.length, parsed.items.length);

  const n = Math.min(expected.items.length, parsed.items.length);
  for (let i = 0; i < n; i++) {
    const e = expected.items[i]!;
    const a: FeedItem = parsed.items[i]!;
    const at = ` [item ${i}]`;
    compare('title', at, e.title, a.title, sameText);
    compare('link', at, e.link, a.link, sameUrl);
    compare('guid', at, e.guid, a.guid, sameText);
    if (e.published !== 'unparsed') {
      const actual = parseDate(a.published);
      compare('published', at, e.published, actual, (x: Date, y: Date) => x.getTime() === y.getTime());
    }
    if (e.content !== undefined) count('content', e.content === (a.contentHtml !== null), at, e.content, a.contentHtml);
    if (e.description !== undefined) {
      count('description', e.description === (a.summaryHtml !== null), at, e.description, a.summaryHtml);
    }
    compare('categories', at, e.categories, a.categories, sameSet);
    compare('authors', at, e.authors, a.authors, sameSet);
    compare('enclosures', at, e.enclosures, a.enclosures.map((x) => x.url), sameUrlSet);
    compare('image', at, e.image, a.image?.url ?? null, sameUrl);
  }
}

// ---------------------------------------------------------------------------------------------------
// Oracles

function readOracle(o: Json, format: ParsedFeed['format']): Expected {
  if ('feedType' in o) return universal(o);
  if (format === 'atom' || 'entries' in o) return atomModel(o);
  if (format === 'json' || 'home_page_url' in o) return jsonModel(o);
  return rssModel(o);
}

function universal(o: Json): Expected {
  return {
    model: 'universal',
    title: str(o.title),
    link: str(o.link),
    items: list(o.items).map((it) => ({
      title: str(it.title),
      link: str(it.link),
      guid: str(it.guid),
      published: instant(it.publishedParsed, it.published),
      content: !!str(it.content),
      description: !!str(it.description),
      categories: list<unknown>(it.categories).filter((c): c is string => typeof c === 'string'),
      authors: list(it.authors).map((a) => str(a.name) ?? str(a.email) ?? ''),
      enclosures: list(it.enclosures).map((e) => str(e.url) ?? ''),
      image: str(obj(it.image)?.url),
    })),
  };
}

function rssModel(o: Json): Expected {
  return {
    model: 'rss',
    title: str(o.title),
    link: str(o.link),
    items: list(o.items).map((it) => ({
      title: str(it.title),
      link: str(it.link),
      guid: str(obj(it.guid)?.value),
      published: instant(it.pubDateParsed, it.pubDate),
      content: !!str(it.content),
      description: !!str(it.description),
      categories: list(it.categories).map((c) => str(c.value) ?? ''),
      enclosures: [...(obj(it.enclosure) ? [obj(it.enclosure)!] : []), ...list(it.enclosures)]
        .map((e) => str(e.url) ?? '')
        .filter((u, i, all) => all.indexOf(u) === i),
    })),
  };
}

function atomModel(o: Json): Expected {
  const alternate = (links: Json[]) =>
    str(links.find((l) => (str(l.rel) ?? 'alternate') === 'alternate')?.href) ?? null;
  return {
    model: 'atom',
    title: str(o.title),
    link: alternate(list(o.links)),
    items: list(o.entries).map((it) => ({
      title: str(it.title),
      link: alternate(list(it.links)),
      guid: str(it.id),
      published: instant(it.publishedParsed, it.published),
      content: !!str(obj(it.content)?.value),
      description: !!str(it.summary),
      categories: list(it.categories).map((c) => str(c.label) ?? str(c.term) ?? ''),
      authors: list(it.authors).map((a) => str(a.name) ?? str(a.email) ?? ''),
      enclosures: list(it.links)
        .filter((l) => str(l.rel) === 'enclosure')
        .map((l) => str(l.href) ?? ''),
    })),
  };
}

function jsonModel(o: Json): Expected {
  return {
    model: 'json',
    title: str(o.title),
    link: str(o.home_page_url),
    items: list(o.items).map((it) => ({
      title: str(it.title),
      link: str(it.url),
      guid: str(it.id),
      published: instant(undefined, it.date_published),
      content: !!(str(it.content_html) ?? str(it.content_text)),
      description: !!str(it.summary),
      categories: list<unknown>(it.tags).filter((c): c is string => typeof c === 'string'),
      authors: [...list(it.authors), ...(obj(it.author) ? [obj(it.author)!] : [])].map((a) => str(a.name) ?? ''),
      enclosures: list(it.attachments).map((e) => str(e.url) ?? ''),
      image: str(it.image) ?? str(it.banner_image),
    })),
  };
}

function instant(parsed: unknown, raw: unknown): Date | null | 'unparsed' {
  const p = str(parsed);
  if (p) {
    const d = new Date(p);
    return Number.isNaN(d.getTime()) ? 'unparsed' : d;
  }
  const r = str(raw);
  if (!r) return null;
  // JSON Feed oracles carry only the raw RFC 3339 string.
  const d = parseDate(r);
  return d ?? 'unparsed';
}

// ---------------------------------------------------------------------------------------------------
// Comparison helpers

function str(v: unknown): string | null {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' ? null : t;
}

function obj(v: unknown): Json | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
}

function list<T = Json>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

function sameText(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  return norm(a) === norm(b);
}

/** Equal as URLs. A relative expected URL (gofeed leaves those alone) matches its resolved form. */
function sameUrl(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  try {
    return new URL(expected).href === new URL(actual).href;
  } catch {
    return actual.endsWith(expected.replace(/^\.?\//, ''));
  }
}

function sameSet(a: string[], b: string[]): boolean {
  const norm = (xs: string[]) => [...new Set(xs.map((x) => x.trim()))].sort().join('\u0000');
  return norm(a) === norm(b);
}

function sameUrlSet(expected: string[], actual: string[]): boolean {
  const e = [...new Set(expected)];
  const a = [...new Set(actual)];
  return e.length === a.length && e.every((x) => a.some((y) => sameUrl(x, y)));
}

function show(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

function printTable(tallies: Map<Field, Tally>, cases: number, perfect: number, dir: string): void {
  console.log(`Conformance against gofeed's expected outputs in ${dir}`);
  console.log(`${cases} cases, ${perfect} with every compared field passing\n`);
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`${'field'.padEnd(14)}${pad('pass', 7)}${pad('fail', 7)}${pad('score', 9)}`);
  let pass = 0;
  let fail = 0;
  for (const field of FIELDS) {
    const t = tallies.get(field)!;
    pass += t.pass;
    fail += t.fail;
    const total = t.pass + t.fail;
    console.log(`${field.padEnd(14)}${pad(t.pass, 7)}${pad(t.fail, 7)}${pad(total ? `${((100 * t.pass) / total).toFixed(1)}%` : '-', 9)}`);
  }
  const total = pass + fail;
  console.log(`${'total'.padEnd(14)}${pad(pass, 7)}${pad(fail, 7)}${pad(total ? `${((100 * pass) / total).toFixed(1)}%` : '-', 9)}`);
}

main();
