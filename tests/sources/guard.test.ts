import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { fetchFeed, fetchImage, fetchPage, type FetchOptions } from '../../src/sources/fetch.js';
import { blockedRange, parseAllowList } from '../../src/sources/guard.js';
import { SourceError } from '../../src/sources/types.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { gzipBomb, startInternalServer, type InternalServer } from '../helpers/internal-server.js';

const base: FetchOptions = { timeoutMs: 5000, maxBytes: 64 * 1024, userAgent: 'Manchete-test/1' };
const LOCAL = ['127.0.0.1/32'];

async function refused(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
  throw new Error('expected a SourceError');
}

describe('address classification (ipaddr.js ranges)', () => {
  it('refuses every non-public range, IPv4 and IPv6, and the IPv4-mapped forms', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.0.0.2', 'loopback'],
      ['10.0.0.5', 'private'],
      ['172.16.3.4', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['0.0.0.0', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['224.0.0.1', 'multicast'],
      ['240.0.0.1', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fd12:3456::1', 'unique-local'],
      ['fc00::1', 'unique-local'],
      ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:10.0.0.5', 'private'],
      ['::ffff:169.254.169.254', 'link-local'],
      ['[::1]', 'loopback'],
    ];
    for (const [addr, range] of cases) expect(blockedRange(addr), addr).toBe(range);
    expect(blockedRange('not-an-ip')).toBe('unparseable');
  });

  it('lets public addresses through', () => {
    for (const addr of ['8.8.8.8', '1.1.1.1', '200.147.67.142', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(blockedRange(addr), addr).toBeNull();
  });

  it('the allow-list opens exactly the CIDRs given, also for IPv4-mapped addresses', () => {
    const allow = parseAllowList('127.0.0.1/32, 10.1.2.0/24,fd00::/8');
    expect(blockedRange('127.0.0.1', allow)).toBeNull();
    expect(blockedRange('::ffff:127.0.0.1', allow)).toBeNull();
    expect(blockedRange('127.0.0.2', allow)).toBe('loopback');
    expect(blockedRange('10.1.2.200', allow)).toBeNull();
    expect(blockedRange('10.1.3.1', allow)).toBe('private');
    expect(blockedRange('fd00::5', allow)).toBeNull();
    expect(blockedRange('fc00::5', allow)).toBe('unique-local');
    expect(blockedRange('100.64.0.1', allow)).toBe('carrier-grade NAT');
    // A bare address is one host; a mapped CIDR is the IPv4 network it carries.
    expect(blockedRange('192.168.0.7', parseAllowList(['192.168.0.7']))).toBeNull();
    expect(blockedRange('192.168.0.8', parseAllowList(['192.168.0.7']))).toBe('private');
    expect(blockedRange('192.168.0.8', parseAllowList(['::ffff:192.168.0.0/120']))).toBeNull();
  });

  it('an invalid CIDR is a clear config error at start', () => {
    expect(() => parseAllowList('10.0.0.0/33')).toThrow(/FETCH_ALLOW_PRIVATE entry "10.0.0.0\/33" is not a CIDR/);
    let err: unknown;
    try {
      loadConfig({ FETCH_ALLOW_PRIVATE: '127.0.0.1/32,intranet' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain('FETCH_ALLOW_PRIVATE entry "intranet" is not a CIDR');
    expect(loadConfig({ FETCH_ALLOW_PRIVATE: '127.0.0.1/32,10.1.2.0/24' }).fetch.allowPrivate).toEqual(['127.0.0.1/32', '10.1.2.0/24']);
    expect(loadConfig({}).fetch.allowPrivate).toEqual([]);
  });
});

describe('the guarded fetcher over real sockets', () => {
  let site: FeedServer;
  let internal: InternalServer;
  let dir: string;
  beforeAll(async () => {
    site = await startFeedServer({ '/page': { body: '<html><title>ok</title></html>', contentType: 'text/html' } });
    internal = await startInternalServer();
    site.route('/to-internal', { redirect: { to: `${internal.origin}/admin`, status: 302 } });
    site.route('/feed-moved', { redirect: { to: `${internal.origin}/feed.xml`, status: 301 } });
    dir = mkdtempSync(join(tmpdir(), 'manchete-guard-'));
  });
  afterAll(async () => {
    await site.close();
    await internal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a private address from hostile input with one clear line, before connecting', async () => {
    const err = await refused(fetchPage(`${internal.origin}/admin`, { ...base, allowPrivate: LOCAL }));
    expect(err.details.kind).toBe('blocked');
    expect(err.message).toBe(
      `page ${internal.origin}/admin resolves to a loopback address (127.0.0.2); allow it with FETCH_ALLOW_PRIVATE if it is meant to be reached`,
    );
    expect(err.message.split('\n')).toHaveLength(1);
    expect(internal.connections).toBe(0);
  });

  it('checks every redirect hop: a public-looking (allowed) page that 302s to an internal one is refused', async () => {
    const err = await refused(fetchPage(site.urlFor('/to-internal'), { ...base, allowPrivate: LOCAL }));
    expect(err.details.kind).toBe('blocked');
    expect(err.message).toContain(`redirected from ${site.urlFor('/to-internal')}`);
    expect(internal.connections).toBe(0);
    expect(internal.hits).toBe(0);
  });

  it('a host name resolving to 127.0.0.1 (localhost) is blocked at connect time unless 127.0.0.1 is allowed', async () => {
    const port = new URL(site.origin).port;
    const before = site.requests.length;
    const err = await refused(fetchPage(`http://localhost:${port}/page`, base));
    expect(err.details.kind).toBe('blocked');
    expect(err.message).toMatch(new RegExp(`^page http://localhost:${port}/page resolves to a loopback address \\((127\\.0\\.0\\.1|::1)\\)`));
    expect(site.requests.length).toBe(before);
    // Its positive twin: with 127.0.0.1 allowed the same name gets through (::1 is skipped, not allowed).
    const ok = await fetchPage(`http://localhost:${port}/page`, { ...base, allowPrivate: LOCAL });
    expect(ok.text).toContain('<title>ok</title>');
  });

  it('an operator-configured feed may be on a private address, but its redirects may not', async () => {
    site.route('/feed.xml', { body: '<rss version="2.0"><channel><title>t</title></channel></rss>', contentType: 'application/rss+xml' });
    const out = await fetchFeed({ url: site.urlFor('/feed.xml'), etag: null, lastModified: null }, { ...base, trusted: true });
    expect(out.status).toBe('ok');
    const err = await refused(fetchFeed({ url: site.urlFor('/feed-moved'), etag: null, lastModified: null }, { ...base, trusted: true }));
    expect(err.details.kind).toBe('blocked');
    expect(internal.connections).toBe(0);
    // The same feed URL as hostile input (no allow-list) is refused on its first hop.
    expect((await refused(fetchFeed({ url: site.urlFor('/feed.xml'), etag: null, lastModified: null }, base))).details.kind).toBe('blocked');
  });

  it('local files only for operator-configured sources; never file: or a path from hostile input', async () => {
    const secret = join(dir, '.env');
    writeFileSync(secret, 'TELEGRAM_BOT_TOKEN=123456:SEGREDO_NUNCA_POSTADO_abcdefghijkl');
    for (const url of [pathToFileURL(secret).href, secret, 'file:///proc/self/cwd/.env']) {
      const err = await refused(fetchPage(url, { ...base, allowPrivate: LOCAL }));
      expect(err.details.kind, url).toBe('blocked');
      expect(err.message).toMatch(/is a local file; only sources the operator configured/);
      expect(err.message).not.toContain('SEGREDO');
    }
    expect((await refused(fetchPage('gopher://127.0.0.1/x', base))).message).toMatch(/unsupported scheme gopher:/);
    const feedFile = join(dir, 'feed.xml');
    writeFileSync(feedFile, '<rss version="2.0"><channel><title>t</title></channel></rss>');
    expect((await fetchFeed({ url: feedFile, etag: null, lastModified: null }, { ...base, trusted: true })).status).toBe('ok');
  });

  it('a redirect to file: is refused even for an operator-configured feed', async () => {
    site.route('/to-file', { redirect: { to: 'file:///etc/passwd', status: 302 } });
    const err = await refused(fetchFeed({ url: site.urlFor('/to-file'), etag: null, lastModified: null }, { ...base, trusted: true }));
    expect(err.message).toMatch(/redirected to file:\/\/\/etc\/passwd, which is not http\(s\)/);
  });

  it('an injected fetch is never called for a refused IP literal', async () => {
    let calls = 0;
    const fake = (async () => {
      calls++;
      return new Response('x');
    }) as typeof fetch;
    const err = await refused(fetchPage('http://10.0.0.5/x', { ...base, fetch: fake }));
    expect(err.message).toBe('page http://10.0.0.5/x resolves to a private address (10.0.0.5); allow it with FETCH_ALLOW_PRIVATE if it is meant to be reached');
    expect(calls).toBe(0);
  });
});

describe('fetchImage: streaming limit with decompression bounded while streaming', () => {
  let site: FeedServer;
  let bomb: Buffer;
  const INFLATED = 256 * 1024 * 1024;
  beforeAll(async () => {
    bomb = await gzipBomb(INFLATED);
    site = await startFeedServer({
      '/bomb.jpg': { body: bomb, headers: { 'content-encoding': 'gzip' }, contentType: 'image/jpeg' },
      '/raw-bomb.jpg': { body: bomb, contentType: 'image/jpeg' },
      '/ok.png': { body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), contentType: 'image/png' },
    });
  }, 60_000);
  afterAll(() => site.close());

  it('a gzip bomb (Content-Encoding or bare) is refused within the byte limit and memory stays bounded', async () => {
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const limit = 2 * 1024 * 1024;
    for (const path of ['/bomb.jpg', '/raw-bomb.jpg']) {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
      const err = await refused(fetchImage(site.urlFor(path), { ...base, maxBytes: limit, allowPrivate: LOCAL }));
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(err.details.kind, path).toBe('too-large');
      expect(err.message).toMatch(/^image .* (is larger than|unpacks to more than) 2 MB/);
      // Inflating it would take 256 MB; the download stops at the limit (with slack for the runtime's own noise).
      expect(peak - baseline, path).toBeLessThan(96 * 1024 * 1024);
    }
  });

  it('a normal image comes back with its bytes and type', async () => {
    const img = await fetchImage(site.urlFor('/ok.png'), { ...base, allowPrivate: LOCAL });
    expect(img.contentType).toBe('image/png');
    expect(Array.from(img.bytes.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });
});
