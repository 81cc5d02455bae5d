import { describe, expect, it } from 'vitest';
import { discoverHub, parseLinkHeader, postToHub, renewMarginMs } from '../../src/sources/websub.js';
import { startFeedServer } from '../helpers/feed-server.js';

const BASE = 'https://site.example/feed.xml';

describe('discoverHub', () => {
  it('reads atom:link rel="hub" and rel="self" in an RSS channel', () => {
    const rss = `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>
      <atom:link rel="self" type="application/rss+xml" href="https://site.example/feed/"/>
      <atom:link href='https://pubsubhubbub.appspot.com/' rel='hub' />
      <item><atom:link rel="hub" href="https://item-level.example/"/></item></channel></rss>`;
    expect(discoverHub(rss, null, BASE)).toEqual({ hubs: ['https://pubsubhubbub.appspot.com/'], self: 'https://site.example/feed/' });
  });

  it('reads <link rel="hub"> in Atom, resolving relative hrefs and entities', () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="alternate" href="/"/><link rel="hub" href="/hub?a=1&amp;b=2"/><link rel="self" href="atom.xml"/><entry><title>x</title></entry></feed>`;
    expect(discoverHub(atom, null, BASE)).toEqual({ hubs: ['https://site.example/hub?a=1&b=2'], self: 'https://site.example/atom.xml' });
  });

  it('reads the HTTP Link header, and a JSON Feed hubs list', () => {
    expect(discoverHub('<rss><channel></channel></rss>', '<https://hub.example/>; rel="hub", <https://site.example/f>; rel=self', BASE)).toEqual({ hubs: ['https://hub.example/'], self: 'https://site.example/f' });
    const jf = JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', feed_url: 'https://site.example/feed.json', hubs: [{ type: 'WebSub', url: 'https://hub.example/websub' }], items: [] });
    expect(discoverHub(jf, null, BASE)).toEqual({ hubs: ['https://hub.example/websub'], self: 'https://site.example/feed.json' });
  });

  it('ignores non-http hubs, links without rel or href, and hubs past the head of the feed', () => {
    const rss = `<rss><channel><link>https://site.example/</link><atom:link rel="hub" href="javascript:alert(1)"/><atom:link rel="hub"/><item></item><atom:link rel="hub" href="https://late.example/"/></channel></rss>`;
    expect(discoverHub(rss, null, BASE)).toEqual({ hubs: [], self: null });
    expect(discoverHub(`<rss><channel>${' '.repeat(70 * 1024)}<atom:link rel="hub" href="https://far.example/"/></channel></rss>`, null, BASE).hubs).toEqual([]);
  });

  it('is linear on hostile text (no backtracking): a megabyte of unclosed tags reads in well under a second', () => {
    const evil = `<rss><channel>${'<atom:link rel="hub" href="'.repeat(40_000)}`;
    const t0 = performance.now();
    discoverHub(evil, `${'<'.repeat(100_000)}`, BASE);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('parseLinkHeader', () => {
  it('splits several links with several parameters', () => {
    expect(parseLinkHeader('<https://a/>; rel="hub"; title="x", <https://b/>;rel=self')).toEqual([
      { href: 'https://a/', rel: 'hub' },
      { href: 'https://b/', rel: 'self' },
    ]);
    expect(parseLinkHeader('garbage')).toEqual([]);
  });
});

describe('renewMarginMs', () => {
  it('renews a fifth of the lease before its end, at most a day before', () => {
    expect(renewMarginMs(10)).toBe(2_000);
    expect(renewMarginMs(7 * 86_400)).toBe(86_400_000);
  });
});

describe('postToHub', () => {
  const opts = { timeoutMs: 2_000, userAgent: 'test' };
  it('refuses a hub on a private address unless FETCH_ALLOW_PRIVATE allows it, and sends the form when allowed', async () => {
    const server = await startFeedServer({ '/': { status: 202 } });
    try {
      await expect(postToHub(server.urlFor('/'), { 'hub.mode': 'subscribe' }, opts)).rejects.toMatchObject({ details: { kind: 'blocked' } });
      await expect(postToHub('http://10.0.0.1/', { 'hub.mode': 'subscribe' }, opts)).rejects.toThrow('FETCH_ALLOW_PRIVATE');
      await expect(postToHub('file:///etc/passwd', {}, opts)).rejects.toMatchObject({ details: { kind: 'blocked' } });
      expect(server.requests).toHaveLength(0);
      await postToHub(server.urlFor('/'), { 'hub.mode': 'subscribe', 'hub.topic': 'https://t/' }, { ...opts, allowPrivate: ['127.0.0.1/32'] });
      expect(server.requests).toMatchObject([{ method: 'POST', path: '/' }]);
    } finally {
      await server.close();
    }
  });

  it('a redirect or an error status is a failure (redirects are not followed)', async () => {
    const server = await startFeedServer({ '/moved': { redirect: { to: '/', status: 307 } }, '/down': { status: 503 } });
    try {
      const allow = { ...opts, allowPrivate: ['127.0.0.1/32'] };
      await expect(postToHub(server.urlFor('/moved'), { 'hub.mode': 'subscribe' }, allow)).rejects.toThrow('HTTP 307');
      await expect(postToHub(server.urlFor('/down'), { 'hub.mode': 'subscribe' }, allow)).rejects.toThrow('HTTP 503');
      expect(server.requests.map((r) => r.path)).toEqual(['/moved', '/down']);
    } finally {
      await server.close();
    }
  });
});
