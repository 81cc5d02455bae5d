import { describe, expect, it } from 'vitest';
import { decodeBasicEntities, findFeedLinks, looksLikeHtml } from '../../src/sources/discover.js';

describe('looksLikeHtml', () => {
  it('recognises HTML documents, XHTML included', () => {
    expect(looksLikeHtml('<!DOCTYPE html><html><body></body></html>')).toBe(true);
    expect(looksLikeHtml('\uFEFF  <!doctype HTML>\n<html lang="pt-BR">')).toBe(true);
    expect(looksLikeHtml('<?xml version="1.0"?>\n<!-- gerado -->\n<html xmlns="http://www.w3.org/1999/xhtml">')).toBe(true);
    expect(looksLikeHtml('<html>')).toBe(true);
    expect(looksLikeHtml('<head><title>x</title></head>')).toBe(true);
  });

  it('does not mistake feeds for HTML', () => {
    expect(looksLikeHtml('<?xml version="1.0"?><rss version="2.0"><channel><title>html</title></channel></rss>')).toBe(false);
    expect(looksLikeHtml('<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" ""><rss version="0.91">')).toBe(false);
    expect(looksLikeHtml('<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;html&gt;</title></feed>')).toBe(false);
    expect(looksLikeHtml('{"version": "https://jsonfeed.org/version/1.1"}')).toBe(false);
    expect(looksLikeHtml('')).toBe(false);
  });
});

describe('findFeedLinks', () => {
  it('returns absolute feed URLs in page order, comment feeds last, without duplicates', () => {
    const html = `<html><head>
      <link rel="stylesheet" href="/style.css">
      <link rel="alternate" type="application/rss+xml" title="Site &raquo; Feed de comentários" href="/comments/feed/">
      <link rel="alternate" type="application/rss+xml" title="Site &raquo; Feed" href="/feed/">
      <link href="/feed/" type="application/rss+xml" rel="alternate">
      <LINK REL="Alternate" TYPE="application/atom+xml" HREF="atom.xml?a=1&amp;b=2">
      <link rel='alternate' type='application/feed+json' href='//cdn.site.example/feed.json'>
      <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">
      <link rel="alternate" hreflang="en" href="/en/">
    </head></html>`;
    expect(findFeedLinks(html, 'https://site.example/news/')).toEqual([
      'https://site.example/feed/',
      'https://site.example/news/atom.xml?a=1&b=2',
      'https://cdn.site.example/feed.json',
      'https://site.example/comments/feed/',
    ]);
  });

  it('honours <base href>', () => {
    const html = '<head><base href="https://other.example/dir/"><link rel="alternate" type="application/rss+xml" href="rss"></head>';
    expect(findFeedLinks(html, 'https://site.example/')).toEqual(['https://other.example/dir/rss']);
  });

  it('returns nothing for a page without feed links, or with broken ones', () => {
    expect(findFeedLinks('<html><head><title>x</title></head></html>', 'https://site.example/')).toEqual([]);
    expect(findFeedLinks('<link rel="alternate" type="application/rss+xml">', 'https://site.example/')).toEqual([]);
    expect(findFeedLinks('<link rel="alternate" type="application/rss+xml" href="http://[bad">', 'https://site.example/')).toEqual([]);
  });
});

describe('decodeBasicEntities', () => {
  it('decodes numeric and common named entities once', () => {
    expect(decodeBasicEntities('Don&#8217;t &amp; &#x2014; &hellip; &nbsp;')).toBe('Don’t & — … \u00a0');
    expect(decodeBasicEntities('&amp;lt;')).toBe('&lt;');
  });

  it('leaves unknown or impossible references alone', () => {
    expect(decodeBasicEntities('&bogus; &#99999999; &#xD800;')).toBe('&bogus; &#99999999; &#xD800;');
    expect(decodeBasicEntities('sem entidades')).toBe('sem entidades');
  });
});
