/**
 * No-crash pass over the third-party corpora in ../shared/corpora: every feed-like file (XML, RSS, Atom,
 * RDF, JSON, and HTML pages given as feeds) goes through the local-file fetch and the parser, and either
 * parses or fails with a SourceError that says something. Anything else (a TypeError, a hang, an empty
 * message) is a bug. Expected-output files of other projects are not inputs and are skipped.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fetchFeed } from '../src/sources/fetch.js';
import { parseFeed } from '../src/sources/parse.js';
import { SourceError } from '../src/sources/types.js';
import type { ParsedFeed } from '../src/sources/types.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const corpora = resolve(repoRoot, '../shared/corpora');
const present = existsSync(corpora);

const FEED_LIKE = /\.(xml|rss|atom|rdf|json|html?)$/i;

/** Other projects' expected outputs and metadata: oracles, not inputs. */
function isOracle(path: string): boolean {
  const name = path.split('/').pop()!;
  if (/\.serde\.json$|_expected\.json$|^expected(-metadata)?\.|^EXPECT|^README|^LICENSE/i.test(name)) return true;
  if (path.includes('/rss-parser/test/output/')) return true;
  // gofeed: X.json beside X.xml is the expected parse of X.xml.
  if (name.endsWith('.json') && existsSync(path.slice(0, -5) + '.xml')) return true;
  return false;
}

function feedFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (FEED_LIKE.test(name) && !isOracle(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

type Outcome = { file: string; feed?: ParsedFeed; error?: SourceError; crash?: unknown };

async function ingest(file: string): Promise<Outcome> {
  const rel = relative(corpora, file);
  try {
    const got = await fetchFeed(
      { url: file, etag: null, lastModified: null },
      { timeoutMs: 5000, maxBytes: 5 * 1024 * 1024, userAgent: 'Manchete-test', trusted: true },
    );
    if (got.status !== 'ok') return { file: rel, crash: new Error('a first read answered not-modified') };
    return { file: rel, feed: parseFeed(got.text, got.finalUrl) };
  } catch (err) {
    return err instanceof SourceError ? { file: rel, error: err } : { file: rel, crash: err };
  }
}

describe.skipIf(!present)(`corpora no-crash pass${present ? '' : ' (skipped: ../shared/corpora is absent)'}`, () => {
  const files = present ? feedFiles(corpora) : [];
  const folders = [...new Set(files.map((f) => relative(corpora, f).split('/')[0]!))];

  it('finds feed files to read', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it.each(folders)('%s: every file parses or fails with a clear SourceError', async (folder) => {
    const outcomes = await Promise.all(files.filter((f) => relative(corpora, f).startsWith(`${folder}/`)).map(ingest));
    const crashes = outcomes.filter((o) => o.crash !== undefined).map((o) => `${o.file}: ${String(o.crash)}`);
    const silent = outcomes.filter((o) => o.error && !o.error.message.trim()).map((o) => o.file);
    expect(crashes).toEqual([]);
    expect(silent).toEqual([]);
    for (const o of outcomes) {
      if (o.error) {
        expect(o.error.details.kind, o.file).toBeDefined();
        expect(o.error.message, o.file).not.toContain('\n');
      }
    }
    // An HTML page is never a feed; a folder of feeds where nothing parses would mean a broken reader.
    const pages = outcomes.filter((o) => /\.html?$/i.test(o.file));
    expect(pages.filter((o) => o.error?.details.kind !== 'not-a-feed').map((o) => o.file)).toEqual([]);
    if (pages.length < outcomes.length) expect(outcomes.some((o) => o.feed)).toBe(true);
  });

  it('reads the hard cases: UTF-16, gzip, whitespace before the declaration, HTML given as a feed', async () => {
    const at = (p: string) => ingest(join(corpora, p));
    const utf16 = await at('simplepie/tests/data/feed-utf16le.xml');
    expect(utf16.feed?.items.length).toBeGreaterThan(0);
    const utf16be = await at('simplepie/tests/data/feed-utf16be.xml');
    expect(utf16be.feed?.items.length).toBeGreaterThan(0);
    const gz = await at('node-feedparser/test/feeds/invalid-characters-gzipped.xml');
    expect(gz.feed?.items.length).toBeGreaterThan(0);
    const spaced = await at('simplepie/tests/data/feed-with-whitespace-before-xml-declaration.xml');
    expect(spaced.feed).toBeDefined();
    const html = await at('node-feedparser/test/feeds/notafeed.html');
    expect(html.error?.details.kind).toBe('not-a-feed');
  });
});
