import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFeed, fetchPage, localPath, parseMaxAge } from '../../src/sources/fetch.js';
import type { FetchOptions } from '../../src/sources/fetch.js';
import { parseFeed } from '../../src/sources/parse.js';
import { SourceError } from '../../src/sources/types.js';
import type { FeedState } from '../../src/sources/types.js';
import { startFeedServer } from '../helpers/feed-server.js';
import type { FeedServer } from '../helpers/feed-server.js';

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Jornal</title><link>https://jornal.example/</link>
<item><title>Notícia um</title><link>https://jornal.example/1</link></item></channel></rss>`;

// The fake servers live on 127.0.0.1: these URLs are fetched as hostile input that the allow-list lets through.
const opts: FetchOptions = { timeoutMs: 2000, maxBytes: 64 * 1024, userAgent: 'Manchete-test/1', allowPrivate: ['127.0.0.1/32'] };
/** Local files are only read for operator-configured sources. */
const trusted: FetchOptions = { ...opts, trusted: true };
const fresh = (url: string): FeedState => ({ url, etag: null, lastModified: null });

/** Await a rejection and return it as a SourceError (failing the test otherwise). */
async function sourceError(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(async () => {
  await server.close();
});

describe('fetchFeed over HTTP', () => {
  it('returns the decoded body with its validators and max-age on 200', async () => {
    server.route('/ok.xml', {
      body: RSS,
      contentType: 'application/rss+xml; charset=utf-8',
      etag: '"v1"',
      lastModified: 'Mon, 24 Sep 2018 22:42:40 GMT',
      headers: { 'cache-control': 'public, max-age=300' },
    });
    const out = await fetchFeed(fresh(server.urlFor('/ok.xml')), opts);
    expect(out.status).toBe('ok');
    if (out.status !== 'ok') return;
    expect(out.text).toContain('Notícia um');
    expect(out.etag).toBe('"v1"');
    expect(out.lastModified).toBe('Mon, 24 Sep 2018 22:42:40 GMT');
    expect(out.maxAgeS).toBe(300);
    expect(out.finalUrl).toBe(server.urlFor('/ok.xml'));
    expect(out.permanentUrl).toBeNull();
    const sent = server.requests.at(-1)!;
    expect(sent.headers['user-agent']).toBe('Manchete-test/1');
    expect(sent.headers.accept).toContain('application/rss+xml');
  });

  it('sends If-None-Match and reports not-modified on a matching ETag', async () => {
    server.route('/etag.xml', { body: RSS, etag: '"abc"', headers: { 'cache-control': 'max-age=60' } });
    const out = await fetchFeed({ url: server.urlFor('/etag.xml'), etag: '"abc"', lastModified: null }, opts);
    expect(out).toEqual({ status: 'not-modified', finalUrl: server.urlFor('/etag.xml'), maxAgeS: 60 });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"abc"');
  });

  it('sends If-Modified-Since and reports not-modified on a matching Last-Modified', async () => {
    const lm = 'Tue, 25 Sep 2018 10:00:00 GMT';
    server.route('/lm.xml', { body: RSS, lastModified: lm });
    const out = await fetchFeed({ url: server.urlFor('/lm.xml'), etag: null, lastModified: lm }, opts);
    expect(out.status).toBe('not-modified');
    expect(server.requests.at(-1)!.headers['if-modified-since']).toBe(lm);
  });

  it('gets the body again when the ETag changed', async () => {
    server.route('/changed.xml', { body: RSS, etag: '"v2"' });
    const out = await fetchFeed({ url: server.urlFor('/changed.xml'), etag: '"v1"', lastModified: null }, opts);
    expect(out.status).toBe('ok');
    if (out.status === 'ok') expect(out.etag).toBe('"v2"');
  });

  it('follows a chain of 301/308 and reports the permanent URL', async () => {
    server.route('/old', { redirect: { to: '/older', status: 301 } });
    server.route('/older', { redirect: { to: '/new.xml', status: 308 } });
    server.route('/new.xml', { body: RSS });
    const out = await fetchFeed(fresh(server.urlFor('/old')), opts);
    expect(out.status).toBe('ok');
    if (out.status !== 'ok') return;
    expect(out.finalUrl).toBe(server.urlFor('/new.xml'));
    expect(out.permanentUrl).toBe(server.urlFor('/new.xml'));
  });

  it('follows a 302 but does not call it permanent', async () => {
    server.route('/moved-for-now', { redirect: { to: '/perm', status: 302 } });
    server.route('/perm', { redirect: { to: '/new.xml', status: 301 } });
    const out = await fetchFeed(fresh(server.urlFor('/moved-for-now')), opts);
    expect(out.status).toBe('ok');
    if (out.status !== 'ok') return;
    expect(out.finalUrl).toBe(server.urlFor('/new.xml'));
    expect(out.permanentUrl).toBeNull();
  });

  it('gives up after 5 redirects, naming the loop', async () => {
    server.route('/loop', { redirect: { to: '/loop', status: 301 } });
    const err = await sourceError(fetchFeed(fresh(server.urlFor('/loop')), opts));
    expect(err.details.kind).toBe('http');
    expect(err.message).toMatch(/redirected more than 5 times/);
  });

  it('reports a redirect without Location', async () => {
    server.route('/no-location', { status: 301 });
    const err = await sourceError(fetchFeed(fresh(server.urlFor('/no-location')), opts));
    expect(err.message).toMatch(/without a Location header/);
  });

  it('times out a server that never answers, with a message naming the URL and the limit', async () => {
    server.route('/hang', { hang: true });
    const url = server.urlFor('/hang');
    const err = await sourceError(fetchFeed(fresh(url), { ...opts, timeoutMs: 200 }));
    expect(err.details.kind).toBe('timeout');
    expect(err.message).toContain(`feed ${url} did not answer within 0.2 s`);
    expect(err.url).toBe(url);
  });

  it('times out a body that stalls after the headers', async () => {
    server.route('/stall', { body: RSS, hangAfterHeaders: true });
    const err = await sourceError(fetchFeed(fresh(server.urlFor('/stall')), { ...opts, timeoutMs: 200 }));
    expect(err.details.kind).toBe('timeout');
  });

  it('refuses a body announced larger than the limit without reading it', async () => {
    server.route('/big-announced', { body: 'x'.repeat(5000) });
    const url = server.urlFor('/big-announced');
    const err = await sourceError(fetchFeed(fresh(url), { ...opts, maxBytes: 1024 }));
    expect(err.details.kind).toBe('too-large');
    expect(err.message).toContain(`feed ${url} is larger than 1 KB`);
  });

  it('stops a chunked download once it passes the limit', async () => {
    server.route('/big-chunked', { body: 'x'.repeat(300 * 1024), chunked: true });
    const url = server.urlFor('/big-chunked');
    const err = await sourceError(fetchFeed(fresh(url), { ...opts, maxBytes: 100 * 1024 }));
    expect(err.details.kind).toBe('too-large');
    expect(err.message).toBe(`feed ${url} is larger than 100 KB; the download was stopped (FEED_MAX_BYTES sets the limit)`);
  });

  it('turns HTTP 500 into an http error with the status', async () => {
    server.route('/broken', { status: 500, body: 'oops' });
    const url = server.urlFor('/broken');
    const err = await sourceError(fetchFeed(fresh(url), opts));
    expect(err.details).toMatchObject({ kind: 'http', status: 500 });
    expect(err.message).toMatch(new RegExp(`^feed ${url} answered HTTP 500`));
  });

  it('turns 404 into an http error that says to check the address', async () => {
    const err = await sourceError(fetchFeed(fresh(server.urlFor('/nowhere')), opts));
    expect(err.details.status).toBe(404);
    expect(err.message).toMatch(/check the address/);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = await startFeedServer();
    const url = closed.urlFor('/feed');
    await closed.close();
    const err = await sourceError(fetchFeed(fresh(url), opts));
    expect(err.details.kind).toBe('network');
    expect(err.message).toMatch(/could not be reached \(ECONNREFUSED/);
  });

  it('rejects schemes other than http(s) and file', async () => {
    const err = await sourceError(fetchFeed(fresh('ftp://example.com/feed'), opts));
    expect(err.message).toMatch(/unsupported scheme ftp:/);
  });

  it('decodes ISO-8859-1 bytes served without any charset', async () => {
    const latin1 = Buffer.from(
      '<rss version="2.0"><channel><title>Política</title><item><title>Eleição em São Paulo</title></item></channel></rss>',
      'latin1',
    );
    server.route('/latin1.xml', { body: latin1, contentType: 'text/xml' });
    const out = await fetchFeed(fresh(server.urlFor('/latin1.xml')), opts);
    if (out.status !== 'ok') throw new Error('expected ok');
    expect(parseFeed(out.text, out.finalUrl).items[0]!.title).toBe('Eleição em São Paulo');
  });

  it('decodes windows-1252 announced in Content-Type (curly quotes and the euro sign)', async () => {
    const bytes = Uint8Array.from([
      ...Buffer.from('<rss version="2.0"><channel><item><title>', 'latin1'),
      0x93, 0x41, 0x94, 0x20, 0x80, 0x35,
      ...Buffer.from('</title></item></channel></rss>', 'latin1'),
    ]);
    server.route('/cp1252.xml', { body: bytes, contentType: 'application/rss+xml; charset=windows-1252' });
    const out = await fetchFeed(fresh(server.urlFor('/cp1252.xml')), opts);
    if (out.status !== 'ok') throw new Error('expected ok');
    expect(parseFeed(out.text, out.finalUrl).items[0]!.title).toBe('“A” €5');
  });

  it('decodes UTF-16 with a BOM even when the header claims UTF-8', async () => {
    const text = '<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><item><title>Ação</title></item></channel></rss>';
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    server.route('/utf16.xml', { body: bytes, contentType: 'text/xml; charset=utf-8' });
    const out = await fetchFeed(fresh(server.urlFor('/utf16.xml')), opts);
    if (out.status !== 'ok') throw new Error('expected ok');
    expect(out.text.startsWith('<?xml')).toBe(true);
    expect(parseFeed(out.text, out.finalUrl).items[0]!.title).toBe('Ação');
  });

  it('gives an HTML page served as a feed to the parser, which names the advertised feed', async () => {
    server.route('/site/', {
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html><head><title>Site</title>
        <link rel="alternate" type="application/rss+xml" title="Feed" href="/site/feed/">
        </head><body>Olá</body></html>`,
    });
    const url = server.urlFor('/site/');
    const out = await fetchFeed(fresh(url), opts);
    if (out.status !== 'ok') throw new Error('expected ok');
    let err: unknown;
    try {
      parseFeed(out.text, out.finalUrl);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourceError);
    const e = err as SourceError;
    expect(e.details.kind).toBe('not-a-feed');
    expect(e.details.alternates).toEqual([server.urlFor('/site/feed/')]);
    expect(e.message).toBe(`${url} is an HTML page, not a feed; it advertises ${server.urlFor('/site/feed/')} — use that URL`);
  });

  it('unpacks a gzip body served without Content-Encoding', async () => {
    server.route('/gz.xml', { body: gzipSync(Buffer.from(RSS)), contentType: 'application/octet-stream' });
    const out = await fetchFeed(fresh(server.urlFor('/gz.xml')), opts);
    if (out.status !== 'ok') throw new Error('expected ok');
    expect(out.text).toContain('<rss');
  });

  it('uses an injected fetch, and stops when the caller aborts', async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      calls.push(String(input));
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    };
    const p = fetchFeed(fresh('https://feeds.example/rss'), { ...opts, fetch: fakeFetch, signal: controller.signal });
    controller.abort();
    const err = await sourceError(p);
    expect(calls).toEqual(['https://feeds.example/rss']);
    expect(err.message).toMatch(/was cancelled/);
  });
});

describe('fetchPage', () => {
  it('returns the HTML, its content type and the URL after redirects', async () => {
    server.route('/story', { redirect: { to: '/story/', status: 301 } });
    server.route('/story/', { body: '<html><head><meta charset="iso-8859-1"></head><body>x</body></html>', contentType: 'text/html' });
    const page = await fetchPage(server.urlFor('/story'), opts);
    expect(page.finalUrl).toBe(server.urlFor('/story/'));
    expect(page.contentType).toBe('text/html');
    expect(page.text).toContain('<body>x</body>');
    expect(server.requests.at(-1)!.headers.accept).toContain('text/html');
  });

  it('names the page (not a feed) in its errors', async () => {
    server.route('/gone', { status: 410 });
    const err = await sourceError(fetchPage(server.urlFor('/gone'), opts));
    expect(err.message).toMatch(/^page .* answered HTTP 410/);
  });
});

describe('fetchFeed on local files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'manchete-fetch-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a path and reports not-modified when its mtime did not change', async () => {
    const file = join(dir, 'feed.xml');
    writeFileSync(file, RSS);
    const first = await fetchFeed(fresh(file), trusted);
    if (first.status !== 'ok') throw new Error('expected ok');
    expect(first.text).toContain('Jornal');
    expect(first.finalUrl).toBe(pathToFileURL(file).href);
    const again = await fetchFeed({ url: file, etag: null, lastModified: first.lastModified }, trusted);
    expect(again.status).toBe('not-modified');
  });

  it('reads a file:// URL', async () => {
    const file = join(dir, 'url.xml');
    writeFileSync(file, RSS);
    const out = await fetchFeed(fresh(pathToFileURL(file).href), trusted);
    expect(out.status).toBe('ok');
  });

  it('says clearly when the file does not exist', async () => {
    const file = join(dir, 'missing.xml');
    const err = await sourceError(fetchFeed(fresh(file), trusted));
    expect(err.details.kind).toBe('file');
    expect(err.message).toBe(`feed file ${file} does not exist; check the path`);
  });

  it('refuses a directory and a file over the limit', async () => {
    const sub = join(dir, 'folder');
    mkdirSync(sub);
    expect((await sourceError(fetchFeed(fresh(sub), trusted))).details.kind).toBe('file');
    const big = join(dir, 'big.xml');
    writeFileSync(big, 'x'.repeat(2048));
    const err = await sourceError(fetchFeed(fresh(big), { ...trusted, maxBytes: 1024 }));
    expect(err.details.kind).toBe('too-large');
  });
});

describe('localPath', () => {
  it('treats paths and file URLs as local, URLs with a scheme as remote', () => {
    expect(localPath('examples/feed.xml')).toMatch(/examples\/feed\.xml$/);
    expect(localPath('/tmp/feed.xml')).toBe('/tmp/feed.xml');
    expect(localPath('file:///tmp/feed.xml')).toBe('/tmp/feed.xml');
    expect(localPath('https://site.example/feed')).toBeNull();
    expect(localPath('http://site.example/feed')).toBeNull();
  });
});

describe('parseMaxAge', () => {
  it('reads max-age and ignores what cannot be cached', () => {
    expect(parseMaxAge('public, max-age=600')).toBe(600);
    expect(parseMaxAge('max-age="120"')).toBe(120);
    expect(parseMaxAge('no-store, max-age=600')).toBeNull();
    expect(parseMaxAge('no-cache')).toBeNull();
    expect(parseMaxAge('max-age=abc')).toBeNull();
    expect(parseMaxAge('max-age=-5')).toBeNull();
    expect(parseMaxAge(null)).toBeNull();
    expect(parseMaxAge('s-maxage=30')).toBeNull();
  });
});
